using FluentAssertions;
using KnowledgeDistillation.Detection.Fcos;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Detection.Tests.Fcos;

public sealed class FcosAssignerTests
{
    private static Tensor Targets(params (int Class, float X1, float Y1, float X2, float Y2, bool Difficult)[][] images)
    {
        var g = Math.Max(1, images.Max(i => i.Length));
        var values = new float[images.Length * g * 6];
        for (var b = 0; b < images.Length; b++)
        {
            for (var j = 0; j < g; j++)
            {
                var o = ((b * g) + j) * 6;
                if (j >= images[b].Length)
                {
                    values[o] = -1;
                    continue;
                }

                var x = images[b][j];
                (values[o], values[o + 1], values[o + 2], values[o + 3], values[o + 4], values[o + 5]) = (x.Class, x.X1, x.Y1, x.X2, x.Y2, x.Difficult ? 1 : 0);
            }
        }

        return tensor(values, new long[] { images.Length, g, 6 });
    }

    [Fact]
    public void Points_are_cell_centres_level_by_level()
    {
        var (points, strides, levels) = FcosPoints.Create(new[] { (2L, 3L), (1L, 2L) }, new[] { 8, 16 }, CPU);
        points.data<float>().ToArray().Should().Equal(4, 4, 12, 4, 20, 4, 4, 12, 12, 12, 20, 12, 8, 8, 24, 8);
        strides.data<float>().ToArray().Should().Equal(8, 8, 8, 8, 8, 8, 16, 16);
        levels.data<long>().ToArray().Should().Equal(0, 0, 0, 0, 0, 0, 1, 1);
    }

    [Fact]
    public void Hand_case_inside_box_in_range_smallest_area_wins_and_targets_are_distances()
    {
        // One level, stride 8, four points at x = 4, 12, 20, 28 (y = 4). Box A [0, 0, 24, 8] class 1; box B [10, 0, 16, 8] class 0.
        var points = tensor(new float[] { 4, 4, 12, 4, 20, 4, 28, 4 }, new long[] { 4, 2 });
        var strides = full(4, 8f);
        var levels = zeros(4, dtype: ScalarType.Int64);
        var assigner = new FcosAssigner(2, new[] { (0.0, 100.0) }, centerSampleRadius: 0);
        var a = assigner.Assign(points, strides, levels, Targets(new[] { (1, 0f, 0f, 24f, 8f, false), (0, 10f, 0f, 16f, 8f, false) }));
        a.Labels.data<long>().ToArray().Should().Equal(1, 0, 1, 2);   // x = 12 is inside both: B (smaller) wins; x = 28 is outside: background (2)
        a.Positive.data<bool>().ToArray().Should().Equal(true, true, true, false);
        a.BoxTargets[0, 0].data<float>().ToArray().Should().Equal(4, 4, 20, 4);
        a.BoxTargets[0, 1].data<float>().ToArray().Should().Equal(2, 4, 4, 4);
        a.BoxTargets[0, 3].data<float>().ToArray().Should().Equal(0, 0, 0, 0);
        // Centerness sqrt(min(l,r)/max(l,r) * min(t,b)/max(t,b)): point 0 -> sqrt(4/20 * 1).
        a.Centerness[0, 0].item<float>().Should().BeApproximately((float)Math.Sqrt(0.2), 1e-6f);
        a.Centerness[0, 1].item<float>().Should().BeApproximately((float)Math.Sqrt(0.5), 1e-6f);
        a.Centerness[0, 3].item<float>().Should().Be(0);
    }

    [Fact]
    public void Size_ranges_centre_sampling_padding_and_difficult_rows_exclude_points()
    {
        var points = tensor(new float[] { 4, 4, 12, 4, 20, 4, 28, 4 }, new long[] { 4, 2 });
        var strides = full(4, 8f);
        var levels = zeros(4, dtype: ScalarType.Int64);
        var box = Targets(new[] { (0, 0f, 0f, 32f, 8f, false) });
        // Largest distance at x = 4 is 28, at 12 is 20, at 20 is 20, at 28 is 28: a (0, 24] range keeps the middle two.
        new FcosAssigner(1, new[] { (0.0, 24.0) }, 0).Assign(points, strides, levels, box).Positive.data<bool>().ToArray().Should().Equal(false, true, true, false);
        // Centre sampling, radius 0.5 stride around x = 16: only points within (12, 20) exclusive... 12 and 20 are on the edge.
        new FcosAssigner(1, new[] { (0.0, 100.0) }, 0.6).Assign(points, strides, levels, box).Positive.data<bool>().ToArray().Should().Equal(false, true, true, false);
        new FcosAssigner(1, new[] { (0.0, 100.0) }, 0).Assign(points, strides, levels, Targets(new[] { (0, 0f, 0f, 32f, 8f, true) })).Positive.any().item<bool>().Should().BeFalse("difficult boxes are ignored");
        new FcosAssigner(1, new[] { (0.0, 100.0) }, 0).Assign(points, strides, levels, Targets(new[] { (0, 0f, 0f, 32f, 8f, false) }, Array.Empty<(int, float, float, float, float, bool)>()))
            .Positive[1].any().item<bool>().Should().BeFalse("an image without objects is all background");
    }

    [Fact]
    public void Bad_shapes_are_refused_before_native_code()
    {
        var assigner = new FcosAssigner(2);
        var act = () => assigner.Assign(zeros(4, 3), zeros(4), zeros(4, dtype: ScalarType.Int64), zeros(1, 1, 6));
        act.Should().Throw<ArgumentException>().WithParameterName("points");
        var act2 = () => assigner.Assign(zeros(4, 2), zeros(4), zeros(4, dtype: ScalarType.Int64), zeros(1, 1, 5));
        act2.Should().Throw<ArgumentException>().WithParameterName("targets");
        ((Action)(() => _ = new FcosAssigner(0))).Should().Throw<ArgumentOutOfRangeException>();
    }
}
