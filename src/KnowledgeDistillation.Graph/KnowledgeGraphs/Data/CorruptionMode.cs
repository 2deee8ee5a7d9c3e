namespace KnowledgeDistillation.Graph.KnowledgeGraphs;

/// <summary>Which side of a positive triple negative sampling replaces.</summary>
public enum CorruptionMode
{
    /// <summary>Alternate by batch: even batches corrupt tails, odd batches corrupt heads (as in RotatE's and NeuralKG's samplers).</summary>
    Alternate,

    /// <summary>Always replace the tail.</summary>
    Tail,

    /// <summary>Always replace the head.</summary>
    Head,

    /// <summary>
    /// Per triple, replace the head with probability <c>tph / (tph + hpt)</c> of its relation and the tail otherwise
    /// (Wang et al. 2014, "Knowledge Graph Embedding by Translating on Hyperplanes", AAAI; PyKEEN's
    /// <c>BernoulliNegativeSampler</c>): tph is the mean number of tails per (head, relation) pair, hpt the mean number of
    /// heads per (relation, tail) pair, both over the training triples. One-to-many relations then corrupt the head more
    /// often, which makes fewer false negatives. Batches carry a per-triple side (<see cref="TripleBatchSource.CorruptHeadKey"/> [B]).
    /// </summary>
    Bernoulli,
}
