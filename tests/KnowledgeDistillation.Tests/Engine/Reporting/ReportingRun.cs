using KnowledgeDistillation.Data;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Models;
using KnowledgeDistillation.Tests.Support;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Engine.Reporting;

/// <summary>A small seeded teacher + student KD run (64 blobs, batches of 16: 4 steps per epoch) for the reporter tests.</summary>
internal static class ReportingRun
{
    public const int BatchSize = 16;
    public const int Samples = 64;

    public static FitResult Fit(Action<Distiller> configure, int epochs = 2, DistillerOptions? options = null, ILogger? logger = null)
    {
        using var data = SyntheticData.Blobs(Samples, classes: 3, dims: 8, seed: 5);
        using var eval = SyntheticData.Blobs(32, classes: 3, dims: 8, seed: 6);
        random.manual_seed(7);
        using var teacherNet = new Mlp(8, new[] { 16 }, numClasses: 3);
        using var studentNet = new Mlp(8, Array.Empty<int>(), numClasses: 3);
        options ??= new DistillerOptions();
        options.Epochs = epochs;
        using var distiller = new Distiller(Teacher.FromModule(teacherNet), Student.FromModule(studentNet), Loss.Hinton(4, 0.9), options, logger);
        configure(distiller);
        return distiller.Fit(new DataLoader(data, BatchSize, seed: 1), new DataLoader(eval, 32, shuffle: false));
    }
}

/// <summary>A clock that only moves when told to.</summary>
internal sealed class ManualClock : TimeProvider
{
    private long _ticks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => _ticks;

    public void Advance(TimeSpan by) => _ticks += by.Ticks;
}

/// <summary>Advances a <see cref="ManualClock"/> by a fixed time per step (add it before the reporter).</summary>
internal sealed class StepTime(ManualClock clock, TimeSpan perStep) : IDistillationCallback
{
    public void OnStepEnd(StepInfo step) => clock.Advance(perStep);
}
