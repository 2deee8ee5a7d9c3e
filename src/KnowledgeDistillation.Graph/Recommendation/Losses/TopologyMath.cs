using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Recommendation;

/// <summary>Shared pieces of the topology terms (Kang et al. 2021): cosine similarity matrices and the batch's entities.</summary>
public static class TopologyMath
{
    /// <summary>
    /// The cosine matrix <c>sim(A, B)[a, b] = A_a · B_b / (‖A_a‖ ‖B_b‖)</c> [rows of A, rows of B] (the official <c>sim</c>;
    /// a zero row gives non-finite values, as there).
    /// </summary>
    /// <param name="a">[n, d].</param>
    /// <param name="b">[m, d].</param>
    public static Tensor Cosine(Tensor a, Tensor b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        Guard.Rank(a, 2, nameof(a), "[rows, d]");
        Guard.Rank(b, 2, nameof(b), "[rows, d]");
        if (a.shape[1] != b.shape[1])
        {
            throw new ArgumentException($"Both operands need the same width; got {Guard.Shape(a)} and {Guard.Shape(b)}.", nameof(b));
        }
        using var scope = NewDisposeScope();
        var na = a.pow(2).sum(1, keepdim: true).rsqrt();
        var nb = b.pow(2).sum(1, keepdim: true).rsqrt();
        return (a.matmul(b.t()) * na * nb.t()).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The batch's distinct users (column 0) and distinct items (columns 1 and 2: positives and negatives), ascending, as the
    /// official code's <c>unique()</c>.
    /// </summary>
    /// <param name="triples">int64 [B, 3] (user, positive, negative).</param>
    public static (Tensor Users, Tensor Items) BatchEntities(Tensor triples)
    {
        RecommenderParticipant.CheckTriples(triples, nameof(triples));
        var users = triples.select(1, 0).unique(sorted: true).output;
        var items = triples.narrow(1, 1, 2).reshape(-1).unique(sorted: true).output;
        return (users, items);
    }

    /// <summary>Rows of the batch's entities from a participant's tables: <c>[users[batchUsers]; items[batchItems]]</c>.</summary>
    /// <param name="output">The participant's output (features users and items).</param>
    /// <param name="participant">Its name (for messages).</param>
    /// <param name="users">Distinct user ids.</param>
    /// <param name="items">Distinct item ids.</param>
    public static Tensor EntityRows(ModelOutput output, string participant, Tensor users, Tensor items)
    {
        ArgumentNullException.ThrowIfNull(output);
        var u = output.Feature(RecommenderParticipant.Users, participant);
        var i = output.Feature(RecommenderParticipant.Items, participant);
        return cat(new[] { u.index_select(0, users), i.index_select(0, items) });
    }
}
