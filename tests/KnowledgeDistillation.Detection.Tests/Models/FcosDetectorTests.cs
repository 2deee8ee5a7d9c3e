using FluentAssertions;
using KnowledgeDistillation.Detection.Models;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Detection.Tests.Models;

public sealed class FcosDetectorTests
{
    [Fact]
    public void Outputs_fpn_levels_and_head_outputs_of_consistent_shapes()
    {
        random.manual_seed(0);
        using var model = new FcosDetector(FcosDetectorOptions.ResNet10Quarter(3));
        var output = model.call(randn(2, 3, 96, 128));
        output.Logits.Should().BeNull();
        var sizes = new[] { (12L, 16L), (6L, 8L), (3L, 4L), (2L, 2L), (1L, 1L) };
        for (var l = 0; l < 5; l++)
        {
            output.Features[FcosDetectorOptions.Levels[l]].shape.Should().Equal(2, 64, sizes[l].Item1, sizes[l].Item2);
        }

        var s = sizes.Sum(p => p.Item1 * p.Item2);
        output.Features[FcosDetector.ClassLogits].shape.Should().Equal(2, s, 3);
        output.Features[FcosDetector.BoxDistances].shape.Should().Equal(2, s, 4);
        output.Features[FcosDetector.Centerness].shape.Should().Equal(2, s);
        output.Features[FcosDetector.BoxDistances].min().item<float>().Should().BeGreaterThanOrEqualTo(0);
        // The class bias starts at the focal prior: mean probability near 0.01.
        output.Features[FcosDetector.ClassLogits].sigmoid().mean().item<float>().Should().BeApproximately(0.01f, 0.005f);
    }

    [Fact]
    public void GroupNorm_affine_parameters_are_initialised_to_one_and_zero()
    {
        random.manual_seed(1);
        using var model = new FcosDetector(FcosDetectorOptions.ResNet10Quarter(2));
        var norms = model.modules().OfType<GroupNorm>().ToArray();
        norms.Should().HaveCount(4, "two towers x two layers");
        foreach (var gn in norms)
        {
            gn.weight!.data<float>().ToArray().Should().OnlyContain(v => v == 1f);
            gn.bias!.data<float>().ToArray().Should().OnlyContain(v => v == 0f);
        }
    }

    [Fact]
    public void Teacher_is_larger_than_student_and_bad_inputs_are_refused()
    {
        using var teacher = new FcosDetector(FcosDetectorOptions.ResNet18Half(3));
        using var student = new FcosDetector(FcosDetectorOptions.ResNet10Quarter(3));
        teacher.ParameterCount.Should().BeGreaterThan(3 * student.ParameterCount);
        ((Action)(() => student.call(zeros(1, 1, 64, 64)))).Should().Throw<ArgumentException>().WithMessage("*[B, 3, H, W]*");
        ((Action)(() => student.call(zeros(1, 3, 16, 64)))).Should().Throw<ArgumentException>();
        ((Action)(() => _ = new FcosDetector(new FcosDetectorOptions { FpnChannels = 60 }))).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("FpnChannels");
        ((Action)(() => _ = new FcosDetector(new FcosDetectorOptions { Widths = new[] { 8, 8 } }))).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void Exponential_box_output_is_exp_of_scaled_output_times_stride_at_every_level()
    {
        random.manual_seed(2);
        using var model = new FcosDetector(FcosDetectorOptions.ResNet10Quarter(3));
        var p = model.named_parameters().ToDictionary(x => x.name, x => x.parameter);
        var bias = new[] { 0.5, -1.0, 0.0, 1.25 };
        var scale = new[] { 1.0, 2.0, 0.5, 1.0, 3.0 };
        using (no_grad())
        {
            p["head.boxPred.weight"].zero_();
            p["head.boxPred.bias"].copy_(tensor(bias.Select(v => (float)v).ToArray()));
            p["head.scales"].copy_(tensor(scale.Select(v => (float)v).ToArray()));
        }

        var box = model.call(randn(1, 3, 96, 128)).Features[FcosDetector.BoxDistances];
        var sizes = new[] { 12 * 16, 6 * 8, 3 * 4, 2 * 2, 1 };
        var start = 0;
        for (var l = 0; l < 5; l++)
        {
            for (var side = 0; side < 4; side++)
            {
                var expected = Math.Exp(scale[l] * bias[side]) * FcosDetectorOptions.Strides[l];
                var values = box[0, TensorIndex.Slice(start, start + sizes[l]), side].data<float>().ToArray();
                values.Should().OnlyContain(v => Math.Abs(v - expected) <= 1e-5 * expected, $"level {l}, side {side}: exp({scale[l]} * {bias[side]}) * {FcosDetectorOptions.Strides[l]}");
            }

            start += sizes[l];
        }
    }

    [Theory]
    [InlineData(FcosBoxOutput.Exponential, true)]
    [InlineData(FcosBoxOutput.ScaledRelu, false)]
    public void A_box_unit_below_zero_everywhere_gets_a_gradient_only_with_the_exponential_output(FcosBoxOutput output, bool revives)
    {
        // The failure seen on BCCD (seed 0): one side's unit fell below zero at every position; a ReLU then passes no gradient.
        random.manual_seed(3);
        using var model = new FcosDetector(FcosDetectorOptions.ResNet10Quarter(3) with { BoxOutput = output });
        var p = model.named_parameters().ToDictionary(x => x.name, x => x.parameter);
        using (no_grad())
        {
            p["head.boxPred.bias"][1] = tensor(-20f);
        }

        var box = model.call(randn(2, 3, 96, 128)).Features[FcosDetector.BoxDistances];
        (box[TensorIndex.Ellipsis, 1].max().item<float>() < 1e-6f).Should().BeTrue("the side's distances are (near) zero everywhere");
        box.sum().backward();
        var grad = p["head.boxPred.bias"].grad!.data<float>().ToArray();
        (grad[1] != 0).Should().Be(revives);
        grad[0].Should().NotBe(0, "a live side always gets a gradient");
    }

    [Fact]
    public void An_undefined_box_output_is_refused_by_name()
    {
        ((Action)(() => _ = new FcosDetector(FcosDetectorOptions.ResNet10Quarter(3) with { BoxOutput = (FcosBoxOutput)7 })))
            .Should().Throw<ArgumentOutOfRangeException>().WithParameterName("BoxOutput");
    }
}
