using FluentAssertions;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Graph.KnowledgeGraphs;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Tests.KnowledgeGraphs;

/// <summary><see cref="ScoreCalibration"/>: Platt scaling of KGE scores and the calibrated teacher participant.</summary>
public sealed class ScoreCalibrationTests
{
    private static double[] Gaussian(Random rng, int n, double mean)
    {
        var x = new double[n];
        for (var i = 0; i < n; i++)
        {
            // Box-Muller, unit variance.
            var u = 1 - rng.NextDouble();
            var v = rng.NextDouble();
            x[i] = mean + Math.Sqrt(-2 * Math.Log(u)) * Math.Cos(2 * Math.PI * v);
        }
        return x;
    }

    // The balanced negative log-likelihood, written out independently of the library's code.
    private static double BalancedLoss(double[] pos, double[] neg, double a, double b) =>
        pos.Average(x => Math.Log(1 + Math.Exp(-(a * x + b)))) / 2 + neg.Average(x => Math.Log(1 + Math.Exp(a * x + b))) / 2;

    [Fact]
    public void Fitting_two_unit_gaussians_recovers_their_exact_log_odds_whatever_the_class_sizes()
    {
        // Equal priors, N(2, 1) against N(-1, 1): log odds = (mu1 - mu0) x - (mu1^2 - mu0^2) / 2 = 3 x - 1.5.
        var rng = new Random(11);
        var pos = Gaussian(rng, 100_000, 2);
        var neg = Gaussian(rng, 300_000, -1);

        var c = ScoreCalibration.FitScores(pos, neg);

        c.Scale.Should().BeApproximately(3, 0.05);
        c.Shift.Should().BeApproximately(-1.5, 0.05);
        var fewer = ScoreCalibration.FitScores(pos, neg.Take(100_000).ToArray());
        fewer.Shift.Should().BeApproximately(c.Shift, 0.05, "classes get equal total weight, so the negatives' count does not move the shift");
    }

    [Fact]
    public void The_fit_is_the_minimum_of_the_balanced_likelihood()
    {
        var pos = new[] { 2.0, 0.5, 3.0, -0.5, 1.0 };
        var neg = new[] { -1.0, 0.0, 1.5, -2.0, -0.5, 0.7, -3.0 };

        var c = ScoreCalibration.FitScores(pos, neg);

        var best = BalancedLoss(pos, neg, c.Scale, c.Shift);
        foreach (var (da, db) in new[] { (1e-3, 0.0), (-1e-3, 0.0), (0.0, 1e-3), (0.0, -1e-3), (1e-3, 1e-3), (-1e-3, 1e-3) })
        {
            BalancedLoss(pos, neg, c.Scale + da, c.Shift + db).Should().BeGreaterThan(best);
        }
        c.Scale.Should().BeGreaterThan(0);
    }

    [Fact]
    public void Separated_empty_or_non_finite_scores_are_rejected_with_the_argument_named()
    {
        var act = () => ScoreCalibration.FitScores(new[] { 5.0, 6.0 }, new[] { 1.0, 2.0 });
        act.Should().Throw<ArgumentException>().WithParameterName("positiveScores").WithMessage("*separate*validation split*");
        ((Action)(() => ScoreCalibration.FitScores(Array.Empty<double>(), new[] { 1.0 }))).Should().Throw<ArgumentException>().WithParameterName("positiveScores");
        ((Action)(() => ScoreCalibration.FitScores(new[] { 1.0, -1.0 }, new[] { double.NaN }))).Should().Throw<ArgumentException>().WithParameterName("negativeScores");

        ((Action)(() => ScoreCalibration.FitScores(new[] { 1.0, 1.0 }, new[] { 1.0 }))).Should().Throw<InvalidOperationException>().WithMessage("*constant*");

        using var model = new ComplEx(10, 2, 4);
        ((Action)(() => ScoreCalibration.Fit(model, Array.Empty<Triple>()))).Should().Throw<ArgumentException>().WithParameterName("triples");
        ((Action)(() => ScoreCalibration.Fit(model, new[] { new Triple(0, 5, 1) }))).Should().Throw<ArgumentException>().WithParameterName("triples").WithMessage("*2 relations*");
        ((Action)(() => ScoreCalibration.Fit(model, new[] { new Triple(0, 1, 1) }, negativesPerTriple: 0))).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("negativesPerTriple");
        ((Action)(() => KgeParticipant.Teacher(model, calibration: new ScoreCalibration(double.NaN, 0)))).Should().Throw<ArgumentException>().WithParameterName("calibration");
    }

    [Fact]
    public void Fitting_a_model_is_reproducible_and_orders_like_the_raw_scores()
    {
        var graph = KgTestData.Ring(12);
        random.manual_seed(3);
        using var model = new ComplEx(12, 2, 4, initRange: 1.0);

        var c = ScoreCalibration.Fit(model, graph.Train, negativesPerTriple: 8, seed: 4, batchSize: 5);
        var again = ScoreCalibration.Fit(model, graph.Train, negativesPerTriple: 8, seed: 4, batchSize: 64);

        again.Should().Be(c, "the corruptions depend on the seed only, not on the batch size");
        double.IsFinite(c.Scale).Should().BeTrue();
        double.IsFinite(c.Shift).Should().BeTrue();
        ScoreCalibration.Fit(model, graph.Train, negativesPerTriple: 8, seed: 5).Should().NotBe(c);
    }

    [Fact]
    public void A_calibrated_teacher_outputs_the_mapped_scores_and_unchanged_entity_rows()
    {
        random.manual_seed(8);
        using var model = new ComplEx(10, 2, 4, initRange: 1.0);
        var map = new ScoreCalibration(2.5, -3.0);
        using var raw = KgeParticipant.Teacher(model);
        using var calibrated = KgeParticipant.Teacher(model, calibration: map);
        using var plain = KgeParticipant.Teacher(model, calibration: ScoreCalibration.Identity);
        var triples = tensor(new long[] { 0, 0, 1, 3, 1, 2, 5, 0, 9 }, new long[] { 3, 3 });
        var negatives = tensor(new long[] { 4, 5, 6, 7, 8, 9 }, new long[] { 3, 2 });
        var batch = new Batch(triples, null, arange(3, dtype: ScalarType.Int64), new Dictionary<string, Tensor>
        {
            [TripleBatchSource.NegativesKey] = negatives,
            [TripleBatchSource.CorruptHeadKey] = tensor(new long[] { 0 }),
        });

        var r = raw.Forward(batch);
        var c = calibrated.Forward(batch);

        foreach (var key in new[] { KgeParticipant.PositiveScores, KgeParticipant.NegativeScores })
        {
            var expected = r.Features[key].to(ScalarType.Float64) * 2.5 - 3.0;
            c.Features[key].to(ScalarType.Float64).allclose(expected, rtol: 1e-6, atol: 1e-6).Should().BeTrue(key);
        }
        c.Features[KgeParticipant.HeadRows].allclose(r.Features[KgeParticipant.HeadRows], 0, 0).Should().BeTrue();
        plain.Forward(batch).Features[KgeParticipant.PositiveScores].allclose(r.Features[KgeParticipant.PositiveScores], 0, 0).Should().BeTrue();

        c.Features[KgeParticipant.PositiveScores].sum().backward();
        model.EntityEmbeddings.grad.Should().NotBeNull("a calibrated teacher still trains in DualDE's stage 2");
    }
}
