using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Runtime;

/// <summary>
/// Makes libtorch's Intel MKL use the AVX2 / AVX-512 kernels on CPUs that are not Intel's.
/// </summary>
/// <remarks>
/// <para>
/// The official libtorch (the one TorchSharp ships) links Intel oneMKL statically for its dense linear algebra (every
/// <c>Linear</c> layer, <c>matmul</c>, <c>bmm</c>, forward and backward). MKL selects its kernels by CPU vendor, and on an AMD
/// CPU it selects its <b>generic</b> kernels even when the CPU has AVX2 and AVX-512: measured here (AMD EPYC with AVX-512,
/// one thread), a [609 x 200] x [200 x 9742] float32 product took 43 ms with them and 22.5 ms with MKL's AVX-512 kernels (PyTorch
/// with OpenBLAS: 35 ms). This class finds MKL's cached CPU type in the loaded <c>libtorch_cpu.so</c> and, when MKL
/// chose its generic kernels on a CPU that supports a better set, sets the best one the CPU supports (AVX-512 when it has
/// the F, CD, BW, DQ and VL subsets, otherwise AVX2 with FMA and BMI). It is what the known <c>MKL_DEBUG_CPU_TYPE</c>
/// environment variable did before MKL 2020 removed it; <c>MKL_CBWR</c> does not do it (measured).
/// </para>
/// <para>
/// It changes nothing when: the CPU is Intel's (MKL already picks its best kernels), the process is not Linux x64, the
/// loaded libtorch has no MKL, or MKL's dispatch code is not the one this was verified on (libtorch 2.10's oneMKL 2024.0;
/// the instruction bytes are checked before anything is written, so another build is left alone). Results of matrix
/// products change in the last bits (the kernels sum in another order), as between any two machines; runs stay
/// deterministic. <see cref="Engine.Distiller"/> calls it when a run or evaluation starts; call it yourself before other
/// TorchSharp work to make that work fast too, and apply it before computing anything you will compare bit for bit. Set the
/// environment variable <see cref="EnvironmentVariable"/> to <c>0</c> to switch it off.
/// </para>
/// </remarks>
public static class MklCpuDispatch
{
    /// <summary>The environment variable that switches this off when set to <c>0</c>, <c>false</c> or <c>off</c>.</summary>
    public const string EnvironmentVariable = "KD_MKL_CPU_DISPATCH";

    /// <summary>MKL's CPU-type code of its generic kernels.</summary>
    public const int GenericKernels = 0;

    /// <summary>MKL's CPU-type code of its AVX2 kernels.</summary>
    public const int Avx2Kernels = 5;

    /// <summary>MKL's CPU-type code of its AVX-512 (F, CD, BW, DQ, VL) kernels.</summary>
    public const int Avx512Kernels = 7;

    private static readonly OncePerProcess<MklCpuDispatchResult> Once = new();

    /// <summary>The result of the first <see cref="Apply"/> in this process, or <c>null</c> before it.</summary>
    public static MklCpuDispatchResult? Result => Once.Result;

    /// <summary>
    /// Applies the kernel choice once per process (later calls return the first result) and logs it at Information when
    /// something changed, at Debug otherwise.
    /// </summary>
    /// <param name="logger">Receives one line; <c>null</c> for none.</param>
    /// <returns>What was found and done.</returns>
    public static MklCpuDispatchResult Apply(ILogger? logger = null) =>
        Once.Get(Run, r => (logger ?? NullLogger.Instance).Log(
            r.Outcome == MklCpuDispatchOutcome.Applied ? LogLevel.Information : LogLevel.Debug, "MKL kernels: {Outcome}. {Detail}", r.Outcome, r.Detail));

    /// <summary>The best MKL CPU-type code this CPU supports (<see cref="Avx512Kernels"/>, <see cref="Avx2Kernels"/>), or <c>null</c>.</summary>
    public static int? BestSupportedKernels()
    {
        if (Avx512F.IsSupported && Avx512F.VL.IsSupported && Avx512BW.IsSupported && Avx512DQ.IsSupported && Avx512CD.IsSupported)
        {
            return Avx512Kernels;
        }

        return Avx2.IsSupported && Fma.IsSupported && Bmi1.IsSupported && Bmi2.IsSupported && Lzcnt.IsSupported ? Avx2Kernels : null;
    }

