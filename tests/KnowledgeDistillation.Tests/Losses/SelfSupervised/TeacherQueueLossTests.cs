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
    public void Seed_defaults_to_the_official_temperatures_and_its_sharp_teacher_limit_is_infonce_on_the_teacher_embedding()
    {
        // jacobswan1/SEED main.py: --temp 0.2 (student), --distill-t 1e-4 (teacher); tools/opts.py defaults.
        using var scope = NewDisposeScope();
        using (var defaults = new SeedLoss("z", 3, 10, 5))
        {
            defaults.StudentTemperature.Should().Be(0.2);
            defaults.TeacherTemperature.Should().Be(1e-4);
        }

        // At τ_t = 1e-4 the teacher's target is one-hot on its own embedding whenever every queued entry is less similar to
        // it by more than a few 1e-3 (here checked), so SEED is the student's InfoNCE with the teacher's embedding as the
        // positive and the queue as negatives: −mean_i log softmax([s_i·t_i, s_i·q_1, ...] / τ_s)_0, in float64 by hand.
        using var loss = WithQueue(new SeedLoss("z", 3, 10, 5, 0.2, 1e-4));
        var student = R.Student.ToTensor();
        var teacher = R.Teacher.ToTensor();
        var queue = R.Queue.ToTensor();
        var s = student / student.norm(1, keepdim: true);
        var t = teacher / teacher.norm(1, keepdim: true);
        t.matmul(queue.t()).max().item<double>().Should().BeLessThan(1 - 5e-3, "the limit needs a margin of many τ_t");
        var expected = 0.0;
        for (var i = 0; i < s.shape[0]; i++)
        {
            var logits = new List<double> { (s[i] * t[i]).sum().item<double>() / 0.2 };
            for (var j = 0; j < queue.shape[0]; j++)
            {
                logits.Add((s[i] * queue[j]).sum().item<double>() / 0.2);
            }

            var max = logits.Max();
            expected += -(logits[0] - max - Math.Log(logits.Sum(l => Math.Exp(l - max))));
        }

        expected /= s.shape[0];
        loss.Compute(Context(student, teacher)).Total.item<double>().Should().BeApproximately(expected, 1e-12);
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
