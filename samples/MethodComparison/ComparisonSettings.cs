using System.Globalization;

namespace MethodComparison;

/// <summary>The two presets: the scaled few-labels Fashion-MNIST comparison of docs/benchmarks.md, and the published CIFAR-100 recipe.</summary>
internal enum Preset
{
    /// <summary>resnet32x4 -> resnet8x4 at width x0.25, 1 input channel, students on the first 5,000 Fashion-MNIST images.</summary>
    FashionMnist,

    /// <summary>RepDistiller / mdistiller's CIFAR-100 recipe, unchanged: 240 epochs, SGD 0.05, decay x0.1 at 150/180/210, batch 64.</summary>
    Cifar100Paper,
}

/// <summary>Everything one comparison run needs; one instance is shared by the parent and (through arguments) its child processes.</summary>
internal sealed record ComparisonSettings
{
    public Preset Preset { get; init; } = Preset.FashionMnist;

    public string? DataDirectory { get; init; }

    public required string OutputDirectory { get; init; }

    public IReadOnlyList<string> Methods { get; init; } = MethodCatalog.DefaultMethods;

    public IReadOnlyList<int> Seeds { get; init; } = new[] { 0, 1, 2 };

    public string Device { get; init; } = "cpu";

    /// <summary>libtorch threads per process (1: the runs of <see cref="Parallel"/> child processes share the cores).</summary>
    public int Threads { get; init; } = 1;

    /// <summary>Child processes run side by side.</summary>
    public int Parallel { get; init; } = 1;

    /// <summary>Run each (method, seed) in its own child process (the peak memory is then that run's own).</summary>
    public bool ChildProcesses { get; init; } = true;

    public int Classes { get; init; } = 10;

    public int InputChannels { get; init; } = 1;

    /// <summary>Width multiplier of the resnet32x4 / resnet8x4 pair (1 = RepDistiller's widths).</summary>
    public double WidthScale { get; init; } = 0.125;

    public int TeacherEpochs { get; init; } = 1;

    /// <summary>The teacher trains on the first N training images (quick runs); null = all.</summary>
    public int? TeacherTrainLimit { get; init; } = 20_000;

    /// <summary>The multi-teacher run's second teacher trains on the first N training images; null = all.</summary>
    public int? SecondTeacherTrainLimit { get; init; } = 10_000;

    /// <summary>Epochs of the second teacher.</summary>
    public int SecondTeacherEpochs { get; init; } = 1;

    /// <summary>Epochs of the distillation stage, the same for every method (the budget).</summary>
    public int StudentEpochs { get; init; } = 8;

    /// <summary>Students train on the first N training images (the few-labels regime); null = all.</summary>
    public int? StudentTrainLimit { get; init; } = 2000;

    /// <summary>Validation images, the last N of the training set (never in a student's training data); 0 = none (best epoch on test, as the papers report).</summary>
    public int ValidationCount { get; init; } = 2000;

    /// <summary>Epochs of the initialisation stages (FitNets' hint stage, FSP, AB, FT's paraphraser): RepDistiller's 30 of 240, scaled to <see cref="StudentEpochs"/>.</summary>
    public int InitEpochs { get; init; } = 1;

    /// <summary>DKD's and ReviewKD's linear warm-up (mdistiller: 20 of 240 epochs), scaled to <see cref="StudentEpochs"/>.</summary>
    public int WarmupEpochs { get; init; } = 1;

    /// <summary>CRD negatives K (the references: 16,384 of N = 50,000).</summary>
    public int CrdNegatives { get; init; } = 1024;

    public double LearningRate { get; init; } = 0.05;

    public bool Nesterov { get; init; } = true;

    public int BatchSize { get; init; } = 128;

    /// <summary>The teachers' batch size (Fashion-MNIST: 32, more steps in the short teacher budget; paper: 64).</summary>
    public int TeacherBatchSize { get; init; } = 32;

    /// <summary>Multi-step decay epochs (x0.1); empty = cosine.</summary>
    public IReadOnlyList<int> Milestones { get; init; } = Array.Empty<int>();

    /// <summary>Random crop (padding 4) and horizontal flip on the training images (the CIFAR recipe); the teacher then runs every step.</summary>
    public bool Augment { get; init; }

    public bool RetrainTeacher { get; init; }

    /// <summary>Step-time mode: timed steps per method and round.</summary>
    public int StepTimeSteps { get; init; } = 20;

    /// <summary>Step-time mode: rounds (round 0 warms up and is not used).</summary>
    public int StepTimeRounds { get; init; } = 4;

    public string TeacherFile => Path.Combine(OutputDirectory, string.Create(CultureInfo.InvariantCulture, $"teacher-resnet32x4-w{WidthScale}-c{Classes}-e{TeacherEpochs}-b{TeacherBatchSize}-n{TeacherTrainLimit?.ToString(CultureInfo.InvariantCulture) ?? "all"}.bin"));

    public string SecondTeacherFile => Path.Combine(OutputDirectory, string.Create(CultureInfo.InvariantCulture, $"teacher2-resnet20x4-w{WidthScale}-c{Classes}-e{SecondTeacherEpochs}-b{TeacherBatchSize}-n{SecondTeacherTrainLimit?.ToString(CultureInfo.InvariantCulture) ?? "all"}.bin"));

    public string RunsDirectory => Path.Combine(OutputDirectory, "runs");

    /// <summary>The Fashion-MNIST few-labels setting (docs/benchmarks.md).</summary>
    public static ComparisonSettings FashionMnist(string output) => new() { OutputDirectory = output };

    /// <summary>
    /// The published CIFAR-100 recipe (RepDistiller <c>train_student.py</c>, mdistiller <c>configs/cifar100</c>): resnet32x4 ->
    /// resnet8x4 at full width, 240 epochs, SGD lr 0.05 momentum 0.9 (no Nesterov) weight decay 5e-4, x0.1 at 150/180/210, batch
    /// 64, random crop 32 (padding 4) + flip, 30 init epochs, 20 warm-up epochs, CRD K 16384 on N 50,000, best epoch on test.
    /// </summary>
    public static ComparisonSettings Cifar100Paper(string output) => new()
    {
        Preset = Preset.Cifar100Paper,
        OutputDirectory = output,
        Classes = 100,
        InputChannels = 3,
        WidthScale = 1.0,
        TeacherEpochs = 240,
        TeacherTrainLimit = null,
        SecondTeacherTrainLimit = null,
        SecondTeacherEpochs = 240,
        StudentEpochs = 240,
        StudentTrainLimit = null,
        ValidationCount = 0,
        InitEpochs = 30,
        WarmupEpochs = 20,
        CrdNegatives = 16384,
        LearningRate = 0.05,
        Nesterov = false,
        BatchSize = 64,
        TeacherBatchSize = 64,
        Milestones = new[] { 150, 180, 210 },
        Augment = true,
        Device = "cuda",
        Threads = 4,
    };

    /// <summary>RepDistiller's 30-of-240 init epochs and mdistiller's 20-of-240 warm-up, scaled to an epoch budget (at least 1).</summary>
    public static (int Init, int Warmup) ScaledStages(int studentEpochs) =>
        (Math.Max(1, (int)Math.Round(studentEpochs * 30.0 / 240, MidpointRounding.AwayFromZero)),
         Math.Max(1, (int)Math.Round(studentEpochs * 20.0 / 240, MidpointRounding.AwayFromZero)));
}
