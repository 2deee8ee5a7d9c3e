using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace KnowledgeDistillation.Detection.Losses;

/// <summary>
/// ICD's one-layer decoder (no self-attention): instance queries attend to the teacher's FPN positions, with keys
/// <c>K = F^T + Linear(PE)</c> and values <c>V = F^T</c>; per head h, logits <c>A_h = (W_q q)_h (W_k K)_h^T / √d</c> (−∞ at
/// padded positions); <c>q' = LN(q + W_o·MHA)</c>, <c>q'' = LN(q' + FFN(q'))</c>, FFN D → 4D → D with ReLU.
/// </summary>
public sealed class IcdDecoder : Module<Tensor, Tensor, Tensor, Tensor, IcdDecoderOutput>
{
    private readonly Linear positionProjection;
    private readonly Linear query;
    private readonly Linear key;
    private readonly Linear value;
    private readonly Linear output;
    private readonly LayerNorm norm1;
    private readonly Linear ffn1;
    private readonly Linear ffn2;
    private readonly LayerNorm norm2;

    /// <summary>Creates the decoder.</summary>
    /// <param name="dimension">D (a multiple of <paramref name="heads"/>).</param>
    /// <param name="heads">H.</param>
    public IcdDecoder(int dimension, int heads)
        : base(nameof(IcdDecoder))
    {
        if (heads < 1 || dimension < heads || dimension % heads != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(dimension), dimension, $"The dimension must be a positive multiple of the head count ({heads}).");
        }

        Dimension = dimension;
        Heads = heads;
        positionProjection = Linear(dimension, dimension);
        query = Linear(dimension, dimension);
        key = Linear(dimension, dimension);
        value = Linear(dimension, dimension);
        output = Linear(dimension, dimension);
        norm1 = LayerNorm(dimension);
        ffn1 = Linear(dimension, 4 * dimension);
        ffn2 = Linear(4 * dimension, dimension);
        norm2 = LayerNorm(dimension);
        RegisterComponents();
    }

    /// <summary>D.</summary>
    public int Dimension { get; }

    /// <summary>H.</summary>
    public int Heads { get; }

    /// <summary>The teacher-side value projection W_v (trained by the auxiliary task only).</summary>
    public Linear ValueProjection => value;

    /// <summary>The query projection W_q.</summary>
    public Linear QueryProjection => query;

    /// <summary>The key projection W_k.</summary>
    public Linear KeyProjection => key;

    /// <summary>Runs the decoder.</summary>
    /// <param name="queries">Instance queries <c>[B, M, D]</c>.</param>
    /// <param name="teacherFeatures">Teacher FPN positions <c>[B, S, D]</c>.</param>
    /// <param name="positionEmbedding">Sine embedding of each position <c>[B, S, D]</c>.</param>
    /// <param name="padding">True at padded positions <c>[B, S]</c>.</param>
    public override IcdDecoderOutput forward(Tensor queries, Tensor teacherFeatures, Tensor positionEmbedding, Tensor padding)
    {
        ArgumentNullException.ThrowIfNull(queries);
        ArgumentNullException.ThrowIfNull(teacherFeatures);
        var (b, m, s) = (queries.shape[0], queries.shape[1], teacherFeatures.shape[1]);
        if (queries.dim() != 3 || queries.shape[2] != Dimension || teacherFeatures.dim() != 3 || teacherFeatures.shape[0] != b || teacherFeatures.shape[2] != Dimension
            || !positionEmbedding.shape.SequenceEqual(teacherFeatures.shape) || !padding.shape.SequenceEqual(new[] { b, s }))
        {
            throw new ArgumentException($"Need queries [B, M, {Dimension}], teacher features and position embedding [B, S, {Dimension}], padding [B, S]; got {Guard.Shape(queries)}, {Guard.Shape(teacherFeatures)}, {Guard.Shape(positionEmbedding)}, {Guard.Shape(padding)}.", nameof(queries));
        }

        using var scope = NewDisposeScope();
        var d = Dimension / Heads;
        var keys = teacherFeatures + positionProjection.call(positionEmbedding);
        var q = query.call(queries).view(b, m, Heads, d).transpose(1, 2);             // [B, H, M, d]
        var k = key.call(keys).view(b, s, Heads, d).transpose(1, 2);                   // [B, H, S, d]
        var v = value.call(teacherFeatures).view(b, s, Heads, d);                      // [B, S, H, d]
        var logits = matmul(q, k.transpose(2, 3)) / Math.Sqrt(d);                      // [B, H, M, S]
        logits = logits.masked_fill(padding.view(b, 1, 1, s), double.NegativeInfinity);
        var attention = logits.softmax(-1);
        var attended = matmul(attention, v.transpose(1, 2)).transpose(1, 2).reshape(b, m, Dimension);
        var q1 = norm1.call(queries + output.call(attended));
        var q2 = norm2.call(q1 + ffn2.call(functional.relu(ffn1.call(q1))));
        scope.MoveToOuter(q2, logits, v);
        return new IcdDecoderOutput(q2, logits, v);
    }
}
