using FluentAssertions;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Tests.Support;
using TorchSharp;
using Xunit;
using Xunit.Sdk;
using static KnowledgeDistillation.Tests.Losses.LossTestHelpers;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Losses;

public class MutualLearningLossTests
{
    // dml.md worked example.
    private static readonly double[][] Z1 = { new[] { 1.0, 2, 3 }, new[] { 0.0, 0, 0 } };
    private static readonly double[][] Z2 = { new[] { 3.0, 2, 1 }, new[] { 1.0, 0, -1 } };
    private static readonly double[][] Z3 = { new[] { 0.0, 1, 0 }, new[] { 2.0, 0, 0 } };
    private static readonly long[] Y = { 2, 0 };

    public static IEnumerable<object[]> FixtureEntries() =>
        from c in MutualLearningFixtures.Cases
        from e in c.Entries
        select new object[] { c.Name, e.Target, e.Temperature };

    public static IEnumerable<object[]> CaseNames() => MutualLearningFixtures.Cases.Select(c => new object[] { c.Name });

    private static string[] PeerNames(int count) => Enumerable.Range(1, count).Select(i => $"peer{i}").ToArray();

    private static MutualLearningTarget Target(string target) => target switch
    {
        "per_peer" => MutualLearningTarget.PerPeer,
        "ensemble" => MutualLearningTarget.PeerEnsemble,
        _ => throw new ArgumentOutOfRangeException(nameof(target), target, "Unknown fixture target."),
    };

    /// <summary>Runs <paramref name="loss"/> on fresh leaf copies of every peer's logits; a peer without a gradient gets null.</summary>
    private static (double Value, double[][]?[] Grads) ValueAndGrads(double[][][] logits, Func<Tensor[], Tensor> loss, ScalarType dtype = ScalarType.Float64)
    {
        var leaves = logits.Select(z => Matrix(z, dtype).requires_grad_()).ToArray();
        var value = loss(leaves);
        value.numel().Should().Be(1);
        value.backward();
        return (Scalar(value), leaves.Select(l => l.grad is null ? null : ToRows(l.grad)).ToArray());
    }

    private static DistillationContext CohortContext(Tensor[] logits, long[]? labels = null)
    {
        var names = PeerNames(logits.Length);
        var outputs = names.Select((n, i) => (n, new ModelOutput(logits[i]))).ToDictionary(p => p.n, p => p.Item2);
        return Context(outputs, labels is null ? null : Labels(labels), logits[0].shape[0]);
    }

