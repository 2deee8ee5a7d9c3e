using FluentAssertions;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Models;
using KnowledgeDistillation.Tests.Support;
using Xunit;
using static KnowledgeDistillation.Tests.Losses.LossTestHelpers;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Losses;

public class TemperatureScheduleTests
{
    [Fact]
    public void Linear_and_cosine_go_from_start_to_end_over_the_given_epochs_then_stay()
    {
        var linear = TemperatureSchedule.Linear(8, 2, epochs: 4);
        Enumerable.Range(0, 6).Select(linear.At).Should().Equal(8, 6.5, 5, 3.5, 2, 2);
        var cosine = TemperatureSchedule.Cosine(8, 2, epochs: 4);
        cosine.At(0).Should().Be(8);
        cosine.At(2).Should().BeApproximately(5, 1e-12, "half way down a half cosine is the midpoint");
        cosine.At(1).Should().BeApproximately(2 + (6 * (1 + Math.Cos(Math.PI / 4)) / 2), 1e-12);
        cosine.At(4).Should().BeApproximately(2, 1e-12);
        cosine.At(40).Should().BeApproximately(2, 1e-12);
        TemperatureSchedule.Linear(1, 5, epochs: 2).At(1).Should().Be(3, "rising schedules work too");
    }

    [Fact]
    public void Step_multiplies_at_each_milestone_and_custom_and_constant_are_what_they_say()
    {
        var step = TemperatureSchedule.Step(8, 0.5, 3, 5);
        Enumerable.Range(0, 7).Select(step.At).Should().Equal(8, 8, 8, 4, 4, 2, 2);
        TemperatureSchedule.Custom(e => 1 + e, "1 + e").At(3).Should().Be(4);
        TemperatureSchedule constant = 3.0;
        constant.IsConstant.Should().BeTrue();
        constant.At(100).Should().Be(3);
        step.IsConstant.Should().BeFalse();
        step.Description.Should().Contain("[3, 5]");
    }

    [Fact]
    public void Bad_schedules_and_bad_values_are_rejected_naming_the_argument()
    {
        ((Action)(() => TemperatureSchedule.Constant(0))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "temperature");
        ((Action)(() => TemperatureSchedule.Linear(-1, 2, 3))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "start");
        ((Action)(() => TemperatureSchedule.Cosine(1, double.NaN, 3))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "end");
        ((Action)(() => TemperatureSchedule.Linear(1, 2, 0))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "epochs");
        ((Action)(() => TemperatureSchedule.Step(4, 0, 1))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "factor");
        ((Action)(() => TemperatureSchedule.Step(4, 0.5))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "milestones");
        ((Action)(() => TemperatureSchedule.Step(4, 0.5, 3, 3))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "milestones");
        ((Action)(() => TemperatureSchedule.Step(4, 0.5, 0))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "milestones");
        ((Action)(() => TemperatureSchedule.Custom(null!))).Should().Throw<ArgumentNullException>();
        ((Action)(() => TemperatureSchedule.Linear(1, 2, 3).At(-1))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "epoch");
        ((Action)(() => TemperatureSchedule.Custom(e => 1 - e, "1 - e").At(1))).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*'1 - e'*T = 0*epoch 1*");
        ((Action)(() => new KDLoss((TemperatureSchedule)null!))).Should().Throw<ArgumentNullException>();
    }

    [Fact]
    public void Kd_reads_the_temperature_of_the_contexts_stage_epoch_with_its_t_squared_factor()
    {
        using var scope = NewDisposeScope();
        var schedule = TemperatureSchedule.Linear(6, 2, epochs: 2);
        var loss = Loss.ScheduledKD(schedule);
        var student = tensor(new[] { 0.5, -1.0, 2.0, 0.0, 1.0, 1.5 }, new long[] { 2, 3 }, ScalarType.Float64);
        var teacher = tensor(new[] { 2.0, 0.0, -1.0, 1.0, 3.0, -2.0 }, new long[] { 2, 3 }, ScalarType.Float64);
        for (var epoch = 0; epoch < 4; epoch++)
        {
            var expected = Reference.KD(ToRows(student), ToRows(teacher), schedule.At(epoch));
            Scalar(loss.Compute(Context(student, teacher, null, epoch)).Total).ShouldBeClose(expected, 1e-12, $"KD at epoch {epoch} (T = {schedule.At(epoch)})");
        }

        loss.Temperature.Should().Be(6, "Temperature is the value at epoch 0");
        new KDLoss(3.0).TemperatureSchedule.IsConstant.Should().BeTrue();
    }
}

/// <summary>A scheduled temperature through the engine: it follows the stage epochs and resumes exactly (serial: global generator).</summary>
[Collection(SerialCollection.Name)]
public sealed class TemperatureScheduleEngineTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("kd-tsched-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void A_run_stopped_mid_schedule_resumes_on_the_same_temperature_bit_for_bit()
    {
        var schedule = TemperatureSchedule.Step(8, 0.5, 1, 2);
        var uninterrupted = Train(schedule);
        var constant = Train(8.0);
        Losses(uninterrupted).Should().NotEqual(Losses(constant), "the schedule changes the objective from epoch 1 on");
        uninterrupted.History[0].LossParts["kd"].Should().Be(constant.History[0].LossParts["kd"], "epoch 0 has the same T = 8");

        using var cts = new CancellationTokenSource();
        var act = () => Train(schedule, cts, cancelAtStep: 10); // 4 batches per epoch: inside epoch 2 (T = 2)
        act.Should().Throw<OperationCanceledException>();
        var resumed = Train(schedule, resumeFrom: Path.Combine(_directory, "checkpoint.kdck"));

        Losses(resumed).Should().Equal(Losses(uninterrupted));
        resumed.History.Select(h => (h.Stage, h.Epoch, h.Steps)).Should().Equal(uninterrupted.History.Select(h => (h.Stage, h.Epoch, h.Steps)));
    }

    private FitResult Train(TemperatureSchedule temperature, CancellationTokenSource? cancel = null, int cancelAtStep = -1, string? resumeFrom = null)
    {
        using var data = SyntheticData.Blobs(64, classes: 3, seed: 51);
        random.manual_seed(52); // the frozen teacher is the same in every run (a checkpoint holds what trains)
        using var teacherNet = new Mlp(8, new[] { 16 }, numClasses: 3);
        random.manual_seed(resumeFrom is null ? 55 : 99); // a resumed run must not depend on its fresh initialisation
        using var studentNet = new Mlp(8, new[] { 6 }, numClasses: 3);
        using var teacher = Teacher.FromModule(teacherNet);
        using var student = Student.FromModule(studentNet);
        var options = new DistillerOptions { Epochs = 4, Seed = 53, Checkpoint = new CheckpointOptions { Directory = _directory, Overwrite = true } }; // the reference run and the interrupted run share the directory
        using var distiller = new Distiller(new IDistillationModel[] { teacher, student }, Loss.ScheduledHinton(temperature, 0.9), options);
        if (cancel is not null)
        {
            distiller.Callbacks.Add(new CancelAfterSteps(cancel, cancelAtStep));
        }

        var loader = new DataLoader(data, 16, seed: 54);
        return resumeFrom is null ? distiller.Fit(loader, cancellationToken: cancel?.Token ?? default) : distiller.Resume(resumeFrom, loader);
    }

    private static double[] Losses(FitResult result) =>
        result.History.SelectMany(h => h.LossParts.OrderBy(p => p.Key).Select(p => p.Value).Prepend(h.Loss)).ToArray();
}
