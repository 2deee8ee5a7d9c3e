using System.Diagnostics;
using System.Text;

namespace KnowledgeDistillation.Fuzz;

/// <summary>The driver's handle on one worker child: sends input paths, awaits result lines with a timeout, reads its peak memory.</summary>
internal sealed class WorkerProcess : IDisposable
{
    private const int StderrKeep = 4096;
    private readonly Process _process;
    private readonly StringBuilder _stderr = new();

    private WorkerProcess(Process process)
    {
        _process = process;
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (_stderr)
            {
                _stderr.AppendLine(e.Data);
                if (_stderr.Length > 2 * StderrKeep)
                {
                    _stderr.Remove(0, _stderr.Length - StderrKeep);
                }
            }
        };
        _process.BeginErrorReadLine();
    }

    /// <summary>Starts a worker for <paramref name="target"/>, with the managed heap capped at <paramref name="heapLimitBytes"/>.</summary>
    public static WorkerProcess Start(string target, long heapLimitBytes)
    {
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("The harness cannot find its own executable.");
        var start = new ProcessStartInfo(self)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            start.ArgumentList.Add(typeof(WorkerProcess).Assembly.Location);
        }

        start.ArgumentList.Add("worker");
        start.ArgumentList.Add(target);
        start.Environment["DOTNET_GCHeapHardLimit"] = heapLimitBytes.ToString("X");
        start.Environment["DOTNET_DbgEnableMiniDump"] = "0";
        return new WorkerProcess(Process.Start(start) ?? throw new InvalidOperationException("Could not start a worker process."));
    }

    /// <summary>The child's exit code once it has exited.</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>The last few KiB the child wrote to standard error.</summary>
    public string StderrTail
    {
        get
        {
            lock (_stderr)
            {
                var text = _stderr.ToString();
                return text.Length > StderrKeep ? text[^StderrKeep..] : text;
            }
        }
    }

    /// <summary>Asks the child to run the input at <paramref name="path"/>.</summary>
    public void Send(string path)
    {
        _process.StandardInput.WriteLine(path);
        _process.StandardInput.Flush();
    }

    /// <summary>Waits for the next result line; null when the child died (end of output) or the timeout passed (<paramref name="timedOut"/>).</summary>
    public string? Await(TimeSpan timeout, out bool timedOut)
    {
        timedOut = false;
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            while (true)
            {
                var line = _process.StandardOutput.ReadLineAsync(cancel.Token).AsTask().GetAwaiter().GetResult();
                if (line is null)
                {
                    _process.WaitForExit(10_000);
                    return null;
                }

                if (line.StartsWith(Worker.ResultPrefix, StringComparison.Ordinal))
                {
                    return line[Worker.ResultPrefix.Length..];
                }
            }
        }
        catch (OperationCanceledException)
        {
            timedOut = true;
            return null;
        }
    }

    /// <summary>The child's peak resident set (VmHWM) in bytes, or 0 when it cannot be read.</summary>
    public long PeakResidentBytes()
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    return long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0]) * 1024;
                }
            }
        }
        catch (IOException)
        {
        }

        return 0;
    }

    /// <summary>Stops the child (the whole tree).</summary>
    public void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.StandardInput.Close();
                if (!_process.WaitForExit(5_000))
                {
                    Kill();
                }
            }
        }
        catch (IOException)
        {
            Kill();
        }

        _process.Dispose();
    }
}
