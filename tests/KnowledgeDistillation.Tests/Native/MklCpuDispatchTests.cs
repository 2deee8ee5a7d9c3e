using System.Runtime.InteropServices;
using FluentAssertions;
using KnowledgeDistillation.Runtime;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Native;

public class MklCpuDispatchTests
{
    [Fact]
    public void Apply_runs_once_per_process_and_leaves_mkl_on_its_best_kernels()
    {
        var first = MklCpuDispatch.Apply();
        var second = MklCpuDispatch.Apply();

        second.Should().BeSameAs(first);
        MklCpuDispatch.Result.Should().BeSameAs(first);
        if (OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64
            && !MklCpuDispatch.IsSwitchedOff(Environment.GetEnvironmentVariable(MklCpuDispatch.EnvironmentVariable)))
        {
            // TorchSharp's libtorch 2.10 links oneMKL 2024.0: this build is recognised.
            first.Outcome.Should().BeOneOf(MklCpuDispatchOutcome.Applied, MklCpuDispatchOutcome.AlreadyOptimized, MklCpuDispatchOutcome.UnsupportedCpu);
            if (MklCpuDispatch.BestSupportedKernels() is { } best)
            {
                first.SelectedKernels.Should().BeGreaterThanOrEqualTo(best, first.Detail);
            }
        }
    }

    [Fact]
    public void Matrix_products_stay_correct_on_the_selected_kernels()
    {
        MklCpuDispatch.Apply();
        using var scope = NewDisposeScope();
        var generator = new Generator(7);
        var a = randn(new long[] { 61, 200 }, generator: generator);
        var b = randn(new long[] { 200, 973 }, generator: generator);
        var reference = a.to_type(ScalarType.Float64).matmul(b.to_type(ScalarType.Float64));

        var product = a.matmul(b).to_type(ScalarType.Float64);        // SGEMM
        var transposed = b.t().contiguous().matmul(a.t()).t().to_type(ScalarType.Float64); // SGEMM, other layout
        var linear = nn.functional.linear(a, b.t()).to_type(ScalarType.Float64);

        foreach (var result in new[] { product, transposed, linear })
        {
            (result - reference).abs().max().item<double>().Should().BeLessThan(1e-3); // |entries| ~ 14; float32 sums of 200 terms
        }
    }

    [Theory]
    [InlineData("0", true)]
    [InlineData(" off ", true)]
    [InlineData("FALSE", true)]
    [InlineData("1", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void Environment_value_switches_it_off(string? value, bool off) =>
        MklCpuDispatch.IsSwitchedOff(value).Should().Be(off);

    [Fact]
    public void Reads_the_cached_type_address_only_from_the_verified_instruction_pattern()
    {
        // cmpl $0, d1(%rip); js +7; mov d2(%rip), %eax; ret  with d1 + 7 == d2 + 15 (the same variable)
        var code = new byte[] { 0x83, 0x3D, 0, 0, 0, 0, 0x00, 0x78, 0x07, 0x8B, 0x05, 0, 0, 0, 0, 0xC3 };
        BitConverter.TryWriteBytes(code.AsSpan(2), 100);
        BitConverter.TryWriteBytes(code.AsSpan(11), 92);
        var handle = GCHandle.Alloc(code, GCHandleType.Pinned);
        try
        {
            var function = handle.AddrOfPinnedObject();
            MklCpuDispatch.CachedCpuTypeAddress(function).Should().Be(function + 107);

            BitConverter.TryWriteBytes(code.AsSpan(11), 93); // the two instructions name different variables
            MklCpuDispatch.CachedCpuTypeAddress(function).Should().Be(IntPtr.Zero);

            BitConverter.TryWriteBytes(code.AsSpan(11), 92);
            code[15] = 0x90; // no ret: another build
            MklCpuDispatch.CachedCpuTypeAddress(function).Should().Be(IntPtr.Zero);
        }
        finally
        {
            handle.Free();
        }
    }
}
