using FluentAssertions;
using MethodComparison;
using Xunit;

namespace KnowledgeDistillation.Tests.Samples;

/// <summary>The comparison sample's aggregation: mean ± sample std, paired differences, step-time ratios, epoch selection, table.</summary>
public sealed class MethodComparisonSummaryTests
{
    [Fact]
    public void Mean_and_sample_std_use_n_minus_1()
    {
        // 0.80, 0.82, 0.84: mean 0.82, squared deviations 4e-4 + 0 + 4e-4 over n - 1 = 2 -> std 0.02.
        var value = MeanStd.Of(new[] { 0.80, 0.82, 0.84 });
        value.Mean.Should().BeApproximately(0.82, 1e-12);
        value.Std.Should().BeApproximately(0.02, 1e-12);
        value.Count.Should().Be(3);
        value.Format(100).Should().Be("82.00 ± 2.00");
        MeanStd.Of(new[] { 0.5 }).Std.Should().Be(0);
        MeanStd.Of(new[] { 0.5 }).Format(100).Should().Be("50.00", "one seed has no spread to print");
        MeanStd.Of(Array.Empty<double>()).Count.Should().Be(0);
        MeanStd.Of(Array.Empty<double>()).Format().Should().BeEmpty();
    }

    [Fact]
    public void Rows_pair_each_method_with_kd_and_alone_on_the_same_seeds()
    {
        var runs = new[]
        {
            Run("kd", 0, 0.85), Run("kd", 1, 0.86), Run("kd", 2, 0.84),
            Run("alone", 0, 0.83), Run("alone", 1, 0.84), Run("alone", 2, 0.82),
            Run("crd", 0, 0.86), Run("crd", 1, 0.88), Run("crd", 2, 0.84),
            Run("extra", 5, 0.10), // a seed KD does not have: no pair
        };

        var rows = Summary.Rows(runs, new[] { "alone", "kd", "crd" }, new Dictionary<string, double> { ["crd"] = 1.5 });

        rows.Select(r => r.Method).Should().Equal("alone", "kd", "crd", "extra");
        var crd = rows[2];
        // Deltas vs KD: +0.01, +0.02, 0 -> mean 0.01, std 0.01; vs alone: +0.03, +0.04, +0.02 -> mean 0.03, std 0.01.
        crd.DeltaVsKd.Mean.Should().BeApproximately(0.01, 1e-12);
        crd.DeltaVsKd.Std.Should().BeApproximately(0.01, 1e-12);
        crd.DeltaVsAlone.Mean.Should().BeApproximately(0.03, 1e-12);
        crd.DeltaVsAlone.Std.Should().BeApproximately(0.01, 1e-12);
        crd.StepTimeVsKd.Should().Be(1.5);
        crd.Last.Mean.Should().BeApproximately(0.86, 1e-12);
        crd.BestValidationEpoch.Mean.Should().BeApproximately(0.87, 1e-12);
        crd.TrainSeconds.Mean.Should().Be(10);
        crd.PeakMemoryMiB.Mean.Should().Be(500);
        rows[1].DeltaVsKd.Count.Should().Be(0, "KD is not paired with itself");
        rows[3].DeltaVsKd.Count.Should().Be(0);

        var table = Summary.MarkdownTable(rows);
        table.Should().Contain("| crd | 3 | 86.00 ± 2.00 | 87.00 ± 2.00 | +1.00 ± 1.00 | +3.00 ± 1.00 | 10 ± 0 | 500 ± 0 | 1.50 |");
        Summary.Csv(rows).Split('\n')[3].Should().StartWith("crd,3,0.86");
    }

    [Fact]
    public void Rows_refuse_two_runs_of_one_method_and_seed()
    {
        var act = () => Summary.Rows(new[] { Run("kd", 0, 0.8), Run("kd", 0, 0.9) }, Array.Empty<string>());
        act.Should().Throw<ArgumentException>().WithMessage("*'kd'*seed 0*");
    }

    [Fact]
    public void Step_time_ratios_are_medians_per_round_after_the_warm_up()
    {
        var rounds = new[]
        {
            Round(0, kd: 1.0, crd: 9.0), // warm-up: ignored
            Round(1, kd: 2.0, crd: 3.0), // 1.5
            Round(2, kd: 1.0, crd: 2.0), // 2.0
            Round(3, kd: 4.0, crd: 4.0), // 1.0
        };

        var ratios = Summary.StepTimeRatios(rounds);
        ratios["kd"].Should().Be(1.0);
        ratios["crd"].Should().Be(1.5);
        Summary.Median(new[] { 4.0, 1.0, 3.0, 2.0 }).Should().Be(2.5);
        double.IsNaN(Summary.Median(Array.Empty<double>())).Should().BeTrue();
    }

    [Fact]
    public void Best_epoch_is_chosen_on_validation_first_on_ties_and_on_test_without_validation()
    {
        var withValidation = new[]
        {
            new EpochPoint("distill", 0, 0.70, 0.99, 1),
            new EpochPoint("distill", 1, 0.80, 0.10, 1),
            new EpochPoint("distill", 2, 0.80, 0.50, 1),
        };
        Summary.BestEpochIndex(withValidation).Should().Be(1, "validation decides, the first of equal ones, whatever the test accuracy");

        var testOnly = new[] { new EpochPoint("distill", 0, null, 0.7, 1), new EpochPoint("distill", 1, null, 0.9, 1), new EpochPoint("distill", 2, null, 0.8, 1) };
        Summary.BestEpochIndex(testOnly).Should().Be(1);
        var act = () => Summary.BestEpochIndex(Array.Empty<EpochPoint>());
        act.Should().Throw<ArgumentException>();
    }

    private static MethodRun Run(string method, int seed, double last) => new()
    {
        Method = method,
        Seed = seed,
        LastAccuracy = last,
        BestValidationEpochAccuracy = last + 0.01,
        BestEpoch = 0,
        TrainSeconds = 10,
        PeakMemoryMiB = 500,
        Epochs = Array.Empty<EpochPoint>(),
    };

    private static StepTimeRound Round(int round, double kd, double crd) =>
        new(round, new Dictionary<string, double> { ["kd"] = kd, ["crd"] = crd }, null);
}