    [Fact]
    public void Dml_md_worked_example()
    {
        using var scope = torch.NewDisposeScope();

        // 1. CE and KL in both directions (asymmetric).
        Scalar(CrossEntropyLoss.Value(Matrix(Z1), Labels(Y))).Should().BeApproximately(0.753109, 1e-6);
        Scalar(CrossEntropyLoss.Value(Matrix(Z2), Labels(Y))).Should().BeApproximately(1.407606, 1e-6);
        var pair = new[] { Matrix(Z1), Matrix(Z2) };
        Scalar(MutualLearningLoss.PeerValue(pair, 0)).Should().BeApproximately(0.708319, 1e-6, "KL(p2 || p1)");
        Scalar(MutualLearningLoss.PeerValue(pair, 1)).Should().BeApproximately(0.729707, 1e-6, "KL(p1 || p2)");

        // 2-3. L_Theta1, L_Theta2 and the gradient of L_Theta1: z_2 gets none (peer detached).
        var (l1, g1) = ValueAndGrads(new[] { Z1, Z2 }, z => CrossEntropyLoss.Value(z[0], Labels(Y)) + MutualLearningLoss.PeerValue(z, 0));
        l1.Should().BeApproximately(1.461428, 1e-6);
        var expectedGrad = new[] { new[] { -0.242590, 0.122364, 0.120226 }, new[] { -0.499287, 0.210969, 0.288318 } };
        MaxAbsDifference(g1[0]!, expectedGrad).Should().BeLessThanOrEqualTo(1e-6);
        g1[1].Should().BeNull("L_Theta1 treats peer 2 as a constant");
        var (l2, g2) = ValueAndGrads(new[] { Z1, Z2 }, z => CrossEntropyLoss.Value(z[1], Labels(Y)) + MutualLearningLoss.PeerValue(z, 1));
        l2.Should().BeApproximately(2.137313, 1e-6);
        g2[0].Should().BeNull();

        // The cohort loss (CE per peer + mutual) gives z_1 exactly the gradient of L_Theta1, and totals L_Theta1 + L_Theta2.
        var cohort = Loss.MutualLearning(PeerNames(2));
        var (total, grads) = ValueAndGrads(new[] { Z1, Z2 }, z => cohort.Compute(CohortContext(z, Y)).Total);
        total.Should().BeApproximately(1.461428 + 2.137313, 2e-6);
        MaxAbsDifference(grads[0]!, expectedGrad).Should().BeLessThanOrEqualTo(1e-6);
        grads[0]!.ShouldBeClose(g1[0]!, 1e-12, "cohort gradient of z_1 vs gradient of L_Theta1");
        grads[1]!.ShouldBeClose(g2[1]!, 1e-12, "cohort gradient of z_2 vs gradient of L_Theta2");

        // 4. K = 3: L_Theta1 = CE_1 + (KL(p2||p1) + KL(p3||p1)) / 2.
        var trio = new[] { Matrix(Z1), Matrix(Z2), Matrix(Z3) };
        (Scalar(CrossEntropyLoss.Value(trio[0], Labels(Y))) + Scalar(MutualLearningLoss.PeerValue(trio, 0))).Should().BeApproximately(1.323598, 1e-6);

        // 6. Gradient rows sum to 0.
        foreach (var row in g1[0]!.Concat(grads[1]!))
        {
            row.Sum().Should().BeApproximately(0, 1e-12);
        }
    }

    [Theory]
    [MemberData(nameof(FixtureEntries))]
    public void Value_peer_terms_and_gradients_match_pytorch(string caseName, string target, double temperature)
    {
        using var scope = torch.NewDisposeScope();
        var c = MutualLearningFixtures.Case(caseName);
        var reference = c.Entries.Single(e => e.Target == target && e.Temperature == temperature);
        var kind = Target(target);
        var tolerance = KdValueTolerance(LossFixtures.Float64, temperature);

        var (value, grads) = ValueAndGrads(c.Logits, z => MutualLearningLoss.Value(z, temperature, kind));
        value.ShouldBeClose(reference.Total, tolerance, $"{caseName} {target} T={temperature} total");
        for (var k = 0; k < c.Logits.Length; k++)
        {
            grads[k]!.ShouldBeClose(reference.Grads[k], Float64Tolerance, $"{caseName} {target} T={temperature} gradient of peer {k}");
        }

        // Through Compute: the same total, and one part per peer with PyTorch's L_k.
        var loss = new MutualLearningLoss(PeerNames(c.Logits.Length), temperature, kind);
        var leaves = c.Logits.Select(z => Matrix(z)).ToArray();
        var result = loss.Compute(CohortContext(leaves));
        Scalar(result.Total).ShouldBeClose(reference.Total, tolerance, "total via Compute");
        result.Parts.Keys.Should().BeEquivalentTo(PeerNames(c.Logits.Length).Select(p => $"dml.{p}").Append("dml"));
        for (var k = 0; k < c.Logits.Length; k++)
        {
            Scalar(result.Parts[$"dml.peer{k + 1}"]).ShouldBeClose(reference.PeerValues[k], tolerance, $"part of peer {k}");
            Scalar(MutualLearningLoss.PeerValue(leaves, k, temperature, kind)).ShouldBeClose(reference.PeerValues[k], tolerance, $"PeerValue({k})");
        }

        // The cohort factory (CE per peer + mutual term).
        var cohort = Loss.MutualLearning(PeerNames(c.Logits.Length), temperature, kind);
        var (withCe, withCeGrads) = ValueAndGrads(c.Logits, z => cohort.Compute(CohortContext(z, c.Labels)).Total);
        withCe.ShouldBeClose(reference.WithCe.Total, tolerance, "CE + DML total");
        for (var k = 0; k < c.Logits.Length; k++)
        {
            withCeGrads[k]!.ShouldBeClose(reference.WithCe.Grads[k], Float64Tolerance, $"CE + DML gradient of peer {k}");
        }
    }

