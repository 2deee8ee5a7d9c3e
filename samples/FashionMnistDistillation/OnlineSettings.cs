using System.Globalization;

namespace FashionMnistDistillation;

/// <summary>Settings of the online / semi-online comparison (<c>--online</c>).</summary>
internal sealed record OnlineSettings
{
    public required string OutputDirectory { get; init; }

    public string? ResultsDirectory { get; init; }

    public IReadOnlyList<string> Methods { get; init; } = OnlineExperiment.Methods;

    public int[] Seeds { get; init; } = { 0 };

    public int TeacherEpochs { get; init; } = 2;

    public int StudentEpochs { get; init; } = 10;

    public int? StudentTrainLimit { get; init; } = 5000;

    /// <summary>Width multiplier of the resnet8x4 / resnet32x4 pair (0.25: 8/16/32/64 channels, sized for a 2-core CPU).</summary>
    public double WidthScale { get; init; } = 0.25;

    /// <summary>IE-KD: factor channels of the autoencoders (the official code: 32 for a 64-channel last stage).</summary>
    public int FactorChannels { get; init; } = 32;

    /// <summary>SOKD feature extension (<c>sokd-f</c>): weight of the attention-transfer terms (RepDistiller's AT uses 1000).</summary>
    public double SokdFeatureWeight { get; init; } = 1000;

    /// <summary>IE-KD / IE-DML: the inheritance and the exploration weight (the official configuration: 1).</summary>
    public double IeWeight { get; init; } = 1.0;

    /// <summary>IE-KD: epochs of the autoencoder stage on the teacher's features (the official code: 30 on CIFAR).</summary>
    public int AutoencoderEpochs { get; init; } = 10;

    /// <summary>DML and IE-DML: how the two peers are updated in a step (the paper's Algorithm 1: sequential).</summary>
    public KnowledgeDistillation.Engine.ParticipantUpdateOrder UpdateOrder { get; init; } = KnowledgeDistillation.Engine.ParticipantUpdateOrder.Sequential;

    public double Temperature { get; init; } = 4.0;

    public double Alpha { get; init; } = 0.9;

    public double LearningRate { get; init; } = 0.05;

    public int BatchSize { get; init; } = 128;

    public bool RetrainTeacher { get; init; }

    public string Device { get; init; } = "cpu";

    public string TeacherFile => Path.Combine(OutputDirectory, string.Create(CultureInfo.InvariantCulture, $"teacher-resnet32x4-w{WidthScale}-e{TeacherEpochs}-lr{LearningRate}-b{BatchSize}.bin"));
}
