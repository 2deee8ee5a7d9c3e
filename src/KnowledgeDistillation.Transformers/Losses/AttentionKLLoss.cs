using KnowledgeDistillation.Losses;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Transformers.Losses;

/// <summary>
/// Attention-probability distillation (Aguilar et al., AAAI 2020): for each pair of layers,
/// <c>(1 / (A |x|)) sum_h sum_t KL(a^T_{h,t} || a^S_{h,t})</c> over the A heads and the |x| real (unpadded) query tokens of a
/// sentence, averaged over the batch; the KL sums over keys, padded keys (probability 0 in both) add nothing. Summed over
/// the pairs of the map. The teacher's attention is the target. Student and teacher need the same number of heads.
/// </summary>
public sealed class AttentionKLLoss : TransformerLayerLoss
{
    private const double Tiny = 1e-30;

    /// <summary>Creates the term.</summary>
    /// <param name="map">Pairs of layers (>= 1).</param>
    /// <param name="student">Student participant.</param>
    /// <param name="teacher">Teacher participant.</param>
    /// <param name="detachTeacher">Whether the teacher's attention is detached.</param>
    /// <param name="name">The term's name.</param>
    public AttentionKLLoss(LayerMap map, string student = "student", string teacher = "teacher", bool detachTeacher = true, string name = "attention_kl")
        : base(name, map, student, teacher, detachTeacher)
    {
        map.Check(int.MaxValue, int.MaxValue, 1, nameof(map));
    }

    /// <summary>The value for one pair of attention maps.</summary>
    /// <param name="student">Student probabilities <c>[batch, heads, queries, keys]</c>.</param>
    /// <param name="teacher">Teacher probabilities, same shape.</param>
    /// <param name="mask">1 for real tokens, 0 for padding, <c>[batch, tokens]</c>; every row needs a real token.</param>
    /// <returns>A scalar.</returns>
    public static Tensor Value(Tensor student, Tensor teacher, Tensor mask)
    {
        Guard.Rank(student, 4, nameof(student), "[batch, heads, queries, keys]");
        Guard.FloatingPoint(student, nameof(student));
        Guard.SameShape(teacher, nameof(teacher), student, nameof(student));
        if (student.shape[2] != student.shape[3])
        {
            throw new ArgumentException($"Self-attention maps are square in the tokens; got {Guard.Shape(student)}.", nameof(student));
        }

        CheckMask(mask, student.shape[0], student.shape[2]);
        using var scope = NewDisposeScope();
        var t = teacher.to(student.dtype);
        var m = mask.to(student.dtype);
        var kl = (t * t.clamp_min(Tiny).log() - t * student.clamp_min(Tiny).log()).sum(-1);
        var perSentence = (kl * m.unsqueeze(1)).sum(new long[] { 1, 2 }) / (m.sum(1) * student.shape[1]);
        return perSentence.mean().MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    protected override string FeatureName(int layer) => BertFeatures.Attention(layer);

    /// <inheritdoc />
    protected override Tensor Pair(int studentLayer, Tensor student, Tensor teacher, Tensor mask)
    {
        if (student.dim() == 4 && teacher.dim() == 4 && student.shape[1] != teacher.shape[1])
        {
            throw new ArgumentException(
                $"Attention of student layer {studentLayer} has {student.shape[1]} heads and the teacher's {teacher.shape[1]}; attention distillation needs equal head counts.",
                nameof(student));
        }

        return Value(student, teacher, mask);
    }
}
