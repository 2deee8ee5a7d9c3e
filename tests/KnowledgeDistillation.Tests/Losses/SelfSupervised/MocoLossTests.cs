using FluentAssertions;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Tests.Support;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Losses;

[Collection(SerialCollection.Name)]
public sealed class MocoLossTests
{
    private static MocoReference R => SslTermFixtures.Data.Moco;

    internal static MocoLoss FixtureLoss()
    {
        // Identity encoders: the batch's inputs are the raw keys, so the key encoder outputs the fixture's keys.
        var encoder = new MomentumEncoder(nn.Identity(), nn.Identity(), 0.9);
        var loss = new MocoLoss("q", encoder, 3, dataSize: 10, queueSize: 6, temperature: R.Temperature, keyInput: b => b.Inputs);
        loss.State[0].Import(new Dictionary<string, Tensor> { ["entries"] = R.Queue.ToTensor(), ["pointer"] = tensor(new[] { R.Pointer }) });
        return loss;
    }

    internal static DistillationContext Context(Tensor query, Tensor key)
    {
        var outputs = new Dictionary<string, ModelOutput>
        {
            ["student"] = new(null, new Dictionary<string, Tensor> { ["q"] = query }),
        };
        return new DistillationContext(new Batch(key, null, arange(key.shape[0], ScalarType.Int64)), outputs);
    }

    [Fact]
    public void Value_and_gradient_match_pytorch_and_the_queue_advances_at_step_end()
    {
        using var scope = NewDisposeScope();
        using var loss = FixtureLoss();
        var (value, grads) = DistillationTermFixtures.ValueAndGrads(v => loss.Compute(Context(v[0], R.Key.ToTensor())).Total, R.Query.ToTensor());
        value.ShouldBeClose(R.Value, 1e-12, "moco");
        grads[0].ShouldMatch(R.Grad, 1e-12, "gradient w.r.t. the queries");
        loss.Queue.Entries.ShouldMatch(R.Queue, 0, "the queue is unchanged by Compute");
        loss.Queue.Pointer.Should().Be(R.Pointer);

        loss.OnStepEnd(Context(R.Query.ToTensor(), R.Key.ToTensor()));
        loss.Queue.Entries.ShouldMatch(R.QueueAfter, 1e-15, "the keys written at the pointer, wrapping around");
        loss.Queue.Pointer.Should().Be(R.PointerAfter);
        loss.OnStepEnd(Context(R.Query.ToTensor(), R.Key.ToTensor()));
        loss.Queue.Pointer.Should().Be(R.PointerAfter, "a step end without a new Compute enqueues nothing");
    }

    [Fact]
    public void Hand_computed_queue_case()
    {
        // Capacity 3: enqueue [1, 2] (pointer 0 → 2), then [3, 4] → rows [4, 2, 3], pointer 1; then [5, 6, 7, 8]: written
        // one by one from row 1 that is 5 → 1, 6 → 2, 7 → 0, 8 → 1, so rows [7, 8, 6] and pointer (1 + 4) % 3 = 2.
        using var scope = NewDisposeScope();
        using var queue = new EmbeddingQueue(3, 1);
        queue.Entries.to_type(ScalarType.Float64).pow(2).sum(1).sub(1).abs().max().item<double>().Should().BeLessThan(1e-6, "initial rows are unit vectors");
        queue.Enqueue(tensor(new float[] { 1, 2 }, new long[] { 2, 1 }));
        queue.Pointer.Should().Be(2);
        queue.Enqueue(tensor(new float[] { 3, 4 }, new long[] { 2, 1 }));
        queue.Entries.reshape(-1).data<float>().ToArray().Should().Equal(4, 2, 3);
        queue.Pointer.Should().Be(1);
        queue.Enqueue(tensor(new float[] { 5, 6, 7, 8 }, new long[] { 4, 1 }));
        queue.Entries.reshape(-1).data<float>().ToArray().Should().Equal(7, 8, 6);
        queue.Pointer.Should().Be(2);
        ((Action)(() => queue.Enqueue(zeros(2, 2)))).Should().Throw<ArgumentException>().WithMessage("*[n, 1]*[2, 2]*");
    }

