using FluentAssertions;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Graph.Graphs;
using KnowledgeDistillation.Tests.Support;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Tests.Graphs;

public sealed class CpfLossTests
{
    private static Tensor Probabilities(int rows, int seed) => rand(rows, 3, generator: new Generator((ulong)seed)).softmax(1);

    [Fact]
    public void Matching_the_teacher_gives_zero()
    {
        using var t = Probabilities(4, 1);
        CpfLoss.Value(t, t, ones(4, dtype: ScalarType.Bool)).item<float>().Should().BeApproximately(0, 1e-9f);
    }

    [Fact]
    public void One_row_off_by_plus_minus_e_gives_e_sqrt_2_and_doubling_the_unlabelled_set_scales_by_sqrt_2()
    {
        const double e = 0.05;
        using var t = Probabilities(4, 2).to(ScalarType.Float64);
        var s = t.clone();
        s[1, 0] += e;
        s[1, 1] -= e;
        CpfLoss.Value(s, t, ones(4, dtype: ScalarType.Bool)).item<double>().Should().BeApproximately(e * Math.Sqrt(2), 1e-12);

        var s2 = cat(new[] { s, s });
        var t2 = cat(new[] { t, t });
        CpfLoss.Value(s2, t2, ones(8, dtype: ScalarType.Bool)).item<double>().Should().BeApproximately(2 * e, 1e-12);
    }

    [Fact]
    public void Labelled_rows_are_ignored_and_the_loss_reads_the_train_mask()
    {
        using var t = Probabilities(3, 3);
        using var s = Probabilities(3, 4);
        var unlabeled = tensor(new[] { false, true, true });
        var expected = (s[1..] - t[1..]).square().sum().sqrt().item<float>();
        CpfLoss.Value(s, t, unlabeled).item<float>().Should().BeApproximately(expected, 1e-6f);

        var batch = new Batch(zeros(3, 2), tensor(new long[] { 0, 1, 2 }), arange(3), new Dictionary<string, Tensor> { ["train_mask"] = unlabeled.logical_not() });
        var outputs = new Dictionary<string, ModelOutput> { ["student"] = new(s.log()), ["teacher"] = new(t.log()) };
        var result = new CpfLoss().Compute(new DistillationContext(batch, outputs));
        result.Total.item<float>().Should().BeApproximately(expected, 1e-5f);
        result.Parts.Keys.Should().Equal("cpf");
    }

    [Fact]
    public void Gradient_matches_finite_differences()
    {
        using var t = Probabilities(5, 5).to(ScalarType.Float64);
        using var logits = randn(5, 3, dtype: ScalarType.Float64, generator: new Generator(6));
        var mask = tensor(new[] { false, true, true, false, true });
        GradientCheck.AssertMatchesFiniteDifferences(z => CpfLoss.Value(z[0].softmax(1), t, mask), [logits], tolerance: 1e-7);
    }

    [Fact]
    public void Mismatched_shapes_and_masks_are_reported()
    {
        var act = () => CpfLoss.Value(zeros(3, 2), zeros(3, 3), ones(3, dtype: ScalarType.Bool));
        act.Should().Throw<ArgumentException>().WithMessage("*[3, 2]*[3, 3]*");
        var badMask = () => CpfLoss.Value(zeros(3, 2), zeros(3, 2), ones(4, dtype: ScalarType.Bool));
        badMask.Should().Throw<ArgumentException>().WithMessage("*bool mask of shape [3]*");
    }
}
