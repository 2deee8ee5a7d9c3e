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

/// <summary>Bad input to the engine fails with a clear .NET exception before native code sees it.</summary>
public sealed class FitBadInputTests
{
    private static DistillerOptions Options(int epochs = 1) => new() { Epochs = epochs, Seed = 0 };

    [Fact]
    public void Teacher_and_student_with_different_class_counts_are_rejected()
    {
        using var data = SyntheticData.Blobs(32, classes: 3);
        using var teacherNet = new Mlp(8, Array.Empty<int>(), numClasses: 5);
        using var studentNet = new Mlp(8, Array.Empty<int>(), numClasses: 3);
        using var teacher = Teacher.FromModule(teacherNet);
        using var student = Student.FromModule(studentNet);
        var act = () => new Distiller(teacher, student, Loss.Hinton(), Options()).Fit(new DataLoader(data, 8));
        act.Should().Throw<ArgumentException>().WithMessage("*Class counts differ*3 classes*[8, 3]*5*[8, 5]*");
    }

    [Fact]
    public void Labels_beyond_the_model_classes_are_rejected_with_the_range()
    {
        using var data = SyntheticData.Blobs(32, classes: 5, seed: 1);
        using var net = new Mlp(8, Array.Empty<int>(), numClasses: 3);
        using var student = Student.FromModule(net);
        var act = () => new Distiller(new[] { student }, new CrossEntropyLoss(), Options()).Fit(new DataLoader(data, 8));
        act.Should().Throw<ArgumentException>().Where(e => e.ParamName == "train").WithMessage("*training data ('train') holds class label 4, but participant 'student' outputs 3 logits, so labels must be in 0..2*");
    }

