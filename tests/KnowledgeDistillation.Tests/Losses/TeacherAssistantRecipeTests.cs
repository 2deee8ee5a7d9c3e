using FluentAssertions;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Models;
using KnowledgeDistillation.Tests.Support;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Losses;

/// <summary>TAKD (Mirzadeh et al. 2020) as stages (serial: the engine runs seed TorchSharp's global generator).</summary>
[Collection(SerialCollection.Name)]
public class TeacherAssistantRecipeTests
{
    [Fact]
    public void The_recipe_chains_teacher_to_assistant_to_student_training_one_link_per_stage()
    {
        var recipe = Recipes.TeacherAssistant(assistantEpochs: 3, studentEpochs: 5, temperature: 2, alpha: 0.7);
        recipe.Name.Should().Be("takd");
        recipe.Stages.Select(s => (s.Name, s.Epochs, string.Join(",", s.Trainable!))).Should().Equal(("assistant", 3, "assistant"), ("student", 5, "student"));
        var first = (SumLoss)recipe.Stages[0].Loss;
        var kd1 = (KDLoss)((WeightedLoss)first.Terms[1]).Inner;
        (kd1.Student, kd1.Teacher, kd1.Temperature).Should().Be(("assistant", "teacher", 2.0));
        var kd2 = (KDLoss)((WeightedLoss)((SumLoss)recipe.Stages[1].Loss).Terms[1]).Inner;
        (kd2.Student, kd2.Teacher, kd2.DetachTeacher).Should().Be(("student", "assistant", true));

        var chain = Recipes.TeacherAssistant(new[] { "ta1", "ta2" }, new[] { 2, 1 });
        chain.Stages.Select(s => s.Name).Should().Equal("ta1", "ta2", "student");
        chain.Stages.Select(s => ((KDLoss)((WeightedLoss)((SumLoss)s.Loss).Terms[1]).Inner).Teacher).Should().Equal("teacher", "ta1", "ta2");
    }

    [Fact]
    public void Bad_chains_are_rejected_naming_the_argument()
    {
        ((Action)(() => Recipes.TeacherAssistant(assistantEpochs: 0))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "assistantEpochs");
        ((Action)(() => Recipes.TeacherAssistant(assistantEpochs: 1, studentEpochs: 0))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "studentEpochs");
        ((Action)(() => Recipes.TeacherAssistant(Array.Empty<string>(), Array.Empty<int>()))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "assistants");
        ((Action)(() => Recipes.TeacherAssistant(new[] { "ta", "ta" }, new[] { 1, 1 }))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "assistants");
        ((Action)(() => Recipes.TeacherAssistant(assistantEpochs: 1, assistant: "student"))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "assistants");
        ((Action)(() => Recipes.TeacherAssistant(new[] { "ta" }, new[] { 1, 2 }))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "assistantEpochs");
        ((Action)(() => Recipes.TeacherAssistant(assistantEpochs: 1, alpha: 2))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "alpha");
    }

    [Fact]
    public void The_engine_trains_the_assistant_in_stage_one_then_runs_it_frozen_in_eval_mode_as_the_students_teacher()
    {
        using var data = SyntheticData.Blobs(48, classes: 4, dims: 6, seed: 41);
        random.manual_seed(42);
        using var teacherNet = new Mlp(6, new[] { 16 }, numClasses: 4);
        using var assistantNet = new Mlp(6, new[] { 8 }, numClasses: 4);
        using var studentNet = new Mlp(6, new[] { 4 }, numClasses: 4);
        using var teacher = Teacher.FromModule(teacherNet);
        using var assistant = Student.FromModule(assistantNet, "assistant");
        using var student = Student.FromModule(studentNet);
        var probe = new StageProbe(teacherNet, assistantNet, studentNet);
        using var distiller = new Distiller(
            new IDistillationModel[] { teacher, assistant, student },
            Recipes.TeacherAssistant(assistantEpochs: 2, studentEpochs: 2),
            new DistillerOptions { Epochs = 2, Seed = 43, Optimizer = new OptimizerOptions { LearningRate = 0.1 } });
        distiller.Callbacks.Add(probe);
        var history = distiller.Fit(new DataLoader(data, 16, seed: 44)).History;

        history.Select(r => (r.Stage, r.Epoch)).Should().Equal(("assistant", 0), ("assistant", 1), ("student", 0), ("student", 1));
        history.Should().OnlyContain(r => r.LossParts.ContainsKey("ce") && r.LossParts.ContainsKey("kd"));

        // Snapshots at the start of the run (s0), after the assistant stage (s1) and at the end (s2).
        var (teacher0, assistant0, student0) = probe.Start!.Value;
        var (teacher1, assistant1, student1) = probe.AfterAssistantStage!.Value;
        var (teacher2, assistant2, student2) = probe.Snap();
        assistant1.Should().NotEqual(assistant0, "stage 1 trains the assistant");
        student1.Should().Equal(student0, "stage 1 leaves the student alone");
        assistant2.Should().Equal(assistant1, "stage 2 runs the assistant frozen");
        student2.Should().NotEqual(student1, "stage 2 trains the student");
        teacher2.Should().Equal(teacher0).And.Equal(teacher1, "the teacher is frozen throughout");
        probe.AssistantTrainingMode.Should().Equal(new Dictionary<string, bool> { ["assistant"] = true, ["student"] = false }, "the assistant runs in evaluation mode as a teacher");
    }

    private sealed class StageProbe(Mlp teacher, Mlp assistant, Mlp student) : IDistillationCallback
    {
        public (double[], double[], double[])? Start { get; private set; }

        public (double[], double[], double[])? AfterAssistantStage { get; private set; }

        public Dictionary<string, bool> AssistantTrainingMode { get; } = new();

        public (double[], double[], double[]) Snap() =>
            (MultiTeacherKDEngineTests.Snapshot(teacher), MultiTeacherKDEngineTests.Snapshot(assistant), MultiTeacherKDEngineTests.Snapshot(student));

        public void OnStageStart(DistillationStage stage)
        {
            if (stage.Name == "assistant")
            {
                Start = Snap();
            }
            else if (stage.Name == "student")
            {
                AfterAssistantStage = Snap();
            }
        }

        public void OnStepEnd(StepInfo step) => AssistantTrainingMode[step.Stage] = assistant.training;
    }
}
