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
}
