using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// Logit standardisation (Sun, Ren, Li, Wang and Cao, "Logit Standardization in Knowledge Distillation", CVPR 2024,
/// arXiv 2403.01427; official code sunshangquan/logit-standardization-KD) as a wrapper of any logit term: every logits
/// tensor the wrapped term declares in its <see cref="IDistillationLoss.Requirements"/> is replaced by its per-sample
/// z-score <c>(z − mean(z)) / (ε + std(z))</c> (unbiased std, ε = 1e-7 as in the official code) before the term computes,
/// so the student need only match the teacher's logit <em>relations</em>, not their range. Works with KD, DKD, DIST and any
/// third-party term that reads logits through the context. Features, labels and the batch reach the wrapped term unchanged.
/// </summary>
/// <remarks>
/// Parts: the wrapped term's parts, with its name replaced by this wrapper's (default "&lt;inner&gt;-std", e.g. "kd-std" and
/// "dkd-std.tckd"); parts of a wrapped sum that do not start with the sum's name are passed through unchanged. The wrapper
/// forwards the wrapped term's modules, state and hooks (its step-end hook sees the standardised logits too).
/// A sample's logits must have at least two classes (the standard deviation of one value is undefined). Wrap the
/// distillation term, not a sum with cross-entropy: every term of a wrapped sum sees the standardised logits (the paper
/// keeps CE on the raw logits: <c>0.1 * Loss.CrossEntropy() + 9 * Loss.Standardized(Loss.KD(2))</c>; the official CIFAR-100
/// resnet32x4 → resnet8x4 KD configuration is tagged T = 2, KD weight 9, with mdistiller's CE weight 0.1).
/// </remarks>
public sealed class StandardizedLogitsLoss : DistillationLoss
{
    /// <summary>The official ε added to the standard deviation.</summary>
    public const double DefaultEpsilon = 1e-7;

    /// <summary>Wraps <paramref name="inner"/>.</summary>
    /// <param name="inner">A term that reads logits (its requirements list at least one participant's logits).</param>
    /// <param name="epsilon">ε &gt; 0 added to the standard deviation.</param>
    /// <param name="name">Reporting name; <c>null</c> gives "&lt;inner name&gt;-std".</param>
    /// <exception cref="ArgumentException">The wrapped term reads no logits, or the name is invalid.</exception>
    /// <exception cref="ArgumentOutOfRangeException">ε is not a finite number &gt; 0.</exception>
    public StandardizedLogitsLoss(IDistillationLoss inner, double epsilon = DefaultEpsilon, string? name = null)
        : base(name ?? $"{(inner ?? throw new ArgumentNullException(nameof(inner))).Name}-std")
    {
        if (inner.Requirements.LogitsOf.Count == 0)
        {
            throw new ArgumentException(
                $"Logit standardisation wraps a term that reads logits, but '{inner.Name}' declares none ({inner.Requirements}).", nameof(inner));
        }

        Inner = inner;
        Epsilon = Guard.Positive(epsilon, nameof(epsilon));
    }

    /// <summary>The wrapped term.</summary>
    public IDistillationLoss Inner { get; }

    /// <summary>The ε added to the standard deviation.</summary>
    public double Epsilon { get; }

    /// <inheritdoc />
    public override LossRequirements Requirements => Inner.Requirements;

    /// <inheritdoc />
    public override IReadOnlyList<nn.Module> TrainableModules => Inner.TrainableModules;

    /// <inheritdoc />
    public override IReadOnlyList<nn.Module> FrozenModules => Inner.FrozenModules;

    /// <inheritdoc />
    public override IReadOnlyList<ILossState> State => Inner.State;

    /// <summary>The per-row z-score <c>(z − mean_k z) / (ε + std_k z)</c> of logits [batch, classes], classes &gt;= 2.</summary>
    /// <param name="logits">Logits [batch, classes].</param>
    /// <param name="epsilon">ε &gt; 0.</param>
    /// <param name="what">The logits' description for errors.</param>
    /// <exception cref="ArgumentException">The logits are not [batch, classes] floating point, or have one class.</exception>
    public static Tensor Standardize(Tensor logits, double epsilon = DefaultEpsilon, string what = "logits")
    {
        ArgumentNullException.ThrowIfNull(logits);
        Guard.Positive(epsilon, nameof(epsilon));
        Guard.Logits(logits, what);
        if (logits.shape[1] < 2)
        {
            throw new ArgumentException($"{what} need at least two classes to be standardised; got {Guard.Shape(logits)}.", what);
        }

        var mean = logits.mean(new long[] { 1 }, keepdim: true);
        var std = logits.std(1, unbiased: true, keepdim: true);
        return (logits - mean) / (std + epsilon);
    }

    /// <inheritdoc />
    public override LossResult Compute(DistillationContext context)
    {
        var inner = Inner.Compute(Standardized(context));
        var parts = new Dictionary<string, Tensor>();
        foreach (var (part, value) in inner.Parts)
        {
            parts[Rename(part)] = value;
        }

        return new LossResult(inner.Total, parts);
    }

    /// <inheritdoc />
    public override void OnStepEnd(DistillationContext context) => Inner.OnStepEnd(Standardized(context));

    /// <inheritdoc />
    public override void OnEpochEnd(LossEpochInfo epoch) => Inner.OnEpochEnd(epoch);

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing && Inner is IDisposable disposable)
        {
            disposable.Dispose();
        }
    }

    private DistillationContext Standardized(DistillationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var outputs = context.Outputs.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        foreach (var participant in Inner.Requirements.LogitsOf)
        {
            var output = context.Output(participant);
            var logits = output.RequireLogits(participant);
            outputs[participant] = new ModelOutput(Standardize(logits, Epsilon, $"logits of '{participant}'"), output.Features);
        }

        return new DistillationContext(context.Batch, outputs, context.Stage, context.Epoch, context.Step, context.IsTraining);
    }

    private string Rename(string part) =>
        part == Inner.Name ? Name
        : part.StartsWith(Inner.Name + ".", StringComparison.Ordinal) ? Name + part[Inner.Name.Length..]
        : part;
}

public static partial class Loss
{
    /// <summary>
    /// Sun et al. (2024), "Logit Standardization in Knowledge Distillation" (CVPR, arXiv 2403.01427): wraps a logit term so
    /// that it sees every participant's logits z-scored per sample, e.g. <c>Loss.Standardized(Loss.KD(2))</c> or
    /// <c>Loss.Standardized(Loss.DecoupledKD())</c>. Reports the wrapped term's parts under "NAME" (default "&lt;inner&gt;-std").
    /// </summary>
    /// <param name="inner">A term that reads logits.</param>
    /// <param name="epsilon">ε &gt; 0 added to the standard deviation (official 1e-7).</param>
    /// <param name="name">Reporting name; <c>null</c> gives "&lt;inner name&gt;-std".</param>
    public static StandardizedLogitsLoss Standardized(IDistillationLoss inner, double epsilon = StandardizedLogitsLoss.DefaultEpsilon, string? name = null) =>
        new(inner, epsilon, name);
}
