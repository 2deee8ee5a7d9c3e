namespace KnowledgeDistillation.Engine;

/// <summary>Where and when <see cref="Distiller.Fit"/> writes checkpoints (bindable from configuration).</summary>
public sealed class CheckpointOptions
{
    /// <summary>The directory of the checkpoint file; <c>null</c> (the default) disables checkpoints.</summary>
    public string? Directory { get; set; }

    /// <summary>The checkpoint file name inside <see cref="Directory"/> (default "checkpoint.kdck").</summary>
    public string FileName { get; set; } = "checkpoint.kdck";

    /// <summary>Write a checkpoint every this many epochs (&gt;= 1, default 1) and after each stage's last epoch.</summary>
    public int EveryEpochs { get; set; } = 1;

    /// <summary>Write a checkpoint at the step boundary where a cancellation is noticed (default true).</summary>
    public bool OnCancel { get; set; } = true;

    /// <summary>
    /// Whether <see cref="Distiller.Fit"/> (and <see cref="Distiller.Resume"/> from another file) may replace a checkpoint
    /// that already lies at <see cref="FilePath"/> when the call starts (default false: the call refuses before training,
    /// so a <c>Fit</c> meant as a <c>Resume</c> cannot destroy a saved run). Checkpoints the running call wrote itself,
    /// and the file a <c>Resume</c> continues, are always replaced. Configuration key <c>Checkpoint:Overwrite</c>.
    /// </summary>
    public bool Overwrite { get; set; }

    /// <summary>The full path of the checkpoint file, or <c>null</c> when disabled.</summary>
    public string? FilePath => Directory is null ? null : Path.Combine(Directory, FileName);

    /// <summary>Checks the values; throws naming the offending key.</summary>
    /// <param name="prefix">The configuration path of these options, for messages.</param>
    public void Validate(string prefix = "Checkpoint")
    {
        if (EveryEpochs < 1)
        {
            throw new ArgumentOutOfRangeException($"{prefix}.{nameof(EveryEpochs)}", EveryEpochs, "EveryEpochs must be >= 1.");
        }

        if (string.IsNullOrWhiteSpace(FileName) || FileName.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0)
        {
            throw new ArgumentException($"'{FileName}' is not a valid file name.", $"{prefix}.{nameof(FileName)}");
        }

        if (Directory is not null && string.IsNullOrWhiteSpace(Directory))
        {
            throw new ArgumentException("Directory must be null (no checkpoints) or a path.", $"{prefix}.{nameof(Directory)}");
        }
    }
}
