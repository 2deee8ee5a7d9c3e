using FluentAssertions;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Models;
using KnowledgeDistillation.Tests.Support;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Engine;

/// <summary>Long runs keep the number of live native tensors flat.</summary>
[Collection(SerialCollection.Name)]
public sealed class NativeMemoryTests
{
    private static DistillerOptions Options(int epochs) => new()
    {
        Epochs = epochs,
        Seed = 1,
        Optimizer = new OptimizerOptions { LearningRate = 0.1, Momentum = 0.9, WeightDecay = 0 },
    };

    [Fact]
    public void Native_tensor_count_stays_flat_over_hundreds_of_steps()
    {
        using var data = SyntheticData.Blobs(64, classes: 3, seed: 10);
        using var test = SyntheticData.Blobs(32, classes: 3, seed: 11);
        random.manual_seed(12);
        using var teacherNet = new Mlp(8, new[] { 16 }, numClasses: 3);
        using var studentNet = new Mlp(8, new[] { 8 }, numClasses: 3);
        using var teacher = Teacher.FromModule(teacherNet, captureFeatures: "layers.fc1");
        using var student = Student.FromModule(studentNet, captureFeatures: "layers.fc1");
        var loader = new DataLoader(data, 8);
        var evaluation = new DataLoader(test, 8, shuffle: false);

        // Warm up: optimiser state, metric accumulators and lazily created tensors exist after the first run.
        new Distiller(teacher, student, Loss.Hinton(4, 0.9), Options(epochs: 2)).Fit(loader, evaluation);
        var afterWarmUp = Tensor.TotalCount;

        var result = new Distiller(teacher, student, Loss.Hinton(4, 0.9), Options(epochs: 40)).Fit(loader, evaluation);
        var afterRun = Tensor.TotalCount;

        result.History.Sum(h => h.Steps).Should().Be(320);
        afterRun.Should().BeLessThanOrEqualTo(afterWarmUp, "no tensor may outlive its training step");
    }
}
