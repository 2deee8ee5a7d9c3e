namespace KnowledgeDistillation.Engine;

/// <summary>
/// Keeps <see cref="Distiller.Fit"/> from destroying a saved run: a checkpoint that lies at
/// <see cref="CheckpointOptions.FilePath"/> when a call starts was not written by that call, so the call refuses to
/// replace it unless <see cref="CheckpointOptions.Overwrite"/> is set or it is the checkpoint a <see cref="Distiller.Resume"/>
/// continues. Checked before anything is trained or restored.
/// </summary>
internal static class ExistingCheckpointGuard
{
    /// <summary>Throws when the call would replace a checkpoint it did not write.</summary>
    /// <param name="options">The run's checkpoint settings.</param>
    /// <param name="resumeFrom">The checkpoint being resumed, or null for <see cref="Distiller.Fit"/>.</param>
    /// <exception cref="InvalidOperationException">A checkpoint exists at the target path and may not be replaced.</exception>
    public static void EnsureMayReplace(CheckpointOptions options, string? resumeFrom)
    {
        if (options.FilePath is not { } file || options.Overwrite || !File.Exists(file))
        {
            return;
        }

        if (resumeFrom is not null && SamePath(file, resumeFrom))
        {
            return;
        }

        var call = resumeFrom is null ? "Fit" : $"Resume from '{resumeFrom}'";
        throw new InvalidOperationException(
            $"'{file}' already holds a checkpoint{Describe(file)} that this call did not write, and {call} would overwrite it. " +
            $"To continue that run, call Resume(\"{file}\", ...); to start over, delete the file or choose another " +
            "Checkpoint.Directory; to replace it deliberately, set DistillerOptions.Checkpoint.Overwrite = true " +
            "(configuration key Checkpoint:Overwrite).");
    }

    private static bool SamePath(string a, string b) =>
        string.Equals(Path.GetFullPath(a), Path.GetFullPath(b), OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);

    /// <summary>What the existing file holds, so the message says what would be lost.</summary>
    private static string Describe(string file)
    {
        try
        {
            var state = CheckpointFile.Read(file);
            var stages = state.Stages ?? Array.Empty<string>();
            var epochs = state.History?.Count ?? 0;
            var where = state.StageIndex >= 0 && state.StageIndex < stages.Length ? $"at stage '{stages[state.StageIndex]}', epoch {state.Epoch + 1}"
                : state.StageIndex == stages.Length ? "finished" : "at an unknown position";
            return $" (stages [{string.Join(", ", stages)}], {epochs} finished epoch(s), {where})";
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            return $" (not readable as a checkpoint: {e.Message})";
        }
    }
}
