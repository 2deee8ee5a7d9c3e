using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// SimCLR's normalised temperature-scaled cross-entropy (Chen, Kornblith, Norouzi and Hinton, "A Simple Framework for
/// Contrastive Learning of Visual Representations", ICML 2020, eq. 1): a participant's projections of two augmented views,
/// <c>z¹, z² [B, D]</c>, are scaled to unit rows and stacked to <c>z [2B, D]</c>; with <c>s_ij = z_i · z_j / τ</c>,
/// <c>ℓ(i, j) = −log( exp(s_ij) / Σ_{k ≠ i} exp(s_ik) )</c>, and the loss is the mean of ℓ over the 2B ordered positive
/// pairs (i, i + B) and (i + B, i). The other 2B − 2 samples of the batch are the negatives, so a batch needs B &gt;= 2.
/// Reads the participant's features <c>first</c> and <c>second</c> (see <see cref="Data.TwoViews"/> for a participant
/// that encodes both views). Reports "NAME".
/// </summary>
public sealed class NtXentLoss : DistillationLoss
{
    /// <summary>Creates the term.</summary>
    /// <param name="first">The feature holding the first view's projections [B, ...].</param>
    /// <param name="second">The feature holding the second view's projections (same shape).</param>
    /// <param name="temperature">τ &gt; 0 (SimCLR: 0.5 on CIFAR-10, 0.1 on ImageNet).</param>
    /// <param name="participant">The participant whose features are read.</param>
    /// <param name="name">Reporting name (default "nt-xent").</param>
    /// <exception cref="ArgumentOutOfRangeException">τ &lt;= 0.</exception>
    /// <exception cref="ArgumentException">A name is empty.</exception>
    public NtXentLoss(string first = TwoViewNames.First, string second = TwoViewNames.Second, double temperature = 0.5, string participant = "student", string name = "nt-xent")
        : base(name)
    {
        First = Guard.Name(first, nameof(first));
        Second = Guard.Name(second, nameof(second));
        Temperature = Guard.Positive(temperature, nameof(temperature));
        Participant = Guard.Name(participant, nameof(participant));
    }

    /// <summary>The first view's feature name.</summary>
    public string First { get; }

    /// <summary>The second view's feature name.</summary>
    public string Second { get; }

    /// <summary>τ.</summary>
    public double Temperature { get; }

    /// <summary>The participant whose features are read.</summary>
    public string Participant { get; }

    /// <inheritdoc />
    public override LossRequirements Requirements => LossRequirements.None.Feature(Participant, First).Feature(Participant, Second);

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The views' projections differ in shape, are not floating point, or the batch has one sample.</exception>
    public override LossResult Compute(DistillationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var output = context.Output(Participant);
        var a = output.Feature(First, Participant);
        var b = output.Feature(Second, Participant);
        var aWhat = $"feature '{First}' of '{Participant}'";
        var bWhat = $"feature '{Second}' of '{Participant}'";
        Guard.FloatingPoint(a, aWhat);
        Guard.FloatingPoint(b, bWhat);
        if (!a.shape.SequenceEqual(b.shape))
        {
            throw new ArgumentException($"The two views' projections must have one shape: the {aWhat} is {Guard.Shape(a)}, the {bWhat} {Guard.Shape(b)}.", bWhat);
        }

        if (a.dim() >= 1 && a.shape[0] == 1)
        {
            throw new ArgumentException($"NT-Xent on a batch of one has no negatives (the {aWhat} is {Guard.Shape(a)}): use a batch of at least 2 samples.", aWhat);
        }

        var z1 = EmbeddingChecks.Flat(a, aWhat, 2);
        var z2 = EmbeddingChecks.Flat(b, bWhat, 2);
        EmbeddingChecks.SamePair(z1, aWhat, z2, bWhat, "both views go through one encoder.");
        var value = Value(z1, z2, Temperature);
        return new LossResult(Name, value);
    }

    /// <summary>NT-Xent of two batches of projections [B, D] (B &gt;= 2), unchecked.</summary>
    internal static Tensor Value(Tensor z1, Tensor z2, double temperature)
    {
        var batch = z1.shape[0];
        var z = EmbeddingChecks.Unit(cat(new[] { z1, z2 }, 0));
        var similarity = z.matmul(z.t()) / temperature;
        var self = eye(2 * batch, dtype: ScalarType.Bool, device: z.device);
        similarity = similarity.masked_fill(self, double.NegativeInfinity);
        var half = arange(batch, ScalarType.Int64, z.device);
        var partners = cat(new[] { half + batch, half }, 0);
        return nn.functional.cross_entropy(similarity, partners);
    }
}

public static partial class Loss
{
    /// <summary>
    /// Chen et al. (2020), SimCLR's NT-Xent over a participant's projections of two views (see <see cref="NtXentLoss"/>).
    /// Reports "NAME".
    /// </summary>
    /// <param name="temperature">τ &gt; 0.</param>
    /// <param name="participant">The participant whose features are read.</param>
    /// <param name="first">The first view's feature.</param>
    /// <param name="second">The second view's feature.</param>
    /// <param name="name">Reporting name.</param>
    public static NtXentLoss NtXent(double temperature = 0.5, string participant = "student", string first = TwoViewNames.First, string second = TwoViewNames.Second, string name = "nt-xent") =>
        new(first, second, temperature, participant, name);
}
