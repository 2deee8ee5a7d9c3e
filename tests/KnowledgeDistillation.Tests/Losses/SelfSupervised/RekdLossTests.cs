using FluentAssertions;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Tests.Support;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Losses;

[Collection(SerialCollection.Name)]
public sealed class RekdLossTests
{
    private static RekdReference R => SslTermFixtures.Data.Rekd;

    internal static IRekdRelation Relation(RekdCase c) => c.Relation == "soft" ? new SoftRelation(c.Parameter) : new NearestAnchorRelation((int)c.Parameter);

    internal static RekdLoss FixtureLoss(IRekdRelation relation, double weight = -1, double temperature = -1, Tensor? queue = null, Tensor? teacherQueue = null)
    {
        var encoder = new MomentumEncoder(nn.Identity(), nn.Identity());
        queue ??= R.Queue.ToTensor();
        teacherQueue ??= R.TeacherQueue.ToTensor();
        var loss = new RekdLoss(
            "q", "z", encoder, queue.shape[1], teacherQueue.shape[1], dataSize: 10, relation, queueSize: (int)queue.shape[0],
            temperature: temperature > 0 ? temperature : R.Temperature, relationWeight: weight >= 0 ? weight : R.Weight, keyInput: b => b.Inputs);
        loss.State[0].Import(new Dictionary<string, Tensor> { ["entries"] = queue, ["pointer"] = tensor(new[] { 0L }) });
        loss.State[1].Import(new Dictionary<string, Tensor> { ["entries"] = teacherQueue, ["pointer"] = tensor(new[] { 0L }) });
        return loss;
    }

    internal static DistillationContext Context(Tensor query, Tensor key, Tensor teacher) => new(
        new Batch(key, null, arange(key.shape[0], ScalarType.Int64)),
        new Dictionary<string, ModelOutput>
        {
            ["student"] = new(null, new Dictionary<string, Tensor> { ["q"] = query }),
            ["teacher"] = new(null, new Dictionary<string, Tensor> { ["z"] = teacher }),
        });

    [Fact]
    public void Values_parts_and_gradients_match_pytorch_for_each_relation()
    {
        foreach (var c in R.Cases)
        {
            using var scope = NewDisposeScope();
            using var loss = FixtureLoss(Relation(c));
            LossResult? result = null;
            var (value, grads) = DistillationTermFixtures.ValueAndGrads(
                v => (result = loss.Compute(Context(v[0], R.Key.ToTensor(), R.Teacher.ToTensor()))).Total, R.Query.ToTensor());
            value.ShouldBeClose(c.Value, 1e-12, $"rekd ({c.Relation} {c.Parameter})");
            result!.Parts["rekd.instance"].item<double>().ShouldBeClose(c.Instance, 1e-12, "instance part");
            result.Parts["rekd.relation"].item<double>().ShouldBeClose(c.RelationValue, 1e-12, "relation part");
            grads[0].ShouldMatch(c.Grad, 1e-11, $"rekd gradient ({c.Relation} {c.Parameter})");
        }
    }

    [Fact]
    public void Note_oracles_no_positives_is_instance_contrast_and_the_closed_form()
    {
        using var scope = NewDisposeScope();
        using (var none = FixtureLoss(new NearestAnchorRelation(0)))
        {
            var parts = none.Compute(Context(R.Query.ToTensor(), R.Key.ToTensor(), R.Teacher.ToTensor())).Parts;
            parts["rekd.relation"].item<double>().Should().Be(parts["rekd.instance"].item<double>(), "with no mined positives L_rel is L_ins exactly");
        }

        // τ = 0.5 and similarities [1 (own key), 0.5, 0] give logits [2, 1, 0]; the teacher finds anchor 1 nearest.
        var queue = tensor(new[] { 0.5, Math.Sqrt(0.75), 0, 1 }, new long[] { 2, 2 });
        var teacherQueue = tensor(new double[] { 1, 0, 0, 1 }, new long[] { 2, 2 });
        using var loss = FixtureLoss(new NearestAnchorRelation(1), weight: 1, temperature: 0.5, queue: queue, teacherQueue: teacherQueue);
        var e1 = tensor(new double[] { 1, 0 }, new long[] { 1, 2 });
        var result = loss.Compute(Context(e1, e1, e1));
        var p = new[] { Math.Exp(2), Math.Exp(1), 1.0 }.Select(x => x / (Math.Exp(2) + Math.Exp(1) + 1)).ToArray();
        p[0].Should().BeApproximately(0.665, 5e-4);
        p[1].Should().BeApproximately(0.245, 5e-4);
        result.Parts["rekd.instance"].item<double>().ShouldBeClose(-Math.Log(p[0]), 1e-12, "L_ins = −ln 0.665 = 0.408");
        result.Parts["rekd.relation"].item<double>().ShouldBeClose(-(Math.Log(p[0]) + Math.Log(p[1])) / 2, 1e-12, "L_rel = 0.907");
        result.Parts["rekd.relation"].item<double>().Should().BeApproximately(0.907, 1e-3);
    }