    private static MklCpuDispatchResult Run()
    {
        var setting = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (IsSwitchedOff(setting))
        {
            return new(MklCpuDispatchOutcome.Disabled, null, null, $"Switched off by {EnvironmentVariable}={setting}.");
        }

        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64)
        {
            return new(MklCpuDispatchOutcome.NotApplicable, null, null, "Only Linux x64 is handled.");
        }

        _ = get_num_threads(); // loads libtorch if nothing has yet
        var path = LoadedLibrary("libtorch_cpu.so");
        if (path is null || !NativeLibrary.TryLoad(path, out var handle))
        {
            return new(MklCpuDispatchOutcome.NotApplicable, null, null, "libtorch_cpu.so is not loaded in this process.");
        }

        try
        {
            if (!NativeLibrary.TryGetExport(handle, "mkl_serv_cpu_detect", out var detect))
            {
                return new(MklCpuDispatchOutcome.NotApplicable, null, null, $"{path} has no MKL.");
            }

            var cpuType = CachedCpuTypeAddress(detect);
            if (cpuType == IntPtr.Zero)
            {
                return new(MklCpuDispatchOutcome.Unrecognized, null, null, "MKL's CPU dispatch code is not the one this was verified on; left alone.");
            }

            var detected = Detect(detect);
            var best = BestSupportedKernels();
            if (best is not { } target)
            {
                return new(MklCpuDispatchOutcome.UnsupportedCpu, detected, detected, "The CPU has no AVX2/FMA; MKL's own choice stays.");
            }

            if (detected >= target || detected is not (>= GenericKernels and < Avx2Kernels))
            {
                return new(MklCpuDispatchOutcome.AlreadyOptimized, detected, detected, $"MKL already uses CPU type {detected}.");
            }

            Marshal.WriteInt32(cpuType, target);
            var now = Detect(detect);
            return now == target
                ? new(MklCpuDispatchOutcome.Applied, detected, now, $"MKL used its generic kernels (CPU type {detected}) on a CPU with {(target == Avx512Kernels ? "AVX-512" : "AVX2")}; now CPU type {now}.")
                : new(MklCpuDispatchOutcome.Unrecognized, detected, now, $"Writing CPU type {target} did not take (MKL reports {now}).");
        }
        finally
        {
            NativeLibrary.Free(handle); // the process keeps its own reference
        }
    }

    /// <summary>Whether an environment value switches this off (<c>0</c>, <c>false</c>, <c>off</c>, any case, spaces ignored).</summary>
    internal static bool IsSwitchedOff(string? value) =>
        value?.Trim() is { } v && (v == "0" || v.Equals("false", StringComparison.OrdinalIgnoreCase) || v.Equals("off", StringComparison.OrdinalIgnoreCase));

    private static unsafe int Detect(IntPtr function) => ((delegate* unmanaged<int>)function)();

    /// <summary>
    /// The address of MKL's cached CPU type, read from <c>mkl_serv_cpu_detect</c>'s first instructions (oneMKL 2024:
    /// <c>cmpl $0, type(%rip); js +7; mov type(%rip), %eax; ret</c>); <see cref="IntPtr.Zero"/> if the bytes differ.
    /// </summary>
    internal static IntPtr CachedCpuTypeAddress(IntPtr function)
    {
        ReadOnlySpan<(int Offset, byte Value)> fixedBytes = [(0, 0x83), (1, 0x3D), (6, 0x00), (7, 0x78), (8, 0x07), (9, 0x8B), (10, 0x05), (15, 0xC3)];
        foreach (var (offset, value) in fixedBytes)
        {
            if (Marshal.ReadByte(function, offset) != value)
            {
                return IntPtr.Zero;
            }
        }

        var first = function + 7 + Marshal.ReadInt32(function, 2);   // rip after the cmpl is function + 7
        var second = function + 15 + Marshal.ReadInt32(function, 11); // rip after the mov is function + 15
        return first == second ? first : IntPtr.Zero;
    }

    private static string? LoadedLibrary(string fileName)
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/maps"))
            {
                var slash = line.IndexOf('/');
                if (slash >= 0 && line.EndsWith("/" + fileName, StringComparison.Ordinal))
                {
                    return line[slash..];
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return null;
    }
}
