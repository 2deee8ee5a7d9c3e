using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.KnowledgeGraphs;

/// <summary>
/// DualDE's embedding-structure distance (eq. 5): per triple, the angle <c>A = cos(h, t)</c> and length ratio <c>L = ‖h‖/‖t‖</c>
/// of the whole entity rows, compared between student and teacher with Huber: <c>d = l(A_S − A_T) + l(L_S − L_T)</c>.
/// Both statistics are dimension-free, so a 64-dimensional student is compared with a 500-dimensional teacher.
/// </summary>
public static class EmbeddingStructure
{
    /// <summary>cos(h, t) per row: [..].</summary>
    /// <param name="heads">Head rows [.., width].</param>
    /// <param name="tails">Tail rows [.., width].</param>
    public static Tensor Angle(Tensor heads, Tensor tails)
    {
        Check(heads, tails);
        return (heads * tails).sum(-1) / (heads.norm(-1) * tails.norm(-1));
    }

    /// <summary>‖h‖ / ‖t‖ per row: [..].</summary>
    /// <param name="heads">Head rows [.., width].</param>
    /// <param name="tails">Tail rows [.., width].</param>
    public static Tensor LengthRatio(Tensor heads, Tensor tails)
    {
        Check(heads, tails);
        return heads.norm(-1) / tails.norm(-1);
    }

    /// <summary>The structure distance per triple [B].</summary>
    /// <param name="studentHeads">Student head rows [B, dS].</param>
    /// <param name="studentTails">Student tail rows [B, dS].</param>
    /// <param name="teacherHeads">Teacher head rows [B, dT].</param>
    /// <param name="teacherTails">Teacher tail rows [B, dT].</param>
    public static Tensor Distance(Tensor studentHeads, Tensor studentTails, Tensor teacherHeads, Tensor teacherTails)
    {
        Check(studentHeads, studentTails);
        Check(teacherHeads, teacherTails);
        Guard.BatchSize(teacherHeads, studentHeads.shape[0], nameof(teacherHeads));
        return KgeLossMath.Huber(Angle(studentHeads, studentTails) - Angle(teacherHeads, teacherTails))
            + KgeLossMath.Huber(LengthRatio(studentHeads, studentTails) - LengthRatio(teacherHeads, teacherTails));
    }

    private static void Check(Tensor heads, Tensor tails)
    {
        ArgumentNullException.ThrowIfNull(heads);
        ArgumentNullException.ThrowIfNull(tails);
        if (heads.dim() < 1 || !heads.shape.SequenceEqual(tails.shape))
        {
            throw new ArgumentException($"Head rows {Guard.Shape(heads)} and tail rows {Guard.Shape(tails)} must have the same shape [.., width].", nameof(tails));
        }
    }
}
