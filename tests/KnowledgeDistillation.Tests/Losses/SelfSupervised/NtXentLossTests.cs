using FluentAssertions;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Tests.Support;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Losses;

public sealed class NtXentLossTests
{
    private static NtXentReference R => SslTermFixtures.Data.Ntxent;

    internal static DistillationContext Context(Tensor first, Tensor second)
    {
        var outputs = new Dictionary<string, ModelOutput>
        {
            ["student"] = new(null, new Dictionary<string, Tensor> { ["view1"] = first, ["view2"] = second }),
        };
        return new DistillationContext(new Batch(zeros(first.shape[0], 1, ScalarType.Float64), null, arange(first.shape[0], ScalarType.Int64)), outputs);
    }

    [Fact]
    public void Value_and_gradients_match_pytorch()
    {
        using var scope = NewDisposeScope();
        var loss = new NtXentLoss(temperature: R.Temperature);
        var (value, grads) = DistillationTermFixtures.ValueAndGrads(v => loss.Compute(Context(v[0], v[1])).Total, R.First.ToTensor(), R.Second.ToTensor());
        value.ShouldBeClose(R.Value, 1e-12, "nt-xent");
        grads[0].ShouldMatch(R.GradFirst, 1e-12, "gradient w.r.t. the first view");
        grads[1].ShouldMatch(R.GradSecond, 1e-12, "gradient w.r.t. the second view");
    }

    [Fact]
    public void Hand_computed_two_sample_case()
    {
        // z = [e1, e2, e1, e2], τ = 1: for anchor e1 (row 0) the candidates are rows 1 (e2: s = 0), 2 (e1: s = 1, the
        // positive) and 3 (e2: s = 0), so ℓ = −log(e / (e + 2)) = ln(e + 2) − 1 for all four rows.
        using var scope = NewDisposeScope();
        var views = tensor(new double[] { 2, 0, 0, 3 }, new long[] { 2, 2 });
        var value = new NtXentLoss(temperature: 1).Compute(Context(views, views * 0.5)).Total.item<double>();
        value.ShouldBeClose(Math.Log(Math.E + 2) - 1, 1e-12, "−log(e / (e + 2))");

        // z = [e1, e2, e2, e1], τ = 0.5: anchor e1 (row 0) has its positive e2 (row 2, s = 0) and negatives e2 (row 1, s = 0)
        // and e1 (row 3, s/τ = 2): ℓ = −log(1 / (1 + 1 + e²)), the same for every row.
        var first = tensor(new double[] { 1, 0, 0, 1 }, new long[] { 2, 2 });
        var second = tensor(new double[] { 0, 1, 1, 0 }, new long[] { 2, 2 });
        var expected = -Math.Log(1 / (1 + Math.Exp(2) + 1)); // positive s = 0, negatives s = 0 and 1 (/τ = 2)
        new NtXentLoss(temperature: 0.5).Compute(Context(first, second)).Total.item<double>().ShouldBeClose(expected, 1e-12, "orthogonal positives");
    }

    [Fact]
    public void A_batch_of_one_and_views_of_different_shapes_are_refused_before_native_code()
    {
        using var scope = NewDisposeScope();
        var loss = Loss.NtXent();
        ((Action)(() => loss.Compute(Context(ones(1, 3, ScalarType.Float64), ones(1, 3, ScalarType.Float64))))).Should().Throw<ArgumentException>()
            .Where(e => e.ParamName == "feature 'view1' of 'student'").WithMessage("*batch of one*at least 2*");
        ((Action)(() => loss.Compute(Context(ones(4, 3, ScalarType.Float64), ones(4, 5, ScalarType.Float64))))).Should().Throw<ArgumentException>()
            .WithMessage("*one shape*[4, 3]*[4, 5]*");
        ((Action)(() => loss.Compute(Context(ones(4, 3, ScalarType.Int64), ones(4, 3, ScalarType.Int64))))).Should().Throw<ArgumentException>().WithMessage("*floating point*");
        ((Action)(() => new NtXentLoss(temperature: 0))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "temperature");
    }
}

/// <summary>The loss contract for NT-Xent on the fixture's projections.</summary>
public sealed class NtXentLossContractTests : LossContractTests
{
    private static NtXentReference R => SslTermFixtures.Data.Ntxent;

    protected override IDistillationLoss CreateLoss() => new NtXentLoss(temperature: R.Temperature);

    protected override LossContractCase CreateCase(Device device)
    {
        var first = R.First.ToTensor().to(device).requires_grad_();
        var second = R.Second.ToTensor().to(device).requires_grad_();
        var context = NtXentLossTests.Context(first, second);
        return new LossContractCase(context, [("student.view1", first), ("student.view2", second)], [], R.Value);
    }

    protected override IEnumerable<LossBadInput> BadInputs => base.BadInputs
        .Append(new("a batch of one", c => NtXentLossTests.Context(ones(1, 3, ScalarType.Float64), ones(1, 3, ScalarType.Float64)), typeof(ArgumentException)))
        .Append(new("views of different shapes", c => NtXentLossTests.Context(ones(4, 3, ScalarType.Float64), ones(3, 3, ScalarType.Float64)), typeof(ArgumentException)));
}
