namespace SelfSupervisedDistillation;

/// <summary>The run's settings (see Program.cs for the options).</summary>
internal sealed record Settings(
    string Output,
    int TrainLimit,
    int TestLimit,
    int TeacherEpochs,
    int StudentEpochs,
    int BatchSize,
    double WidthScale,
    int ProjectionWidth,
    int QueueSize,
    int KnnNeighbours,
    int ProbeEpochs,
    int[] Seeds,
    string[] Methods,
    string TeacherMethod);