    [Fact]
    public void Empty_data_is_rejected()
    {
        var act = () => new TensorDataset(zeros(0, 8), zeros(0, ScalarType.Int64));
        act.Should().Throw<ArgumentException>().Where(e => e.ParamName == "inputs").WithMessage("*empty*");
        var negative = () => new TensorDataset(zeros(2, 8), tensor(new long[] { 0, -1 }));
        negative.Should().Throw<ArgumentException>().WithMessage("*>= 0*-1*");
        using var data = SyntheticData.Blobs(4);
        var batch = () => new DataLoader(data, 0);
        batch.Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "batchSize");
    }

    [Fact]
    public void Nan_loss_throws_with_stage_epoch_and_step()
    {
        using var data = SyntheticData.Blobs(32, seed: 2);
        using var net = new Mlp(8, Array.Empty<int>(), numClasses: 3);
        using var student = Student.FromModule(net);
        var loss = new CrossEntropyLoss() + new NanAtStep(5);
        var act = () => new Distiller(new[] { student }, loss, Options(epochs: 3)).Fit(new DataLoader(data, 8));
        act.Should().Throw<NonFiniteLossException>()
            .Where(e => e.Epoch == 1 && e.Step == 5 && e.Stage == "distill")
            .WithMessage("*stage 'distill', epoch 1, step 5*nan=NaN*");
    }

    [Fact]
    public void Epoch_end_check_reports_the_first_non_finite_step_without_a_per_step_read()
    {
        using var data = SyntheticData.Blobs(32, seed: 2);
        using var net = new Mlp(8, Array.Empty<int>(), numClasses: 3);
        using var student = Student.FromModule(net);
        var options = Options(epochs: 3);
        options.NonFiniteCheck = NonFiniteCheck.EpochEnd;
        var act = () => new Distiller(new[] { student }, new CrossEntropyLoss() + new NanAtStep(6), options).Fit(new DataLoader(data, 8));
        act.Should().Throw<NonFiniteLossException>()
            .Where(e => e.Epoch == 1 && e.Step == 6)
            .WithMessage("*epoch 1, step 6*EpochEnd*");
    }

    [Fact]
    public void Skip_policy_skips_and_counts_non_finite_batches()
    {
        using var data = SyntheticData.Blobs(32, seed: 3);
        using var net = new Mlp(8, Array.Empty<int>(), numClasses: 3);
        using var student = Student.FromModule(net);
        var options = Options(epochs: 2);
        options.NonFiniteLoss = NonFiniteLossPolicy.Skip;
        var result = new Distiller(new[] { student }, new CrossEntropyLoss() + new NanAtStep(1), options).Fit(new DataLoader(data, 8));
        result.History[0].SkippedSteps.Should().Be(1);
        result.History[0].Steps.Should().Be(3);
        result.History[1].SkippedSteps.Should().Be(0);
        double.IsFinite(result.History[0].Loss).Should().BeTrue();
    }

    [Theory]
    [InlineData("Epochs")]
    [InlineData("Optimizer.LearningRate")]
    [InlineData("Optimizer.Momentum")]
    [InlineData("MaxGradNorm")]
    [InlineData("EvaluateEveryEpochs")]
    [InlineData("LearningRateSchedule.Gamma")]
    [InlineData("Device")]
    public void Invalid_options_name_the_offending_key(string key)
    {
        var options = new DistillerOptions();
        switch (key)
        {
            case "Epochs": options.Epochs = 0; break;
            case "Optimizer.LearningRate": options.Optimizer.LearningRate = -1; break;
            case "Optimizer.Momentum": options.Optimizer.Momentum = 1.5; break;
            case "MaxGradNorm": options.MaxGradNorm = 0; break;
            case "EvaluateEveryEpochs": options.EvaluateEveryEpochs = 0; break;
            case "LearningRateSchedule.Gamma": options.LearningRateSchedule.Gamma = 2; break;
            case "Device": options.Device = " "; break;
        }

        options.Invoking(o => o.Validate()).Should().Throw<ArgumentException>().Where(e => e.ParamName == key);
    }

    [Fact]
    public void Unknown_or_unavailable_device_is_rejected_before_training()
    {
        using var data = SyntheticData.Blobs(8);
        using var net = new Mlp(8, Array.Empty<int>(), numClasses: 3);
        using var student = Student.FromModule(net);
        foreach (var device in new[] { "tpu", "cuda:x" })
        {
            var options = Options();
            options.Device = device;
            var act = () => new Distiller(new[] { student }, new CrossEntropyLoss(), options).Fit(new DataLoader(data, 8));
            act.Should().Throw<ArgumentException>().Where(e => e.ParamName == "Device").WithMessage($"*'{device}'*");
        }

        if (!cuda.is_available())
        {
            var options = Options();
            options.Device = "cuda";
            var act = () => new Distiller(new[] { student }, new CrossEntropyLoss(), options).Fit(new DataLoader(data, 8));
            act.Should().Throw<ArgumentException>().WithMessage("*CUDA is not available*");
        }
    }

    [Fact]
    public void Setup_errors_name_participants_and_stages()
    {
        using var a = new Mlp(8, Array.Empty<int>(), numClasses: 3);
        using var b = new Mlp(8, Array.Empty<int>(), numClasses: 3);
        using var s1 = Student.FromModule(a, "same");
        using var s2 = Student.FromModule(b, "same");
        var duplicate = () => new Distiller(new[] { s1, s2 }, new CrossEntropyLoss("same"));
        duplicate.Should().Throw<ArgumentException>().WithMessage("*'same'*unique*");

        var unknown = () => new Distiller(new[] { s1 }, new[] { new DistillationStage("s", new CrossEntropyLoss("same")) { Trainable = new[] { "ghost" } } });
        unknown.Should().Throw<ArgumentException>().WithMessage("*'ghost'*does not exist*");

        var noParticipants = () => new Distiller(Array.Empty<IDistillationModel>(), new CrossEntropyLoss());
        noParticipants.Should().Throw<ArgumentException>().Where(e => e.ParamName == "participants");

        var capture = () => Student.FromModule(a, "x", "layers.nope");
        capture.Should().Throw<ArgumentException>().WithMessage("*no submodule 'layers.nope'*'layers.head'*");
    }

    [Fact]
    public void Missing_participant_in_the_loss_lists_the_ones_that_exist()
    {
        using var data = SyntheticData.Blobs(8);
        using var net = new Mlp(8, Array.Empty<int>(), numClasses: 3);
        using var student = Student.FromModule(net);
        var act = () => new Distiller(new[] { student }, Loss.Hinton(), Options()).Fit(new DataLoader(data, 8));
        act.Should().Throw<ArgumentException>().WithMessage("Stage 'distill': loss 'kd' reads participant 'teacher', which does not exist*'student'*");
    }

    [Fact]
    public void An_undeclared_read_of_a_missing_participant_still_lists_the_ones_that_ran()
    {
        using var data = SyntheticData.Blobs(8);
        using var net = new Mlp(8, Array.Empty<int>(), numClasses: 3);
        using var student = Student.FromModule(net);
        var undeclared = new UndeclaredTeacherRead();
        var act = () => new Distiller(new[] { student }, undeclared, Options()).Fit(new DataLoader(data, 8));
        act.Should().Throw<KeyNotFoundException>().WithMessage("*'teacher'*'student'*");
    }

    /// <summary>Reads a teacher without declaring it (the v1 style): caught when it runs.</summary>
    private sealed class UndeclaredTeacherRead() : DistillationLoss("undeclared")
    {
        public override LossResult Compute(DistillationContext context) =>
            new(Name, context.Output("teacher").RequireLogits("teacher").sum());
    }

    [Fact]
    public void Hook_on_a_module_invoked_with_forward_is_reported()
    {
        using var net = new ForwardOnly();
        using var student = Student.FromModule(net, captureFeatures: "inner");
        using var x = randn(2, 8);
        using var i = arange(2L);
        var act = () => student.Forward(new Batch(x, null, i));
        act.Should().Throw<InvalidOperationException>().WithMessage("*'inner'*call(x)*");
    }

    /// <summary>Reports NaN on its n-th call (from 0), zero otherwise.</summary>
    private sealed class NanAtStep(long call) : DistillationLoss("nan")
    {
        private long _calls;

        public override LossResult Compute(DistillationContext context)
        {
            var logits = context.Output("student").RequireLogits("student");
            var value = _calls++ == call ? logits.sum() * double.NaN : logits.sum() * 0.0;
            return new LossResult(Name, value);
        }
    }

    private sealed class ForwardOnly : nn.Module<Tensor, Tensor>
    {
        private readonly TorchSharp.Modules.Linear inner = nn.Linear(8, 3);

        public ForwardOnly()
            : base(nameof(ForwardOnly)) => RegisterComponents();

        public override Tensor forward(Tensor input) => inner.forward(input);
    }
}
