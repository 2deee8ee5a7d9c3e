using FluentAssertions;
using KnowledgeDistillation.Losses;
using TorchSharp;
using Xunit;
using static KnowledgeDistillation.Tests.Losses.InheritanceExplorationFixtures;
using static KnowledgeDistillation.Tests.Losses.LossTestHelpers;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Losses;

public class FactorReconstructionLossTests
{
    [Fact]
    public void Ie_kd_md_4_l1_mean_over_elements_and_exact_reconstruction_is_zero()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new[] { 1.0, 2 }, new long[] { 1, 1, 1, 2 }, ScalarType.Float64);
        Scalar(FactorReconstructionLoss.Value(x, zeros_like(x))).Should().Be(1.5);
        using var generator = new Generator(2);
        var map = randn(new long[] { 3, 4, 5, 6 }, ScalarType.Float64, generator: generator);
        Scalar(FactorReconstructionLoss.Value(map, map.clone())).Should().Be(0);
    }

    [Fact]
    public void Gradient_wrt_the_reconstruction_is_sign_over_numel()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new[] { 1.0, -2, 0.5, 3, 0, 4 }, new long[] { 1, 2, 1, 3 }, ScalarType.Float64);
        var y = tensor(new[] { 0.0, -1, 2, 3.5, -1, 1 }, new long[] { 1, 2, 1, 3 }, ScalarType.Float64).requires_grad_();
        FactorReconstructionLoss.Value(x, y).backward();
        Values(y.grad!).Should().Equal(-1.0 / 6, 1.0 / 6, 1.0 / 6, 1.0 / 6, -1.0 / 6, -1.0 / 6);
    }

    [Fact]
    public void Matches_pytorch_value_and_autoencoder_gradients_and_leaves_the_feature_alone()
    {
        using var scope = NewDisposeScope();
        var c = Reconstruction;
        using var ae = new FactorAutoencoder((int)c.TeacherFeature.Shape[1], c.FactorChannels);
        LoadInto(ae, c.Autoencoder);
        ae.train();
        var loss = new FactorReconstructionLoss(ae, "layer3");
        loss.TrainableModules.Should().ContainSingle().Which.Should().BeSameAs(ae);
        var feature = c.TeacherFeature.ToTensor().requires_grad_();
        var result = loss.Compute(Context(feature));
        Scalar(result.Total).ShouldBeClose(c.Value, Float64Tolerance, "RecLoss");
        result.Parts.Keys.Should().Equal("reconstruct");
        result.Total.backward();
        feature.grad.Should().BeNull("the reconstructed feature is detached");
        var state = ae.state_dict();
        Values(state["encoder.layers.1.weight"].grad!).Zip(c.GradEncoderConv1.Data)
            .Should().OnlyContain(p => Math.Abs(p.First - p.Second) <= Float64Tolerance * Math.Max(1, Math.Abs(p.Second)));
        Values(state["decoder.layers.7.weight"].grad!).Zip(c.GradDecoderConv3.Data)
            .Should().OnlyContain(p => Math.Abs(p.First - p.Second) <= Float64Tolerance * Math.Max(1, Math.Abs(p.Second)));
    }

    [Fact]
    public void Bad_inputs_throw_naming_the_argument()
    {
        using var scope = NewDisposeScope();
        using var ae = new FactorAutoencoder(4, 2);
        var loss = new FactorReconstructionLoss(ae, "layer3");
        FluentActions.Invoking(() => loss.Compute(Context(randn(2, 5, 3, 3)))).Should().Throw<ArgumentException>()
            .WithMessage("*feature 'layer3' of 'teacher'*[batch, 4, height, width]*[2, 5, 3, 3]*");
        FluentActions.Invoking(() => loss.Compute(Context(randn(2, 4, 3, 3).to(ScalarType.Float64)))).Should().Throw<InvalidOperationException>()
            .WithMessage("*autoencoder*Float32*Float64*");
        FluentActions.Invoking(() => FactorReconstructionLoss.Value(randn(1, 2, 2, 2), randn(1, 2, 2, 3))).Should().Throw<ArgumentException>()
            .Which.ParamName.Should().Be("reconstruction");
        FluentActions.Invoking(() => FactorReconstructionLoss.Value(randn(1, 2), randn(1, 2).to(ScalarType.Float64))).Should().Throw<ArgumentException>()
            .WithMessage("*dtype*").Which.ParamName.Should().Be("reconstruction");
        FluentActions.Invoking(() => new FactorReconstructionLoss(ae, "")).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("feature");
        FluentActions.Invoking(() => new FactorReconstructionLoss(null!, "f")).Should().Throw<ArgumentNullException>().Which.ParamName.Should().Be("autoencoder");
    }

    private static DistillationContext Context(Tensor teacherFeature) =>
        LossTestHelpers.Context(
            new Dictionary<string, ModelOutput> { ["teacher"] = new(null, new Dictionary<string, Tensor> { ["layer3"] = teacherFeature }) },
            null,
            teacherFeature.shape[0]);
}
