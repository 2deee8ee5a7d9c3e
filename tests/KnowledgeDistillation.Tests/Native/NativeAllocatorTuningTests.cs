using System.Runtime.InteropServices;
using FluentAssertions;
using KnowledgeDistillation.Runtime;
using KnowledgeDistillation.Tests.Support;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Native;

[Collection(SerialCollection.Name)] // reads the process's allocator statistics: nothing else may allocate meanwhile
public class NativeAllocatorTuningTests
{
    [Fact]
    public void Apply_runs_once_per_process_and_sets_the_thresholds_on_linux_with_glibc()
    {
        var first = NativeAllocatorTuning.Apply();
        var second = NativeAllocatorTuning.Apply();

        second.Should().BeSameAs(first);
        NativeAllocatorTuning.Result.Should().BeSameAs(first);
        if (OperatingSystem.IsLinux() && NativeAllocatorTuning.ReasonToLeaveAlone(Environment.GetEnvironmentVariable) is null)
        {
            first.Applied.Should().BeTrue(first.Detail);
            first.MmapThresholdBytes.Should().BeOneOf(NativeAllocatorTuning.MmapThresholdBytes, 32L << 20);
            first.TrimThresholdBytes.Should().Be(NativeAllocatorTuning.TrimThresholdBytes);
        }
    }

    [Fact]
    public void A_40_MiB_tensor_is_served_from_the_heap_not_mapped_on_its_own()
    {
        var result = NativeAllocatorTuning.Apply();
        if (!result.Applied || result.MmapThresholdBytes < (48L << 20) || MappedBytes() is null)
        {
            return; // not glibc >= 2.33 (mallinfo2), or a glibc that refused 64 MiB
        }

        // glibc's own threshold rises at most to 32 MiB, so with its defaults a 40 MiB buffer is always a fresh mapping
        // (unmapped and faulted in again on every allocation). Here it must come from a heap, where a freed one is reused.
        var before = MappedBytes()!.Value;
        using var buffer = zeros(10L << 20); // 40 MiB
        var mapped = MappedBytes()!.Value - before;

        mapped.Should().BeLessThan(40L << 20, "the mmap threshold of 64 MiB should keep a 40 MiB tensor in the heap");
    }

    [Theory]
    [InlineData(NativeAllocatorTuning.EnvironmentVariable, "0", true)]
    [InlineData(NativeAllocatorTuning.EnvironmentVariable, "off", true)]
    [InlineData(NativeAllocatorTuning.EnvironmentVariable, "1", false)]
    [InlineData("MALLOC_MMAP_THRESHOLD_", "131072", true)]
    [InlineData("MALLOC_TRIM_THRESHOLD_", "1", true)]
    [InlineData("GLIBC_TUNABLES", "glibc.malloc.mmap_threshold=1", true)]
    [InlineData("GLIBC_TUNABLES", "glibc.cpu.hwcaps=-AVX512F", false)]
    [InlineData("UNRELATED", "1", false)]
    public void Leaves_the_allocator_alone_when_switched_off_or_tuned_by_the_user(string name, string value, bool leaveAlone) =>
        (NativeAllocatorTuning.ReasonToLeaveAlone(n => n == name ? value : null) is not null).Should().Be(leaveAlone);

    /// <summary>glibc's count of bytes in separately mapped blocks (<c>mallinfo2().hblkhd</c>), or <c>null</c> without it.</summary>
    private static long? MappedBytes()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        try
        {
            return (long)MallInfo2Native().Hblkhd;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return null; // not glibc, or glibc before 2.33
        }
    }

    [DllImport("libc.so.6", EntryPoint = "mallinfo2")]
    private static extern MallInfo2 MallInfo2Native();

    [StructLayout(LayoutKind.Sequential)]
    private struct MallInfo2
    {
        public nuint Arena, Ordblks, Smblks, Hblks, Hblkhd, Usmblks, Fsmblks, Uordblks, Fordblks, Keepcost;
    }
}
