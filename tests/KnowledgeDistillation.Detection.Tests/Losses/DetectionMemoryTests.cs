using FluentAssertions;
using KnowledgeDistillation.Detection.Losses;
using KnowledgeDistillation.Detection.Models;
using KnowledgeDistillation.Detection.Tests.Support;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Losses;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Detection.Tests.Losses;

/// <summary>ICD training keeps the number of live native tensors flat (the test style of TransformerMemoryTests).</summary>
public sealed class DetectionMemoryTests
{
    [Fact]
    public void Icd_training_keeps_live_tensors_flat_across_epochs()
    {
        var source = DetectionSetup.Source(8, 4);
        random.manual_seed(8);
        using var teacherNet = new FcosDetector(DetectionSetup.Larger());
        using var studentNet = new FcosDetector(DetectionSetup.Small());
        using var teacher = Teacher.FromModule(teacherNet);
        using var student = Student.FromModule(studentNet);
        var options = new IcdOptions { Classes = 2, TeacherChannels = 16, Heads = 4, WarmupSteps = 1 };
        using var run = new Distiller(new IDistillationModel[] { teacher, student }, Recipes.Icd(options), new DistillerOptions { Epochs = 6, Seed = 2 });
        var counts = new LiveTensorCounts();
        run.Callbacks.Add(counts);
        var before = Tensor.TotalCount;
        run.Fit(source);
        // Epochs 3-6 end with at most the live tensors of epoch 3 (the student projection's optimiser state appears after the
        // warm-up; later counts may only drop, when the GC finalises handles of the run's set-up).
        counts.AtEpochEnd.Skip(2).Should().OnlyContain(c => c <= counts.AtEpochEnd[2], "nothing grows from epoch to epoch");
        (Tensor.TotalCount - before).Should().BeLessThan(200, "no tensor outlives its step (10 steps, each creating thousands)");
    }

    private sealed class LiveTensorCounts : IDistillationCallback
    {
        public List<long> AtEpochEnd { get; } = new();

        public void OnEpochEnd(EpochRecord record, TrainingControl control) => AtEpochEnd.Add(Tensor.TotalCount);
    }
}
