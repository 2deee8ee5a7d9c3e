using System.Diagnostics;
using System.Runtime.InteropServices;

namespace KnowledgeDistillation.Tests.Distributed;

/// <summary>Starts the MPI host program (tests/KnowledgeDistillation.MpiHost) under mpirun on loopback, or alone.</summary>
internal static class MpiRun
{
    public static string? Executable { get; } = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
        .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
        .Select(d => Path.Combine(d, "mpirun"))
        .FirstOrDefault(File.Exists);

    public static bool LibraryPresent { get; } = NativeLibrary.TryLoad("libmpi.so.40", out var handle) && Free(handle);

    public static string HostDll
    {
        get
        {
            var testDirectory = AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar);
            var framework = Path.GetFileName(testDirectory);
            var configuration = Path.GetFileName(Path.GetDirectoryName(testDirectory)!);
            var tests = Path.GetFullPath(Path.Combine(testDirectory, "..", "..", "..", ".."));
            return Path.Combine(tests, "KnowledgeDistillation.MpiHost", "bin", configuration, framework, "KnowledgeDistillation.MpiHost.dll");
        }
    }

    /// <summary>Runs the host on <paramref name="ranks"/> ranks (mpirun, loopback TCP) with <c>--mpi</c>, or alone without MPI when 0.</summary>
    public static (int ExitCode, string Output) Host(int ranks, params string[] arguments)
    {
        var dotnet = Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self : "dotnet";
        var start = ranks == 0
            ? new ProcessStartInfo(dotnet)
            : new ProcessStartInfo(Executable ?? throw new InvalidOperationException("mpirun is not installed."));
        if (ranks > 0)
        {
            foreach (var a in new[] { "--allow-run-as-root", "--oversubscribe", "--mca", "btl", "self,tcp", "--mca", "btl_tcp_if_include", "lo", "--mca", "oob_tcp_if_include", "lo", "-np", ranks.ToString(System.Globalization.CultureInfo.InvariantCulture), dotnet })
            {
                start.ArgumentList.Add(a);
            }
        }

        start.ArgumentList.Add(HostDll);
        foreach (var a in arguments.Concat(ranks > 0 ? new[] { "--mpi" } : Array.Empty<string>()))
        {
            start.ArgumentList.Add(a);
        }

        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.Environment["TERM"] = "dumb";
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(4)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"The MPI host did not finish in 4 minutes: {stdout}");
        }

        return (process.ExitCode, stdout + stderr.Result);
    }

    /// <summary>Reads the tensors the host's train command writes: name, count, float32 values, in name order.</summary>
    public static Dictionary<string, float[]> ReadTensors(string path)
    {
        var result = new Dictionary<string, float[]>();
        using var reader = new BinaryReader(File.OpenRead(path));
        while (reader.BaseStream.Position < reader.BaseStream.Length)
        {
            var name = reader.ReadString();
            var values = new float[reader.ReadInt32()];
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = reader.ReadSingle();
            }

            result[name] = values;
        }

        return result;
    }

    private static bool Free(IntPtr handle)
    {
        NativeLibrary.Free(handle);
        return true;
    }
}
