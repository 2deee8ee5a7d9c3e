using static TorchSharp.torch;

namespace KnowledgeDistillation.Detection.Fcos;

/// <summary>
/// The locations FCOS predicts at: for a level of stride s and size h x w, the points (x·s + ⌊s/2⌋, y·s + ⌊s/2⌋), row-major,
/// levels concatenated in order (the order of the head's outputs).
/// </summary>
public static class FcosPoints
{
    /// <summary>Points <c>[S, 2]</c> (x, y) and each point's stride <c>[S]</c> and level <c>[S]</c> (int64).</summary>
    /// <param name="levelSizes">(height, width) of each level.</param>
    /// <param name="strides">The stride of each level.</param>
    /// <param name="device">Where to create them.</param>
    /// <exception cref="ArgumentException">The counts differ or a size is not positive.</exception>
    public static (Tensor Points, Tensor Strides, Tensor Levels) Create(IReadOnlyList<(long Height, long Width)> levelSizes, IReadOnlyList<int> strides, Device device)
    {
        ArgumentNullException.ThrowIfNull(levelSizes);
        ArgumentNullException.ThrowIfNull(strides);
        if (levelSizes.Count != strides.Count || levelSizes.Any(s => s.Height < 1 || s.Width < 1))
        {
            throw new ArgumentException($"Need one positive (height, width) per stride ({strides.Count}); got {levelSizes.Count}.", nameof(levelSizes));
        }

        using var scope = NewDisposeScope();
        var points = new List<Tensor>();
        var strideList = new List<Tensor>();
        var levelList = new List<Tensor>();
        for (var l = 0; l < strides.Count; l++)
        {
            var (h, w) = levelSizes[l];
            var s = strides[l];
            var xs = (arange(w, device: device, dtype: ScalarType.Float32) * s) + (s / 2);
            var ys = (arange(h, device: device, dtype: ScalarType.Float32) * s) + (s / 2);
            var grid = meshgrid(new[] { ys, xs }, indexing: "ij");
            points.Add(stack(new[] { grid[1].reshape(-1), grid[0].reshape(-1) }, 1));
            strideList.Add(full(h * w, s, dtype: ScalarType.Float32, device: device));
            levelList.Add(full(h * w, l, dtype: ScalarType.Int64, device: device));
        }

        var result = (cat(points, 0), cat(strideList, 0), cat(levelList, 0));
        scope.MoveToOuter(result.Item1, result.Item2, result.Item3);
        return result;
    }
}
