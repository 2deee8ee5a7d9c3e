using FluentAssertions;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Tests.Support;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Losses;

/// <summary>The loss contract for the clip-level contrastive pretext term (NT-Xent), against the PyTorch fixture.</summary>
public sealed class ClipContrastiveLossContractTests : LossContractTests
{
    private static readonly ClipContrastiveCase Reference = ClipContrastiveFixtures.Data.Cases[0];

    protected override IDistillationLoss CreateLoss() => new ClipContrastiveLoss(Reference.Temperature);

    protected override LossContractCase CreateCase(Device device)
    {
        var embeddings = Reference.Embeddings.ToTensor().to(device).requires_grad_();
        var n = embeddings.shape[0];
        var batch = new Batch(zeros(n / 2, 1, ScalarType.Float64, device), zeros(n / 2, ScalarType.Int64, device), arange(n / 2, ScalarType.Int64, device));
        var context = new DistillationContext(batch, new Dictionary<string, ModelOutput> { ["student"] = new(embeddings) });
        return new LossContractCase(context, [("student", embeddings)], [], Reference.Value);
    }

    protected override IEnumerable<LossBadInput> BadInputs => base.BadInputs.Concat(
    [
        new("the student's output missing", c => WithOutput(c, "student", null), typeof(KeyNotFoundException)),
        new("an odd number of rows", c => WithOutput(c, "student", new ModelOutput(zeros(7, 5, ScalarType.Float64))), typeof(ArgumentException)),
        new("a single pair (no negative)", c => WithOutput(c, "student", new ModelOutput(zeros(2, 5, ScalarType.Float64))), typeof(ArgumentException)),
        new("1-D embeddings", c => WithOutput(c, "student", new ModelOutput(zeros(8, ScalarType.Float64))), typeof(ArgumentException)),
        new("integer embeddings", c => WithOutput(c, "student", new ModelOutput(zeros(new long[] { 8, 5 }, ScalarType.Int64))), typeof(ArgumentException)),
    ]);
}

/// <summary>The NT-Xent value and its helpers: a hand-derived case, every PyTorch case with gradients, invariances, bad input.</summary>
public sealed class ClipContrastiveLossTests
{
    [Fact]
    public void Two_orthogonal_pairs_at_temperature_1_give_log_of_e_plus_2_minus_1()
    {
        // z = e1, e2 (first clips) and e1, e2 (second clips): every row has similarity 1 with its positive and 0 with the two
        // other clips, so each term is -log(e / (e + 2)) = log(e + 2) - 1.
        using var scope = NewDisposeScope();
        var first = tensor(new double[] { 1, 0, 0, 1 }, new long[] { 2, 2 });
        var value = ClipContrastiveLoss.NtXent(first, first.clone(), temperature: 1.0).item<double>();
        value.Should().BeApproximately(Math.Log(Math.E + 2) - 1, 1e-14);
    }

    [Fact]
    public void Values_and_gradients_match_pytorch_for_every_case()
    {
        using var scope = NewDisposeScope();
        foreach (var c in ClipContrastiveFixtures.Data.Cases)
        {
            var embeddings = c.Embeddings.ToTensor().requires_grad_();
            var (first, second) = ClipContrastiveLoss.Split(embeddings);
            var value = ClipContrastiveLoss.NtXent(first, second, c.Temperature);
            value.backward();
            value.item<double>().Should().BeApproximately(c.Value, 1e-12 * Math.Max(1, Math.Abs(c.Value)), "τ = {0}", c.Temperature);
            var grad = embeddings.grad!.data<double>().ToArray();
            grad.Zip(c.Grad.Data, (a, b) => Math.Abs(a - b)).Max().Should().BeLessThan(1e-12, "the gradient at τ = {0}", c.Temperature);
        }
    }

    [Fact]
    public void The_value_ignores_the_embeddings_scale_and_falls_when_pairs_align()
    {
        using var scope = NewDisposeScope();
        var c = ClipContrastiveFixtures.Data.Cases[1];
        var (first, second) = ClipContrastiveLoss.Split(c.Embeddings.ToTensor());
        var value = ClipContrastiveLoss.NtXent(first, second, c.Temperature).item<double>();
        ClipContrastiveLoss.NtXent(first * 7, second * 0.3, c.Temperature).item<double>().Should().BeApproximately(value, 1e-12, "the embeddings are L2-normalised");
        ClipContrastiveLoss.NtXent(first, first + (0.01 * second), c.Temperature).item<double>().Should().BeLessThan(value, "positives that coincide are easier");
    }

    [Fact]
    public void Pair_retrieval_accuracy_counts_rows_whose_nearest_other_row_is_their_positive()
    {
        using var scope = NewDisposeScope();
        var first = tensor(new double[] { 1, 0, 0, 1, -1, 0 }, new long[] { 3, 2 });
        ClipContrastiveLoss.PairRetrievalAccuracy(first, first + 0.01).item<double>().Should().Be(1.0);
        // Second clips swapped between pairs 0 and 1: rows 0, 1, 3, 4 find another pair's clip; pair 2 still finds its own.
        var swapped = tensor(new double[] { 0, 1, 1, 0, -1, 0 }, new long[] { 3, 2 });
        ClipContrastiveLoss.PairRetrievalAccuracy(first, swapped).item<double>().Should().BeApproximately(2.0 / 6, 1e-12);
    }

    [Fact]
    public void Bad_arguments_fail_in_dotnet_naming_the_argument()
    {
        using var scope = NewDisposeScope();
        var ok = randn(4, 3, ScalarType.Float64);
        ((Action)(() => ClipContrastiveLoss.NtXent(ok, randn(4, 5, ScalarType.Float64)))).Should().Throw<ArgumentException>().WithParameterName("second").WithMessage("*same shape*");
        ((Action)(() => ClipContrastiveLoss.NtXent(randn(1, 3, ScalarType.Float64), randn(1, 3, ScalarType.Float64)))).Should().Throw<ArgumentException>().WithParameterName("first").WithMessage("*at least 2 pairs*");
        ((Action)(() => ClipContrastiveLoss.NtXent(ok, ok, temperature: 0))).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("temperature");
        ((Action)(() => ClipContrastiveLoss.Split(randn(5, 3)))).Should().Throw<ArgumentException>().WithMessage("*[2N, features]*odd*");
        ((Action)(() => new ClipContrastiveLoss(temperature: -1))).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("temperature");
    }
}
