using FluentAssertions;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Tests.Support;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Losses;

public sealed class TeacherQueueLossTests
{
    private static QueueTermsReference R => SslTermFixtures.Data.QueueTerms;

    internal static T WithQueue<T>(T loss)
        where T : TeacherQueueLoss
    {
        loss.State.Single().Import(new Dictionary<string, Tensor> { ["entries"] = R.Queue.ToTensor(), ["pointer"] = tensor(new[] { 0L }) });
        return loss;
    }

    internal static SeedLoss Seed() => WithQueue(new SeedLoss("z", 3, 10, 5, R.Seed.StudentTemperature, R.Seed.TeacherTemperature));

    internal static CompressLoss Compress() => WithQueue(new CompressLoss("z", 3, 10, 5, R.Compress.Temperature));

    internal static DistillationContext Context(Tensor student, Tensor teacher) => new(
        new Batch(zeros(student.shape[0], 1, ScalarType.Float64), null, arange(student.shape[0], ScalarType.Int64)),
        new Dictionary<string, ModelOutput>
        {
            ["student"] = new(null, new Dictionary<string, Tensor> { ["z"] = student }),
            ["teacher"] = new(null, new Dictionary<string, Tensor> { ["z"] = teacher }),
        });

    [Fact]
    public void Seed_matches_pytorch()
    {
        using var scope = NewDisposeScope();
        using var loss = Seed();
        var (value, grads) = DistillationTermFixtures.ValueAndGrads(v => loss.Compute(Context(v[0], R.Teacher.ToTensor())).Total, R.Student.ToTensor());
        value.ShouldBeClose(R.Seed.Value, 1e-12, "seed");
        grads[0].ShouldMatch(R.Seed.Grad, 1e-11, "seed gradient");
    }

    [Fact]
    public void Compress_matches_pytorch_and_is_zero_when_the_student_is_the_teacher()
    {
        using var scope = NewDisposeScope();
        using var loss = Compress();
        var (value, grads) = DistillationTermFixtures.ValueAndGrads(v => loss.Compute(Context(v[0], R.Teacher.ToTensor())).Total, R.Student.ToTensor());
        value.ShouldBeClose(R.Compress.Value, 1e-12, "compress");
        grads[0].ShouldMatch(R.Compress.Grad, 1e-11, "compress gradient");
        loss.Compute(Context(R.Teacher.ToTensor() * 3, R.Teacher.ToTensor())).Total.item<double>().Should().BeApproximately(0, 1e-12, "KL of a distribution with itself");
    }

    [Fact]
    public void The_teacher_embeddings_are_enqueued_at_step_end()
    {
        using var scope = NewDisposeScope();
        using var loss = Seed();
        var context = Context(R.Student.ToTensor(), R.Teacher.ToTensor());
        loss.Compute(context);
        loss.Queue.Entries.ShouldMatch(R.Queue, 0, "Compute leaves the queue alone");
        loss.OnStepEnd(context);
        loss.Queue.Pointer.Should().Be(4);
        var t = R.Teacher.ToTensor();
        var unit = t / t.norm(1, keepdim: true);
        loss.Queue.Entries.narrow(0, 0, 4).sub(unit).abs().max().item<double>().Should().BeLessThan(1e-15);
    }

    [Fact]
    public void Widths_that_differ_without_a_projection_and_a_queue_larger_than_the_dataset_are_refused()
    {
        using var scope = NewDisposeScope();
        using var loss = Seed();
        ((Action)(() => loss.Compute(Context(ones(4, 3, ScalarType.Float64), ones(4, 5, ScalarType.Float64))))).Should().Throw<ArgumentException>()
            .Where(e => e.ParamName == "feature 'z' of 'student'").WithMessage("*3 values per sample*5*projection*");
        ((Action)(() => new SeedLoss("z", 3, dataSize: 100, queueSize: 101))).Should().Throw<ArgumentOutOfRangeException>()
            .Where(e => e.ParamName == "queueSize").WithMessage("*larger than the dataset (N = 100)*");
        ((Action)(() => new CompressLoss("z", 3, dataSize: 10, queueSize: 11))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "queueSize");
        ((Action)(() => new SeedLoss("z", 3, 10, 5, teacherTemperature: 0))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "teacherTemperature");
    }
}

/// <summary>The loss contract for SEED.</summary>
public sealed class SeedLossContractTests : LossContractTests
{
    private static QueueTermsReference R => SslTermFixtures.Data.QueueTerms;

    protected override IDistillationLoss CreateLoss() => TeacherQueueLossTests.Seed();

    protected override LossContractCase CreateCase(Device device) => Case(device, R.Seed.Value);

    protected override IEnumerable<LossBadInput> BadInputs => base.BadInputs
        .Append(new("a student of another width", c => TeacherQueueLossTests.Context(ones(4, 2, ScalarType.Float64), ones(4, 3, ScalarType.Float64)), typeof(ArgumentException)));

    internal static LossContractCase Case(Device device, double expected)
    {
        var s = R.Student.ToTensor().to(device).requires_grad_();
        var t = R.Teacher.ToTensor().to(device).requires_grad_();
        return new LossContractCase(TeacherQueueLossTests.Context(s, t), [("student.z", s)], [("teacher.z", t)], expected);
    }
}

/// <summary>The loss contract for CompRess-1q.</summary>
public sealed class CompressLossContractTests : LossContractTests
{
    protected override IDistillationLoss CreateLoss() => TeacherQueueLossTests.Compress();

    protected override LossContractCase CreateCase(Device device) => SeedLossContractTests.Case(device, SslTermFixtures.Data.QueueTerms.Compress.Value);
}
