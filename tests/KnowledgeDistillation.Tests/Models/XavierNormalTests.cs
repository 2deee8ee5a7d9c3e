using FluentAssertions;
using KnowledgeDistillation.Models;
using KnowledgeDistillation.Tests.Support;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Models;

[Collection(SerialCollection.Name)]
public sealed class XavierNormalTests
{
    [Theory]
    // Expected values from PyTorch 1.13: gain * sqrt(2 / sum(torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape)))).
    [InlineData(new long[] { 128, 256 }, 1.0, 0.072168783649)]        // fan_in 256, fan_out 128
    [InlineData(new long[] { 1, 8, 8 }, 1.4142135623730951, 0.235702260396)]  // GAT attention [1, H, F]: fan_in 64, fan_out 8
    [InlineData(new long[] { 2708, 1 }, 1.4142135623730951, 0.038426027847)]  // CPF node confidence [N, 1]: fan_in 1, fan_out 2708
    [InlineData(new long[] { 16, 3, 3, 3 }, 1.0, 0.108147614087)]     // conv [out, in, k, k]: fan_in 27, fan_out 144
    public void Standard_deviation_follows_pytorch_fans(long[] shape, double gain, double expected)
    {
        XavierNormal.StandardDeviation(shape, gain).Should().BeApproximately(expected, 1e-11);
    }

    [Fact]
    public void Draws_a_normal_start_with_that_spread()
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        var w = XavierNormal.Initialize(empty(128, 256, ScalarType.Float64), Math.Sqrt(2));
        var (_, std, kurtosis) = SampleMoments.Of(w);
        std.Should().BeApproximately(Math.Sqrt(2) * Math.Sqrt(2.0 / 384), 0.003);
        kurtosis.Should().BeInRange(2.85, 3.15, "a normal shape (uniform: 1.8)");
        w.requires_grad.Should().BeFalse();
    }

    [Fact]
    public void Torchsharp_xavier_normal_draws_a_uniform_start_which_is_why_this_class_exists()
    {
        // Pins the TorchSharp 0.107 behaviour XavierNormal works around: xavier_normal_ has the Xavier-normal spread but a
        // uniform shape (kurtosis 1.8 instead of 3). If this fails after an upgrade, xavier_normal_ can be used directly.
        using var scope = NewDisposeScope();
        manual_seed(5);
        var w = empty(128, 256, ScalarType.Float64);
        using (no_grad())
        {
            nn.init.xavier_normal_(w, Math.Sqrt(2));
        }

        var (_, std, kurtosis) = SampleMoments.Of(w);
        std.Should().BeApproximately(Math.Sqrt(2) * Math.Sqrt(2.0 / 384), 0.003);
        kurtosis.Should().BeInRange(1.7, 1.9, "a uniform shape");
    }

    [Fact]
    public void Bad_shapes_and_gains_are_refused_by_name()
    {
        ((Action)(() => XavierNormal.StandardDeviation(new long[] { 5 }))).Should().Throw<ArgumentException>().WithParameterName("shape").WithMessage("*at least 2 dimensions*");
        ((Action)(() => XavierNormal.StandardDeviation(new long[] { 0, 0 }))).Should().Throw<ArgumentException>().WithParameterName("shape");
        ((Action)(() => XavierNormal.StandardDeviation(new long[] { 2, 2 }, 0))).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("gain");
        ((Action)(() => XavierNormal.Initialize(null!))).Should().Throw<ArgumentNullException>();
    }
}
