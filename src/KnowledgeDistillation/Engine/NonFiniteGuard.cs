using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Engine;

/// <summary>
/// Applies <see cref="DistillerOptions.NonFiniteLoss"/> and <see cref="DistillerOptions.NonFiniteCheck"/>: either one
/// boolean read per step (throw or skip at once), or a device-side record of the first bad step, thrown at the epoch's end.
/// </summary>
internal sealed class NonFiniteGuard
{
    private readonly DistillerOptions _options;
    private readonly ILogger _logger;

    public NonFiniteGuard(DistillerOptions options, ILogger logger)
    {
        _options = options;
        _logger = logger;
    }

    private bool EveryStep => _options.NonFiniteCheck == NonFiniteCheck.EveryStep;

    /// <summary>False when the batch must be skipped; throws under <see cref="NonFiniteLossPolicy.Throw"/>.</summary>
    /// <param name="stage">The stage's name, for messages.</param>
    /// <param name="loss">The step's loss.</param>
    /// <param name="epoch">The epoch within the stage.</param>
    /// <param name="step">The global step.</param>
    /// <param name="sums">The epoch's accumulators (skips and device-side records go there).</param>
    /// <param name="context">The step's batch and outputs, to name the samples of a non-finite step.</param>
    /// <param name="countSkip">Whether a skip counts as a skipped batch (false for later turns of a sequential step).</param>
    public bool Check(string stage, LossResult loss, int epoch, long step, EpochAccumulator sums, DistillationContext context, bool countSkip = true)
    {
        if (!EveryStep)
        {
            sums.TrackNonFinite(loss.Total, step);
            return true;
        }

        if (isfinite(loss.Total.detach()).all().item<bool>())
        {
            return true;
        }

        var values = loss.Parts.ToDictionary(p => p.Key, p => p.Value.detach().to(ScalarType.Float64).sum().item<double>());
        var samples = NonFiniteSamples.Locate(context);
        if (_options.NonFiniteLoss == NonFiniteLossPolicy.Throw)
        {
            throw new NonFiniteLossException(stage, epoch, step, values, samples.Batch, samples.Suspects, samples.Description);
        }

        _logger.LogWarning(
            "Skipped a batch with a non-finite loss in stage {Stage}, epoch {Epoch}, step {Step}: {Samples}", stage, epoch, step, samples.Description);
        if (countSkip)
        {
            sums.Skip();
        }

        return false;
    }

    /// <summary>Throws for the first non-finite step an epoch recorded on the device (end-of-epoch checking).</summary>
    public void ThrowIfEpochHadNonFinite(string stage, int epoch, EpochAccumulator sums)
    {
        if (!EveryStep && sums.FirstNonFiniteStep() is { } badStep)
        {
            throw new NonFiniteLossException(stage, epoch, badStep, new Dictionary<string, double>());
        }
    }
}
