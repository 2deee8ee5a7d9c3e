using FluentAssertions;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Losses;
using Xunit;

namespace KnowledgeDistillation.Tests.Engine;

/// <summary><see cref="DistillationStage.WithLoss"/> keeps every setting of the stage and changes only the objective.</summary>
public sealed class DistillationStageTests
{
    [Fact]
    public void WithLoss_copies_every_setting_and_replaces_the_objective()
    {
        var original = new DistillationStage("stage-2", new CrossEntropyLoss())
        {
            Epochs = 7,
            Trainable = new[] { "student", "teacher" },
            Active = new[] { "student", "teacher", "helper" },
            Optimizer = new OptimizerOptions { LearningRate = 1e-4 },
            ParticipantOptimizers = new Dictionary<string, OptimizerOptions> { ["teacher"] = new() { LearningRate = 1e-5 } },
            UpdateOrder = ParticipantUpdateOrder.Sequential,
            LearningRateSchedule = new LearningRateScheduleOptions(),
        };
        var loss = new CrossEntropyLoss(labelSmoothing: 0.1);

        var copy = original.WithLoss(loss);

        copy.Should().NotBeSameAs(original);
        copy.Loss.Should().BeSameAs(loss);
        original.Loss.Should().NotBeSameAs(loss);
        copy.Should().BeEquivalentTo(original, o => o.Excluding(s => s.Loss), "every other setting is carried over");
        typeof(DistillationStage).GetProperties().Select(p => p.Name).Should().BeEquivalentTo(
            new[] { "Name", "Loss", "Epochs", "Trainable", "Active", "Optimizer", "ParticipantOptimizers", "UpdateOrder", "LearningRateSchedule" },
            "a new stage setting must be added to WithLoss too");
    }
}
