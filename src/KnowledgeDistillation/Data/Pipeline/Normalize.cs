namespace KnowledgeDistillation.Data;

/// <summary>
/// Standardises each channel of a sample <c>[C, ...]</c>: <c>(x - mean[c]) / std[c]</c> in float32 (torchvision's
/// <c>Normalize</c>). One mean and standard deviation apply to every channel when a single value is given.
/// </summary>
public sealed class Normalize : ISampleTransform
{
    private readonly float[] _mean;
    private readonly float[] _std;

    /// <summary>Creates the transform.</summary>
    /// <param name="mean">The per-channel means (or one for all channels); finite.</param>
    /// <param name="std">The per-channel standard deviations (as many as <paramref name="mean"/>); finite and &gt; 0.</param>
    /// <exception cref="ArgumentException">The lists are empty or differ in length, or a value is out of range.</exception>
    public Normalize(IReadOnlyList<double> mean, IReadOnlyList<double> std)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(std);
        if (mean.Count == 0 || mean.Count != std.Count)
        {
            throw new ArgumentException(
                $"Normalize needs one mean and one standard deviation per channel; got {mean.Count} mean(s) and {std.Count} standard deviation(s).",
                nameof(std));
        }

        _mean = mean.Select(m => (float)Guard.Finite(m, nameof(mean))).ToArray();
        _std = std.Select(s => (float)Guard.Positive(Guard.Finite(s, nameof(std)), nameof(std))).ToArray();
    }

    /// <summary>The per-channel means.</summary>
    public IReadOnlyList<float> Mean => _mean;

    /// <summary>The per-channel standard deviations.</summary>
    public IReadOnlyList<float> Std => _std;

    /// <inheritdoc />
    public bool IsRandom => false;

    /// <inheritdoc />
    public DataSample Apply(DataSample sample, SampleRandom random)
    {
        ArgumentNullException.ThrowIfNull(sample);
        var channels = sample.Shape[0];
        if (_mean.Length != 1 && _mean.Length != channels)
        {
            throw new ArgumentException(
                $"Normalize has {_mean.Length} channel statistics, but the sample has shape {DataShape.Format(sample.Shape)} ({channels} channels along dimension 0).",
                nameof(sample));
        }

        var values = sample.Values;
        var perChannel = values.Length / channels;
        for (var c = 0; c < channels; c++)
        {
            var m = _mean.Length == 1 ? _mean[0] : _mean[c];
            var s = _std.Length == 1 ? _std[0] : _std[c];
            var span = values.AsSpan(c * perChannel, perChannel);
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = (span[i] - m) / s;
            }
        }

        return sample;
    }
}