    [Theory]
    [MemberData(nameof(FixtureEntries))]
    public void Float32_matches_the_float64_reference(string caseName, string target, double temperature)
    {
        using var scope = torch.NewDisposeScope();
        var c = MutualLearningFixtures.Case(caseName);
        var reference = c.Entries.Single(e => e.Target == target && e.Temperature == temperature);
        var (value, grads) = ValueAndGrads(c.Logits, z => MutualLearningLoss.Value(z, temperature, Target(target)), ScalarType.Float32);
        value.ShouldBeClose(reference.Total, 4 * KdValueTolerance(LossFixtures.Float32, temperature), "float32 total");
        for (var k = 0; k < c.Logits.Length; k++)
        {
            grads[k]!.ShouldBeClose(reference.Grads[k], Float32Tolerance, $"float32 gradient of peer {k}");
        }
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Value_and_gradients_match_the_hand_derived_formulas(string caseName)
    {
        using var scope = torch.NewDisposeScope();
        var z = MutualLearningFixtures.Case(caseName).Logits;
        foreach (var temperature in new[] { 1.0, 3.0, 10.0 })
        {
            foreach (var kind in new[] { MutualLearningTarget.PerPeer, MutualLearningTarget.PeerEnsemble })
            {
                var (value, grads) = ValueAndGrads(z, t => MutualLearningLoss.Value(t, temperature, kind));
                value.ShouldBeClose(ReferenceValue(z, temperature, kind), 1e-12, $"{kind} T={temperature}");
                for (var k = 0; k < z.Length; k++)
                {
                    grads[k]!.ShouldBeClose(ReferenceGrad(z, k, temperature, kind), 1e-12, $"{kind} T={temperature} gradient of peer {k}");
                    foreach (var row in grads[k]!)
                    {
                        row.Sum().Should().BeApproximately(0, 1e-12);
                    }
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Gradient_of_the_total_is_the_finite_difference_gradient_of_each_peers_own_term(string caseName)
    {
        // d total / d z_k must equal d L_k / d z_k with the peers held fixed: central differences of PeerValue(k) in z_k only.
        using var scope = torch.NewDisposeScope();
        var z = MutualLearningFixtures.Case(caseName).Logits;
        const double h = 1e-5;
        foreach (var (temperature, kind) in new[] { (1.0, MutualLearningTarget.PerPeer), (2.5, MutualLearningTarget.PeerEnsemble) })
        {
            var leaves = z.Select(x => Matrix(x, requiresGrad: true)).ToArray();
            var names = leaves.Select((_, k) => $"{kind} T={temperature} peer {k}").ToArray();
            var inputs = names.Zip(leaves).ToArray();
            Tensor Total() => MutualLearningLoss.Value(leaves, temperature, kind);
            GradientCheck.AssertMatchesFiniteDifferences(
                Total, inputs, tolerance: 1e-7, step: h, numeric: name => MutualLearningLoss.PeerValue(leaves, Array.IndexOf(names, name), temperature, kind));

            // Differentiating the total with the peers NOT held fixed gives another answer: the detach is what the test sees.
            var coupled = () => GradientCheck.AssertMatchesFiniteDifferences(Total, inputs[..1], tolerance: 1e-3, step: h);
            coupled.Should().Throw<XunitException>();
        }
    }

    [Fact]
    public void A_peer_term_sends_no_gradient_to_the_other_peers()
    {
        using var scope = torch.NewDisposeScope();
        foreach (var kind in new[] { MutualLearningTarget.PerPeer, MutualLearningTarget.PeerEnsemble })
        {
            var (_, grads) = ValueAndGrads(new[] { Z1, Z2, Z3 }, z => MutualLearningLoss.PeerValue(z, 1, 2.0, kind));
            grads[0].Should().BeNull();
            grads[2].Should().BeNull();
            grads[1]!.SelectMany(r => r).Max(Math.Abs).Should().BeGreaterThan(0.01);
        }
    }

    [Fact]
    public void Two_peer_ensemble_equals_per_peer_and_three_peer_ensemble_differs()
    {
        using var scope = torch.NewDisposeScope();
        var pair = new[] { Matrix(Z1), Matrix(Z2) };
        Scalar(MutualLearningLoss.Value(pair, 2.0, MutualLearningTarget.PeerEnsemble))
            .Should().BeApproximately(Scalar(MutualLearningLoss.Value(pair, 2.0)), 1e-14);
        var trio = new[] { Matrix(Z1), Matrix(Z2), Matrix(Z3) };

        // KL is convex in its first argument: KL(mean p_l || p_k) <= mean KL(p_l || p_k), strictly here.
        Scalar(MutualLearningLoss.Value(trio, 1.0, MutualLearningTarget.PeerEnsemble))
            .Should().BeLessThan(Scalar(MutualLearningLoss.Value(trio, 1.0)) - 0.1);
    }

    [Fact]
    public void Identical_peers_give_zero_loss_and_zero_gradient_and_temperature_scales_by_t_squared()
    {
        using var scope = torch.NewDisposeScope();
        var z = MutualLearningFixtures.Case("random_k3").Logits;
        var (value, grads) = ValueAndGrads(new[] { z[0], z[0], z[0] }, t => MutualLearningLoss.Value(t, 4.0));
        value.Should().BeApproximately(0, 1e-12);
        grads.SelectMany(g => g!).SelectMany(r => r).Max(Math.Abs).Should().BeLessThanOrEqualTo(1e-12);

        // L(z; T) = T² L(z / T; 1).
        var logits = z.Select(x => Matrix(x)).ToArray();
        Scalar(MutualLearningLoss.Value(logits, 4.0))
            .Should().BeApproximately(16 * Scalar(MutualLearningLoss.Value(logits.Select(t => t / 4.0).ToArray(), 1.0)), 1e-12);
    }

    [Fact]
    public void A_zero_peer_probability_contributes_zero_not_nan()
    {
        using var scope = torch.NewDisposeScope();
        var masked = Matrix(new[] { new[] { 3.0, double.NegativeInfinity, 1 } });
        var finite = Matrix(new[] { new[] { 3.0, -1e4, 1 } });
        var own = Matrix(new[] { new[] { 1.0, 2, 0.5 } });
        foreach (var kind in new[] { MutualLearningTarget.PerPeer, MutualLearningTarget.PeerEnsemble })
        {
            var value = Scalar(MutualLearningLoss.PeerValue(new[] { own, masked, masked }, 0, 1.0, kind));
            double.IsFinite(value).Should().BeTrue();
            value.Should().BeApproximately(Scalar(MutualLearningLoss.PeerValue(new[] { own, finite, finite }, 0, 1.0, kind)), 1e-12);
        }
    }

    [Fact]
    public void Parts_sum_to_the_total_and_compose_with_cross_entropy_without_collisions()
    {
        using var scope = torch.NewDisposeScope();
        var logits = new[] { Matrix(Z1), Matrix(Z2), Matrix(Z3) };
        var result = Loss.MutualLearning(new[] { "peer1", "peer2", "peer3" }, temperature: 2.0).Compute(CohortContext(logits, Y));
        result.Parts.Keys.Should().BeEquivalentTo("ce-peer1", "ce-peer2", "ce-peer3", "dml.peer1", "dml.peer2", "dml.peer3", "dml");
        var mutual = Scalar(result.Parts["dml"]);
        mutual.Should().BeApproximately(new[] { 1, 2, 3 }.Sum(i => Scalar(result.Parts[$"dml.peer{i}"])), 1e-12);
        Scalar(result.Total).Should().BeApproximately(mutual + new[] { 1, 2, 3 }.Sum(i => Scalar(result.Parts[$"ce-peer{i}"])), 1e-12);
        Scalar(result.Parts["ce-peer2"]).Should().BeApproximately(1.407606, 1e-6);
        new MutualLearningLoss(new[] { "a", "b" }, name: "mutual").Compute(Context(
            new Dictionary<string, ModelOutput> { ["a"] = new(Matrix(Z1)), ["b"] = new(Matrix(Z2)) }, null, 2)).Parts.Keys
            .Should().BeEquivalentTo("mutual.a", "mutual.b", "mutual");
    }

    // ---- bad input -------------------------------------------------------------------------------------------

    [Fact]
    public void Fewer_than_two_empty_or_duplicate_peers_are_rejected()
    {
        ((Action)(() => new MutualLearningLoss(new[] { "peer1" }))).Should().Throw<ArgumentException>()
            .Where(e => e.ParamName == "peers").WithMessage("*at least two peers*1*");
        ((Action)(() => new MutualLearningLoss(Array.Empty<string>()))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "peers");
        ((Action)(() => new MutualLearningLoss(new[] { "a", "b", "a" }))).Should().Throw<ArgumentException>()
            .Where(e => e.ParamName == "peers").WithMessage("*'a'*twice*");
        ((Action)(() => new MutualLearningLoss(new[] { "a", " " }))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "peers");
        ((Action)(() => new MutualLearningLoss(null!))).Should().Throw<ArgumentNullException>().Where(e => e.ParamName == "peers");
        ((Action)(() => Loss.MutualLearning(new[] { "solo" }))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "peers");
        ((Action)(() => new MutualLearningLoss(new[] { "a", "b" }, target: (MutualLearningTarget)7))).Should().Throw<ArgumentException>()
            .Where(e => e.ParamName == "target");
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void Bad_temperatures_are_rejected(double temperature)
    {
        using var scope = torch.NewDisposeScope();
        ((Action)(() => new MutualLearningLoss(new[] { "a", "b" }, temperature))).Should().Throw<ArgumentOutOfRangeException>()
            .Where(e => e.ParamName == "temperature").WithMessage("*temperature*finite number > 0*");
        ((Action)(() => MutualLearningLoss.Value(new[] { Matrix(Z1), Matrix(Z2) }, temperature))).Should().Throw<ArgumentOutOfRangeException>()
            .Where(e => e.ParamName == "temperature");
        ((Action)(() => Loss.MutualLearning(new[] { "a", "b" }, temperature))).Should().Throw<ArgumentOutOfRangeException>()
            .Where(e => e.ParamName == "temperature");
    }

    [Fact]
    public void Mismatched_logits_are_rejected_naming_the_peer_and_both_shapes()
    {
        using var scope = torch.NewDisposeScope();
        var three = torch.zeros(2, 3, ScalarType.Float64);
        var four = torch.zeros(2, 4, ScalarType.Float64);
        ((Action)(() => MutualLearningLoss.Value(new[] { three, three, four }))).Should().ThrowExactly<ArgumentException>()
            .Where(e => e.ParamName == "logits[2]").WithMessage("*classes*[2, 4]*[2, 3]*");
        ((Action)(() => MutualLearningLoss.Value(new[] { three, torch.zeros(5, 3, ScalarType.Float64) }))).Should().ThrowExactly<ArgumentException>()
            .Where(e => e.ParamName == "logits[1]").WithMessage("*Batch sizes differ*[5, 3]*[2, 3]*");
        ((Action)(() => MutualLearningLoss.Value(new[] { three, torch.zeros(2, 3, 1, ScalarType.Float64) }))).Should().ThrowExactly<ArgumentException>()
            .Where(e => e.ParamName == "logits[1]").WithMessage("*[batch, classes]*");
        ((Action)(() => MutualLearningLoss.Value(new[] { three }))).Should().Throw<ArgumentException>()
            .Where(e => e.ParamName == "logits").WithMessage("*at least two*");
        ((Action)(() => MutualLearningLoss.Value(null!))).Should().Throw<ArgumentNullException>().Where(e => e.ParamName == "logits");
        ((Action)(() => MutualLearningLoss.Value(new[] { three, null! }))).Should().Throw<ArgumentNullException>().Where(e => e.ParamName == "logits");
        ((Action)(() => MutualLearningLoss.PeerValue(new[] { three, three }, 2))).Should().Throw<ArgumentOutOfRangeException>()
            .Where(e => e.ParamName == "peer");

        var context = Context(new Dictionary<string, ModelOutput> { ["a"] = new(three), ["b"] = new(four) }, null, 2);
        ((Action)(() => new MutualLearningLoss(new[] { "a", "b" }).Compute(context))).Should().ThrowExactly<ArgumentException>()
            .Where(e => e.ParamName == "logits of peer 'b'").WithMessage("*'b'*4 classes*'a'*3*");
        ((Action)(() => new MutualLearningLoss(new[] { "a", "c" }).Compute(context))).Should().Throw<KeyNotFoundException>().WithMessage("*'c'*");
        ((Action)(() => new MutualLearningLoss(new[] { "a", "b" }).Compute(null!))).Should().Throw<ArgumentNullException>();
    }

    // ---- independent double-precision references ----------------------------------------------------------

    /// <summary>Σ_k L_k from Reference.KD (per peer) or the mean distribution of the other peers (ensemble).</summary>
    private static double ReferenceValue(double[][][] z, double temperature, MutualLearningTarget kind)
    {
        var count = z.Length;
        double total = 0;
        for (var k = 0; k < count; k++)
        {
            var others = Enumerable.Range(0, count).Where(l => l != k).ToArray();
            if (kind == MutualLearningTarget.PerPeer)
            {
                total += others.Sum(l => Reference.KD(z[k], z[l], temperature)) / (count - 1);
                continue;
            }

            double sum = 0;
            for (var i = 0; i < z[k].Length; i++)
            {
                var mean = MeanOfOthers(z, others, i, temperature);
                var logOwn = Reference.LogSoftmax(z[k][i], temperature);
                sum += mean.Select((q, m) => q * (Math.Log(q) - logOwn[m])).Sum();
            }

            total += temperature * temperature * sum / z[k].Length;
        }

        return total;
    }

    /// <summary>(T / B)(1 / (K − 1)) Σ_{l≠k} (p_k − p_l), which for the ensemble target is (T / B)(p_k − p̄_{-k}).</summary>
    private static double[][] ReferenceGrad(double[][][] z, int k, double temperature, MutualLearningTarget kind)
    {
        // Both targets have the same gradient formula: the per-peer average of (p_k − p_l) equals p_k − mean_l p_l.
        _ = kind;
        var others = Enumerable.Range(0, z.Length).Where(l => l != k).ToArray();
        var b = z[k].Length;
        return z[k].Select((row, i) =>
        {
            var own = Reference.Softmax(row, temperature);
            var mean = MeanOfOthers(z, others, i, temperature);
            return own.Select((p, m) => temperature / b * (p - mean[m])).ToArray();
        }).ToArray();
    }

    private static double[] MeanOfOthers(double[][][] z, int[] others, int row, double temperature)
    {
        var classes = z[0][row].Length;
        var mean = new double[classes];
        foreach (var l in others)
        {
            var p = Reference.Softmax(z[l][row], temperature);
            for (var m = 0; m < classes; m++)
            {
                mean[m] += p[m] / others.Length;
            }
        }

        return mean;
    }
}

/// <summary>
/// The loss contract for <see cref="MutualLearningLoss"/> (three peers, T = 2, per-peer targets) on the random_k3 PyTorch
/// fixture. Each peer is trained on its own term with the others detached, so the finite differences for peer k are
/// those of its part "dml.peer{k}", not of the total.
/// </summary>
public sealed class MutualLearningLossContractTests : LossContractTests
{
    private static readonly MutualLearningCase Fixture = MutualLearningFixtures.Case("random_k3");
    private static readonly string[] Peers = ["peer1", "peer2", "peer3"];

    protected override IDistillationLoss CreateLoss() => new MutualLearningLoss(Peers, 2.0);

    protected override LossContractCase CreateCase(Device device) => LogitsCase(
        device, Peers.Select((p, k) => (p, Fixture.Logits[k])).ToArray(), [], labels: null,
        expected: Fixture.Entries.Single(e => e.Target == "per_peer" && e.Temperature == 2.0).Total);

    protected override IEnumerable<LossBadInput> BadInputs => base.BadInputs.Concat(LogitsBadInputs(Peers, readsLabels: false));

    protected override Tensor GradientObjective(LossResult result, string input) => result.Parts[$"dml.{input}"];
}
