using FluentAssertions;
using KnowledgeDistillation.Detection.Losses;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Detection.Tests.Losses;

/// <summary>The method note's oracles (../shared/methods/icd.md, "What a correct implementation must show"), 1-3 here.</summary>
public sealed class IcdOracleTests
{
    private static Tensor Ln(Tensor x) => nn.functional.layer_norm(x, new[] { x.shape[^1] });

    [Fact]
    public void Oracle1_one_real_instance_with_uniform_logits_is_plain_mse_times_lambda_and_two_instances_change_nothing()
    {
        random.manual_seed(1);
        var (b, s, h, d) = (2L, 5L, 2L, 4L);
        var vs = randn(b, s, h, d, dtype: ScalarType.Float64);
        var vt = randn(b, s, h, d, dtype: ScalarType.Float64);
        var plain = 8 * (Ln(vs) - Ln(vt)).pow(2).mean().item<double>();
        var one = IcdLoss.MaskedFeatureLoss(vs, vt, zeros(b, h, 1, s, dtype: ScalarType.Float64), ones(b, 1, dtype: ScalarType.Bool), 1, 8).item<double>();
        one.Should().BeApproximately(plain, 1e-12, "w = 1/S everywhere: weighted mean = plain mean");
        var two = IcdLoss.MaskedFeatureLoss(vs, vt, zeros(b, h, 2, s, dtype: ScalarType.Float64), ones(b, 2, dtype: ScalarType.Bool), 1, 8).item<double>();
        two.Should().BeApproximately(plain, 1e-12, "w sums to 2 and the loss divides by it");
    }

    [Fact]
    public void Oracle2_fake_instances_never_contribute()
    {
        random.manual_seed(2);
        var vs = randn(1, 6, 2, 4, dtype: ScalarType.Float64);
        var vt = randn(1, 6, 2, 4, dtype: ScalarType.Float64);
        var logits = randn(1, 2, 4, 6, dtype: ScalarType.Float64);
        var realOnly = IcdLoss.MaskedFeatureLoss(vs, vt, logits[.., .., ..1], tensor(new[] { true }).view(1, 1), 1, 8).item<double>();
        var withFakes = IcdLoss.MaskedFeatureLoss(vs, vt, logits, tensor(new[] { true, false, false, false }).view(1, 4), 1, 8).item<double>();
        withFakes.Should().BeApproximately(realOnly, 1e-12);
        var fakeAsReal = IcdLoss.MaskedFeatureLoss(vs, vt, logits, tensor(new[] { true, true, false, false }).view(1, 4), 1, 8).item<double>();
        fakeAsReal.Should().NotBeApproximately(realOnly, 1e-6, "the test can fail: counting a second query changes the mask");
    }

    [Fact]
    public void Oracle3_closed_form_thirty_two()
    {
        // S = 2, one head, d = 2: V^T = [1, -1], V^S = [-1, 1] at both positions (already normalised: LN leaves them),
        // w = [0.75, 0.25] (logits ln 3, 0) -> per-position error 4 on both channels -> loss = 8 · 4 = 32.
        var vt = tensor(new double[] { 1, -1, 1, -1 }, new long[] { 1, 2, 1, 2 });
        var vs = tensor(new double[] { -1, 1, -1, 1 }, new long[] { 1, 2, 1, 2 });
        var logits = tensor(new[] { Math.Log(3), 0 }, new long[] { 1, 1, 1, 2 });
        IcdLoss.MaskedFeatureLoss(vs, vt, logits, ones(1, 1, dtype: ScalarType.Bool), 1, 8).item<double>().Should().BeApproximately(32 / (1 + 1e-5), 1e-9, "32, with LayerNorm's eps: ±1 normalise to ±1/sqrt(1 + 1e-5)");
        // An image without real instances contributes 0 (w = 0: 0 / max(0, 1e-6)).
        IcdLoss.MaskedFeatureLoss(vs, vt, logits, zeros(1, 1, dtype: ScalarType.Bool), 1, 8).item<double>().Should().Be(0);
    }

    [Fact]
    public void Bad_shapes_and_temperatures_are_refused()
    {
        var v = zeros(1, 2, 1, 2);
        ((Action)(() => IcdLoss.MaskedFeatureLoss(v, zeros(1, 3, 1, 2), zeros(1, 1, 1, 2), ones(1, 1, dtype: ScalarType.Bool), 1, 8))).Should().Throw<ArgumentException>().WithParameterName("attentionLogits");
        ((Action)(() => IcdLoss.MaskedFeatureLoss(v, v, zeros(1, 1, 1, 2), ones(1, 1, dtype: ScalarType.Bool), 0, 8))).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("temperature");
        ((Action)(() => new IcdOptions { TeacherChannels = 30 }.Validate())).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("TeacherChannels");
        ((Action)(() => new IcdOptions { WarmupSteps = -1 }.Validate())).Should().Throw<ArgumentOutOfRangeException>();
    }
}