    [Fact]
    public void The_teacher_gets_no_gradient_and_both_queues_advance_together()
    {
        using var scope = NewDisposeScope();
        using var loss = FixtureLoss(new SoftRelation(0.1));
        var teacher = R.Teacher.ToTensor().requires_grad_();
        var query = R.Query.ToTensor().requires_grad_();
        var context = Context(query, R.Key.ToTensor(), teacher);
        loss.Compute(context).Total.backward();
        (teacher.grad is null || teacher.grad.abs().max().item<double>() == 0).Should().BeTrue("the teacher is frozen");
        query.grad.Should().NotBeNull();
        loss.OnStepEnd(context);
        loss.Keys.Pointer.Should().Be(4);
        loss.TeacherAnchors.Pointer.Should().Be(4);
    }

    [Fact]
    public void Bad_input_is_refused_before_native_code()
    {
        using var scope = NewDisposeScope();
        using var loss = FixtureLoss(new NearestAnchorRelation(2));
        ((Action)(() => loss.Compute(Context(ones(4, 3, ScalarType.Float64), ones(4, 3, ScalarType.Float64), ones(4, 4, ScalarType.Float64))))).Should().Throw<ArgumentException>()
            .WithMessage("*teacher*[4, 5]*[4, 4]*");
        ((Action)(() => loss.Compute(Context(ones(4, 3, ScalarType.Float64), ones(4, 2, ScalarType.Float64), ones(4, 5, ScalarType.Float64))))).Should().Throw<ArgumentException>();
        using var tooMany = FixtureLoss(new NearestAnchorRelation(7));
        ((Action)(() => tooMany.Compute(Context(R.Query.ToTensor(), R.Key.ToTensor(), R.Teacher.ToTensor())))).Should().Throw<ArgumentException>().WithMessage("*7 nearest*only 6*");
        var encoder = new MomentumEncoder(nn.Linear(2, 2), nn.Linear(2, 2));
        ((Action)(() => new RekdLoss("q", "z", encoder, 3, 5, dataSize: 5, new NearestAnchorRelation(), queueSize: 6))).Should().Throw<ArgumentOutOfRangeException>()
            .Where(e => e.ParamName == "queueSize");
        ((Action)(() => new NearestAnchorRelation(-1))).Should().Throw<ArgumentOutOfRangeException>();
    }
}

/// <summary>The loss contract for ReKD (nearest-anchor relations): keys and teacher embeddings are frozen inputs.</summary>
public sealed class RekdLossContractTests : LossContractTests
{
    private static RekdReference R => SslTermFixtures.Data.Rekd;

    protected override IDistillationLoss CreateLoss() => RekdLossTests.FixtureLoss(RekdLossTests.Relation(R.Cases[0]));

    protected override LossContractCase CreateCase(Device device)
    {
        var q = R.Query.ToTensor().to(device).requires_grad_();
        var k = R.Key.ToTensor().to(device).requires_grad_();
        var z = R.Teacher.ToTensor().to(device).requires_grad_();
        return new LossContractCase(RekdLossTests.Context(q, k, z), [("student.q", q)], [("batch inputs (the key view)", k), ("teacher.z", z)], R.Cases[0].Value);
    }

    protected override IEnumerable<LossBadInput> BadInputs => base.BadInputs
        .Append(new("a teacher of another width", c => RekdLossTests.Context(ones(4, 3, ScalarType.Float64), ones(4, 3, ScalarType.Float64), ones(4, 2, ScalarType.Float64)), typeof(ArgumentException)));
}