    [Fact]
    public void The_momentum_encoder_starts_as_a_copy_and_follows_the_query_by_ema()
    {
        using var scope = NewDisposeScope();
        using var query = nn.Linear(2, 2);
        using var key = nn.Linear(2, 2);
        var encoder = new MomentumEncoder(query, key, 0.75);
        key.weight!.ShouldMatch(Flat(query.weight!), 0, "the key starts as the query's copy");
        var before = key.weight!.detach().clone().to_type(ScalarType.Float64);
        using (no_grad())
        {
            query.weight!.add_(1.0);
        }

        encoder.Update();
        var expected = (before * 0.75) + (query.weight!.detach().to_type(ScalarType.Float64) * 0.25);
        key.weight!.to_type(ScalarType.Float64).sub(expected).abs().max().item<double>().Should().BeLessThan(1e-6, "θ_k = m θ_k + (1 − m) θ_q");
        ((Action)(() => new MomentumEncoder(query, nn.Linear(2, 3)))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "key").WithMessage("*weight*[3, 2]*[2, 2]*");
        ((Action)(() => new MomentumEncoder(query, query))).Should().Throw<ArgumentException>().WithMessage("*second instance*");
        ((Action)(() => new MomentumEncoder(query, key, 1))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "momentum");
    }

    [Fact]
    public void A_queue_larger_than_the_dataset_and_mismatched_widths_are_refused()
    {
        using var scope = NewDisposeScope();
        var encoder = new MomentumEncoder(nn.Linear(2, 2), nn.Linear(2, 2));
        ((Action)(() => new MocoLoss("z", encoder, 3, dataSize: 10, queueSize: 11))).Should().Throw<ArgumentOutOfRangeException>()
            .Where(e => e.ParamName == "queueSize").WithMessage("*11 entries*larger than the dataset (N = 10)*");
        ((Action)(() => new MocoLoss("z", encoder, 3, dataSize: 10, queueSize: 0))).Should().Throw<ArgumentOutOfRangeException>();
        using var loss = FixtureLoss();
        ((Action)(() => loss.Compute(Context(ones(4, 3, ScalarType.Float64), ones(4, 4, ScalarType.Float64))))).Should().Throw<ArgumentException>()
            .WithMessage("*3 values per sample*4*");
        ((Action)(() => loss.Compute(Context(ones(4, 5, ScalarType.Float64), ones(4, 5, ScalarType.Float64))))).Should().Throw<ArgumentException>()
            .WithMessage("*5 values per sample*queue holds 3-wide*");
    }

    private static FlatTensor Flat(Tensor t) => new(t.shape, t.detach().to_type(ScalarType.Float64).reshape(-1).data<double>().ToArray());
}

/// <summary>The loss contract for MoCo v2 on the fixture's queries, keys and queue (the key view is the frozen input).</summary>
public sealed class MocoLossContractTests : LossContractTests
{
    private static MocoReference R => SslTermFixtures.Data.Moco;

    protected override IDistillationLoss CreateLoss() => MocoLossTests.FixtureLoss();

    protected override LossContractCase CreateCase(Device device)
    {
        var q = R.Query.ToTensor().to(device).requires_grad_();
        var k = R.Key.ToTensor().to(device).requires_grad_();
        return new LossContractCase(MocoLossTests.Context(q, k), [("student.q", q)], [("batch inputs (the key view)", k)], R.Value);
    }

    protected override IEnumerable<LossBadInput> BadInputs => base.BadInputs
        .Append(new("keys of another width", c => MocoLossTests.Context(ones(4, 3, ScalarType.Float64), ones(4, 2, ScalarType.Float64)), typeof(ArgumentException)))
        .Append(new("keys of another batch", c => MocoLossTests.Context(ones(4, 3, ScalarType.Float64), ones(3, 3, ScalarType.Float64)), typeof(ArgumentException)))
        .Append(new("integer queries", c => MocoLossTests.Context(ones(4, 3, ScalarType.Int64), ones(4, 3, ScalarType.Float64)), typeof(ArgumentException)));
}
