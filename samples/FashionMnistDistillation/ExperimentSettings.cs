namespace FashionMnistDistillation;

/// <summary>Everything that defines one run of the sample; the quick default and the full benchmark differ only here.</summary>
internal sealed record ExperimentSettings
{
    public string? DataDirectory { get; init; }

    public required string OutputDirectory { get; init; }

    public string? ResultsDirectory { get; init; }

    public int TeacherEpochs { get; init; } = 3;

    public int StudentEpochs { get; init; } = 3;

    public int[] Seeds { get; init; } = { 0 };

    public double Temperature { get; init; } = 4.0;

    public double Alpha { get; init; } = 0.9;

    public double LearningRate { get; init; } = 0.05;

    public int BatchSize { get; init; } = 128;

    public int? TrainLimit { get; init; }

    /// <summary>Train the students on only the first N training images (the teacher still sees the whole training set): the few-labels regime of Hinton et al., section 3.</summary>
    public int? StudentTrainLimit { get; init; }

    public bool RetrainTeacher { get; init; }

    public string Device { get; init; } = "cpu";

    /// <summary>The student architecture: tiny, small or medium (see <see cref="Students"/>).</summary>
    public string Student { get; init; } = "small";

    /// <summary>Serve the teacher's outputs from a cache after the first epoch (same numbers, ~5x cheaper KD epochs).</summary>
    public bool CacheTeacher { get; init; } = true;

    /// <summary>Run the teacher-free comparison (plain, label smoothing, Tf-KD self/reg, DR-KD) instead of teacher KD.</summary>
    public bool TeacherFree { get; init; }

    /// <summary>The teacher-free methods to run (default all of <see cref="TeacherFreeExperiment.Methods"/>).</summary>
    public IReadOnlyList<string> TeacherFreeMethods { get; init; } = TeacherFreeExperiment.Methods;

    /// <summary>The teacher checkpoint name encodes what it was trained with, so a changed setting retrains it.</summary>
    public string TeacherFile => Path.Combine(OutputDirectory, $"teacher-e{TeacherEpochs}-lr{LearningRate}-b{BatchSize}-n{TrainLimit?.ToString() ?? "all"}.bin");
}
