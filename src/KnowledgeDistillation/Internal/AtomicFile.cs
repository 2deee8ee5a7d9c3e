namespace KnowledgeDistillation.Internal;

/// <summary>
/// Crash-safe file replacement: the content goes to a temporary file in the target's directory, is flushed
/// to disk, then renamed over the target, so a crash or SIGKILL at any moment leaves the old file or the new
/// one, never a torn one.
/// </summary>
internal static class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> through <paramref name="write"/>; on failure the target is untouched.</summary>
    /// <param name="path">The file to create or replace.</param>
    /// <param name="write">Fills the temporary file (sequentially).</param>
    /// <param name="createDirectory">Whether to create the target's directory if it is missing.</param>
    public static void Write(string path, Action<FileStream> write, bool createDirectory = false)
    {
        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full)!;
        if (createDirectory)
        {
            Directory.CreateDirectory(directory);
        }

        var temporary = Path.Combine(directory, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(file);
                file.Flush(flushToDisk: true);
            }

            File.Move(temporary, full, overwrite: true);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    /// <summary>Deletes a file if it can; a leftover temporary file is harmless and never mistaken for data.</summary>
    /// <param name="path">The file.</param>
    public static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort, see above.
        }
        catch (UnauthorizedAccessException)
        {
            // Same.
        }
    }
}
