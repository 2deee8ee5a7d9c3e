namespace TextDistillation;

/// <summary>Settings of the SST-2 experiment.</summary>
internal sealed record TextSettings
{
    public required string DataDirectory { get; init; }

    public string? Vocabulary { get; init; }

    public bool LowerCase { get; init; } = true;

    public string? TeacherCheckpoint { get; init; }

    public required string OutputDirectory { get; init; }

    public int TrainLimit { get; init; }

    public int DevLimit { get; init; }

    public required int[] Seeds { get; init; }

    public int TeacherEpochs { get; init; }

    public int StudentEpochs { get; init; }

    public required string[] Methods { get; init; }

    public bool InitFromTeacher { get; init; }

    public int Threads { get; init; } = 2;

    public int MaxLength { get; init; } = 64;

    public int BatchSize { get; init; } = 32;

    public int TeacherLayers { get; init; } = 4;

    public int Hidden { get; init; } = 128;

    public int Heads { get; init; } = 4;

    public int Intermediate { get; init; } = 256;
}
