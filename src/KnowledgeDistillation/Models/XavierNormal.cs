using static TorchSharp.torch;

namespace KnowledgeDistillation.Models;

/// <summary>
/// Xavier-normal (Glorot) initialisation drawn from a normal distribution, as PyTorch's <c>nn.init.xavier_normal_</c>
/// does: <c>N(0, σ²)</c>, <c>σ = gain · √(2 / (fan_in + fan_out))</c>, fan_in = <c>size(1) · r</c>, fan_out =
/// <c>size(0) · r</c>, r = the product of the dimensions after the second. TorchSharp 0.107's <c>xavier_normal_</c>
/// draws a <em>uniform</em> start with that spread (measured: kurtosis 1.8 instead of 3), so models whose official code
/// uses PyTorch's or DGL's Xavier-normal start (GAT, CPF's label-propagation layer, HKD's TAGConv) call this instead.
/// </summary>
public static class XavierNormal
{
    /// <summary>σ for a tensor of <paramref name="shape"/> and <paramref name="gain"/>.</summary>
    /// <param name="shape">At least two dimensions.</param>
    /// <param name="gain">The gain (√2 for ReLU, PyTorch's <c>calculate_gain('relu')</c>).</param>
    /// <returns>The standard deviation.</returns>
    /// <exception cref="ArgumentException">Fewer than two dimensions, or an empty one.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The gain is not positive and finite.</exception>
    public static double StandardDeviation(ReadOnlySpan<long> shape, double gain = 1)
    {
        if (shape.Length < 2)
        {
            throw new ArgumentException($"Xavier initialisation needs a tensor of at least 2 dimensions; got {shape.Length}.", nameof(shape));
        }

        if (!(gain > 0) || double.IsInfinity(gain))
        {
            throw new ArgumentOutOfRangeException(nameof(gain), gain, "The gain must be positive and finite.");
        }

        double receptive = 1;
        foreach (var d in shape[2..])
        {
            receptive *= d;
        }

        var fanIn = shape[1] * receptive;
        var fanOut = shape[0] * receptive;
        if (fanIn + fanOut <= 0)
        {
            throw new ArgumentException("Xavier initialisation needs a non-empty tensor.", nameof(shape));
        }

        return gain * Math.Sqrt(2.0 / (fanIn + fanOut));
    }

    /// <summary>Fills <paramref name="tensor"/> in place from <c>N(0, σ²)</c> (no gradient is recorded).</summary>
    /// <param name="tensor">The weight to fill (at least two dimensions).</param>
    /// <param name="gain">The gain.</param>
    /// <returns><paramref name="tensor"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="tensor"/> is null.</exception>
    public static Tensor Initialize(Tensor tensor, double gain = 1)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        var std = StandardDeviation(tensor.shape, gain);
        using (no_grad())
        {
            TorchSharp.torch.nn.init.normal_(tensor, 0, std);
        }

        return tensor;
    }
}
