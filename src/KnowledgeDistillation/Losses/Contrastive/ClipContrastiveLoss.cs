using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// The clip-level contrastive pretext objective (two clips of one video are positives, every other clip of the batch a
/// negative), in the NT-Xent form of SimCLR (Chen et al., ICML 2020, arXiv 2002.05709) as video methods use it (e.g. CVRL, Qian
/// et al., CVPR 2021): with <c>z</c> the <c>2N</c> L2-normalised embeddings of N pairs and <c>s_ij = z_i·z_j / τ</c>,
/// <c>ℓ_i = −log( exp(s_{i,p(i)}) / Σ_{j≠i} exp(s_ij) )</c>, <c>p(i)</c> the other clip of i's pair, averaged over all <c>2N</c>
/// clips. It reads one participant's "logits" <c>[2N, D]</c> as embeddings in the <see cref="Models.ClipPairEncoder"/> layout
/// (rows <c>0..N-1</c> the first clips, <c>N..2N-1</c> the second). Used to pre-train a video teacher without labels.
/// </summary>
public sealed class ClipContrastiveLoss : DistillationLoss
{
    /// <summary>Creates the term.</summary>
    /// <param name="temperature">τ &gt; 0 (default 0.1).</param>
    /// <param name="participant">Whose embeddings (default "student": the network being pre-trained).</param>
    /// <param name="name">Reporting name (default "clip-contrastive").</param>
    /// <exception cref="ArgumentOutOfRangeException">τ is not &gt; 0.</exception>
    public ClipContrastiveLoss(double temperature = 0.1, string participant = "student", string name = "clip-contrastive")
        : base(name)
    {
        Temperature = Guard.Positive(temperature, nameof(temperature));
        Participant = Guard.Name(participant, nameof(participant));
    }

    /// <summary>τ.</summary>
    public double Temperature { get; }

    /// <summary>Whose embeddings are trained.</summary>
    public string Participant { get; }

    /// <inheritdoc />
    public override LossRequirements Requirements => LossRequirements.None.Logits(Participant);

    /// <summary>The NT-Xent value (a scalar) of N pairs: the first clips' embeddings <paramref name="first"/> [N, D] and the second's <paramref name="second"/> [N, D].</summary>
    /// <param name="first">Embeddings of the first clips [N, D], N &gt;= 2.</param>
    /// <param name="second">Embeddings of the second clips [N, D], row b the positive of row b of <paramref name="first"/>.</param>
    /// <param name="temperature">τ &gt; 0.</param>
    /// <exception cref="ArgumentException">Not two floating point [N, D] tensors of one shape and device, or fewer than two pairs (no negative).</exception>
    /// <exception cref="ArgumentOutOfRangeException">τ is not &gt; 0.</exception>
    public static Tensor NtXent(Tensor first, Tensor second, double temperature = 0.1)
    {
        Check(first, second, temperature);
        return NtXentLoss.Value(first, second, temperature); // SimCLR's NT-Xent, shared with the two-view term
    }

    /// <summary>
    /// The fraction of the <c>2N</c> clips whose most similar other clip (cosine) is the other clip of its pair: the pretext
    /// task's accuracy (chance <c>1 / (2N − 1)</c>), for monitoring. A scalar tensor without gradient.
    /// </summary>
    /// <param name="first">Embeddings of the first clips [N, D], N &gt;= 2.</param>
    /// <param name="second">Embeddings of the second clips [N, D].</param>
    /// <exception cref="ArgumentException">As <see cref="NtXent"/>.</exception>
    public static Tensor PairRetrievalAccuracy(Tensor first, Tensor second)
    {
        using var noGrad = no_grad();
        var z = Similarities(first, second, 1.0);
        var n = first.shape[0];
        var positives = cat(new[] { arange(n, n + n, ScalarType.Int64, z.device), arange(0, n, ScalarType.Int64, z.device) });
        return z.argmax(1).eq(positives).to_type(ScalarType.Float64).mean();
    }

    /// <inheritdoc />
    public override LossResult Compute(DistillationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var embeddings = context.Output(Participant).RequireLogits(Participant);
        var (first, second) = Split(embeddings, $"{Participant}'s embeddings");
        return new LossResult(Name, NtXent(first, second, Temperature));
    }

    /// <summary>Splits embeddings <c>[2N, D]</c> in the <see cref="Models.ClipPairEncoder"/> layout into the first and the second clips' <c>[N, D]</c>.</summary>
    /// <param name="embeddings">The embeddings.</param>
    /// <param name="what">The argument's name for messages.</param>
    /// <exception cref="ArgumentException">Not 2-D or an odd row count.</exception>
    public static (Tensor First, Tensor Second) Split(Tensor embeddings, string what = "embeddings")
    {
        ArgumentNullException.ThrowIfNull(embeddings, what);
        Guard.Rank(embeddings, 2, what, "[2N, features] (the first clips' rows, then the second clips')");
        if (embeddings.shape[0] % 2 != 0)
        {
            throw new ArgumentException($"{what} must hold both clips of N pairs, [2N, features]; got an odd row count, {Guard.Shape(embeddings)}.", what);
        }

        var n = embeddings.shape[0] / 2;
        return (embeddings.narrow(0, 0, n), embeddings.narrow(0, n, n));
    }

    private static Tensor Similarities(Tensor first, Tensor second, double temperature)
    {
        Check(first, second, temperature);
        var z = nn.functional.normalize(cat(new[] { first, second }, 0), dim: 1);
        var s = z.matmul(z.t()) / temperature;
        var n2 = s.shape[0];
        using var self = eye(n2, dtype: ScalarType.Bool, device: s.device);
        return s.masked_fill(self, double.NegativeInfinity);
    }

    private static void Check(Tensor first, Tensor second, double temperature)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        Guard.Positive(temperature, nameof(temperature));
        Guard.Rank(first, 2, nameof(first), "[pairs, features]");
        Guard.FloatingPoint(first, nameof(first));
        Guard.FloatingPoint(second, nameof(second));
        Guard.SameShape(second, nameof(second), first, nameof(first));
        Guard.SameDevice(second, nameof(second), first, nameof(first));
        if (first.shape[0] < 2)
        {
            throw new ArgumentException($"The contrastive loss needs at least 2 pairs (the other pairs' clips are the negatives); got {Guard.Shape(first)}.", nameof(first));
        }
    }
}
