using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace KnowledgeDistillation.Runtime;

/// <summary>
/// Keeps glibc's allocator from handing every large tensor buffer back to the kernel, so that a training loop does not pay
/// page faults for fresh memory in every step.
/// </summary>
/// <remarks>
/// <para>
/// libtorch allocates CPU tensors with glibc's <c>malloc</c>. glibc serves a request above its mmap threshold (128 KiB at
/// start, raised dynamically up to 32 MiB as such blocks are freed) with a fresh <c>mmap</c> and unmaps it on free, and it
/// returns free memory at the top of its heap once more than the trim threshold is free. Each new mapping is zero pages
/// that fault on first touch, one fault per 4 KiB. A training step allocates and frees the same large activations again
/// and again, so with glibc's defaults a .NET process spends a large part of a convolutional step in the kernel's page-fault
/// handler: measured on the video sample's per-frame student (batch 32 x 6 frames of 64 x 64, one thread), 390,000-670,000
/// minor faults and 104-144 ms per step before, 70,000-90,000 faults and 88-112 ms after (PyTorch 1.13 in its own process:
/// 240,000-330,000 faults, 90-103 ms); docs/benchmarks.md, "Page faults in the clip step".
/// </para>
/// <para>
/// This sets glibc's mmap threshold to <see cref="MmapThresholdBytes"/> (falling back to 32 MiB, the largest every glibc
/// accepts) and its trim threshold to <see cref="TrimThresholdBytes"/>, once per process, through <c>mallopt</c>. Freed
/// buffers below the threshold are then reused by later allocations. Resident memory stays flat across steps; it is up to
/// the trim threshold higher after a step's peak than with the defaults, because that memory is kept for the next step.
/// The full effect is on the process's main thread (a console application's <c>Main</c>, where training usually runs),
/// whose heap grows without bound. Other threads allocate from glibc's per-thread arenas, whose heaps hold at most
/// 64 MiB each, and glibc unmaps an emptied secondary heap whatever the thresholds: there a buffer that needs a heap of
/// its own is still mapped afresh each time.
/// </para>
/// <para>
/// It changes nothing when: the process is not on Linux with glibc, the environment variable
/// <see cref="EnvironmentVariable"/> is <c>0</c>/<c>false</c>/<c>off</c>, or the user already tuned the allocator
/// (<c>MALLOC_MMAP_THRESHOLD_</c>, <c>MALLOC_TRIM_THRESHOLD_</c>, or <c>malloc.</c> tunables in <c>GLIBC_TUNABLES</c>).
/// <see cref="Engine.Distiller"/> calls it when a run or an evaluation starts; call it yourself to make earlier TorchSharp
/// work benefit too.
/// </para>
/// </remarks>
public static class NativeAllocatorTuning
{
    /// <summary>The environment variable that switches this off when set to <c>0</c>, <c>false</c> or <c>off</c>.</summary>
    public const string EnvironmentVariable = "KD_MALLOC_TUNING";

    /// <summary>The mmap threshold this sets: buffers below it are reused from the heap instead of being mapped afresh.</summary>
    public const long MmapThresholdBytes = 64L << 20;

    /// <summary>The trim threshold this sets: how much free memory at the top of the heap is kept for reuse.</summary>
    public const long TrimThresholdBytes = 256L << 20;

    private const long PortableMmapThresholdBytes = 32L << 20;
    private const int MallocTrimThreshold = -1; // glibc's M_TRIM_THRESHOLD
    private const int MallocMmapThreshold = -3; // glibc's M_MMAP_THRESHOLD

    private static readonly OncePerProcess<NativeAllocatorTuningResult> Once = new();

    /// <summary>The result of the first <see cref="Apply"/> in this process, or <c>null</c> before it.</summary>
    public static NativeAllocatorTuningResult? Result => Once.Result;

    /// <summary>
    /// Applies the thresholds once per process (later calls return the first result) and logs one line: at Information
    /// when applied, at Debug otherwise.
    /// </summary>
    /// <param name="logger">Receives the line; <c>null</c> for none.</param>
    /// <returns>What was found and done.</returns>
    public static NativeAllocatorTuningResult Apply(ILogger? logger = null) =>
        Once.Get(Run, r => (logger ?? NullLogger.Instance).Log(r.Applied ? LogLevel.Information : LogLevel.Debug, "Native allocator: {Detail}", r.Detail));

    /// <summary>The reason to leave the allocator alone that the given environment values carry, or <c>null</c> for none.</summary>
    internal static string? ReasonToLeaveAlone(Func<string, string?> environment)
    {
        var setting = environment(EnvironmentVariable);
        if (MklCpuDispatch.IsSwitchedOff(setting))
        {
            return $"switched off by {EnvironmentVariable}={setting}.";
        }

        foreach (var name in new[] { "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_" })
        {
            if (!string.IsNullOrEmpty(environment(name)))
            {
                return $"left as the user set it ({name}).";
            }
        }

        return environment("GLIBC_TUNABLES") is { } tunables && tunables.Contains("glibc.malloc.", StringComparison.Ordinal)
            ? "left as the user set it (GLIBC_TUNABLES)."
            : null;
    }

    private static NativeAllocatorTuningResult Run()
    {
        if (ReasonToLeaveAlone(Environment.GetEnvironmentVariable) is { } reason)
        {
            return new(false, null, null, "glibc's defaults " + reason);
        }

        if (!OperatingSystem.IsLinux() || !NativeLibrary.TryLoad("libc.so.6", out var libc))
        {
            return new(false, null, null, "not Linux with glibc; nothing to do.");
        }

        try
        {
            if (!NativeLibrary.TryGetExport(libc, "gnu_get_libc_version", out _)
                || !NativeLibrary.TryGetExport(libc, "mallopt", out var mallopt))
            {
                return new(false, null, null, "the C library is not glibc; nothing to do.");
            }

            var mmap = MmapThresholdBytes;
            if (!Set(mallopt, MallocMmapThreshold, mmap))
            {
                mmap = PortableMmapThresholdBytes; // some glibc versions cap it at half their 64 MiB heap size
                if (!Set(mallopt, MallocMmapThreshold, mmap))
                {
                    return new(false, null, null, "glibc refused the mmap threshold; its defaults stay.");
                }
            }

            var trim = Set(mallopt, MallocTrimThreshold, TrimThresholdBytes) ? TrimThresholdBytes : (long?)null;
            return new(true, mmap, trim, $"glibc's mmap threshold set to {mmap >> 20} MiB, trim threshold "
                + (trim is { } t ? $"to {t >> 20} MiB" : "left dynamic") + " (large tensor buffers are reused, not re-mapped each step).");
        }
        finally
        {
            NativeLibrary.Free(libc);
        }
    }

    private static unsafe bool Set(IntPtr mallopt, int parameter, long value) =>
        ((delegate* unmanaged<int, int, int>)mallopt)(parameter, checked((int)value)) == 1;
}
