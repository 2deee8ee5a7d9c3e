using static TorchSharp.torch;

namespace KnowledgeDistillation.Detection.Losses;

/// <summary>
/// DETR's sine positional embedding of normalised coordinates: each coordinate c in [0, 1] becomes
/// <c>v_i = 2π·c / T^(2⌊i/2⌋/F)</c>, i = 0..F−1, written as sin(v_0), cos(v_1), sin(v_2), cos(v_3), ... (F features per
/// coordinate, T = 10000); x's features come first, then y's.
/// </summary>
public static class SineEmbedding
{
    /// <summary>Embeds <c>[..., 2]</c> coordinates into <c>[..., 2F]</c>.</summary>
    /// <param name="coordinates">(x, y) in [0, 1], last dimension 2.</param>
    /// <param name="featuresPerCoordinate">F, even and &gt;= 2.</param>
    /// <param name="temperature">T (10000).</param>
    /// <exception cref="ArgumentException">The last dimension is not 2.</exception>
    /// <exception cref="ArgumentOutOfRangeException">F is odd or below 2.</exception>
    public static Tensor Encode(Tensor coordinates, int featuresPerCoordinate, double temperature = 10000)
    {
        ArgumentNullException.ThrowIfNull(coordinates);
        if (coordinates.dim() < 1 || coordinates.shape[^1] != 2)
        {
            throw new ArgumentException($"Coordinates must end in a dimension of 2 (x, y); got {Guard.Shape(coordinates)}.", nameof(coordinates));
        }

        if (featuresPerCoordinate < 2 || featuresPerCoordinate % 2 != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(featuresPerCoordinate), featuresPerCoordinate, "Features per coordinate must be even and >= 2.");
        }

        using var scope = NewDisposeScope();
        var i = arange(featuresPerCoordinate, dtype: coordinates.dtype, device: coordinates.device);
        var dim = pow(temperature, 2 * i.div(2, rounding_mode: RoundingMode.floor) / featuresPerCoordinate);
        var v = coordinates.unsqueeze(-1) * (2 * Math.PI) / dim;                 // [..., 2, F]
        var even = v[TensorIndex.Ellipsis, TensorIndex.Slice(0, null, 2)].sin();
        var odd = v[TensorIndex.Ellipsis, TensorIndex.Slice(1, null, 2)].cos();
        var interleaved = stack(new[] { even, odd }, -1).flatten(-2);           // [..., 2, F]
        return interleaved.flatten(-2).MoveToOuterDisposeScope();
    }
}
