namespace KnowledgeDistillation.Graph.KnowledgeGraphs.Multilingual;

/// <summary>Which unaligned rows <see cref="Csls.MutualNearest"/> may pair with a row.</summary>
public enum CslsCandidates
{
    /// <summary>
    /// Only rows among its <c>k</c> nearest neighbours over <em>all</em> rows of the other table (aligned ones included), as
    /// the released KEnS code's <c>extend_seed_align_links</c> does: a row whose neighbours are all aligned already gets no
    /// new pair, which keeps self-learning from aligning every remaining entity round after round.
    /// </summary>
    Neighbourhood,

    /// <summary>Any unaligned row of the other table (the CSLS-best among all of them).</summary>
    All,
}
