using FluentAssertions;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Graph.KnowledgeGraphs;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Tests.KnowledgeGraphs;

/// <summary>1-N scoring: the query batches, the loss against hand-derived values and gradients, training through the engine.</summary>
public sealed class OneToNScoringTests
{
    private static readonly double[,] Scores = { { 0.5, -1.0, 2.0, 0.1 }, { -0.3, 0.8, 1.5, -2.2 } };
    private static readonly long[,] Answers = { { 0, 1 }, { 0, 3 }, { 1, 2 } };

    [Theory]
    [InlineData(OneToNObjective.BinaryCrossEntropy, 0.0)]
    [InlineData(OneToNObjective.BinaryCrossEntropy, 0.1)]
    [InlineData(OneToNObjective.SoftmaxCrossEntropy, 0.0)]
    [InlineData(OneToNObjective.SoftmaxCrossEntropy, 0.2)]
    public void Value_and_gradient_match_the_hand_derived_formulas(OneToNObjective objective, double epsilon)
    {
        using var scope = NewDisposeScope();
        var scores = tensor(Scores, ScalarType.Float64).requires_grad_(true);
        var loss = OneToNLoss.Value(scores, tensor(Answers), objective, epsilon);
        loss.backward();

        var (expected, gradient) = Reference(objective, epsilon);
        loss.item<double>().Should().BeApproximately(expected, 1e-12);
        var grad = scores.grad!.data<double>().ToArray();
        for (var i = 0; i < grad.Length; i++)
        {
            grad[i].Should().BeApproximately(gradient[i], 1e-12, $"d loss / d score {i}");
        }
    }

    [Fact]
    public void Query_batches_hold_each_distinct_query_once_with_all_its_answers()
    {
        // Relation 0: 0 -> {1, 2}, 3 -> {1}; a duplicate triple counts once.
        var triples = new Triple[] { new(0, 0, 1), new(0, 0, 2), new(3, 0, 1), new(0, 0, 1) };
        var source = new QueryBatchSource(triples, 4, batchSize: 2, seed: 5);
        source.SampleCount.Should().Be(4, "tail queries (0,0,?), (3,0,?) and head queries (?,0,1), (?,0,2)");
        source.TailQueryCount.Should().Be(2);
        source.BatchCount.Should().Be(2);

        using var scope = NewDisposeScope();
        var seen = new List<(long Side, long Entity, long Relation, long[] Answers)>();
        foreach (var batch in source.GetBatches(3, CPU))
        {
            var side = batch.Extras[QueryBatchSource.QuerySideKey].item<long>();
            var inputs = batch.Inputs.data<long>().ToArray();
            var answers = batch.Extras[QueryBatchSource.AnswersKey].data<long>().ToArray();
            for (var row = 0; row < batch.Inputs.shape[0]; row++)
            {
                var mine = Enumerable.Range(0, answers.Length / 2).Where(a => answers[2 * a] == row).Select(a => answers[2 * a + 1]).ToArray();
                var (entity, queried) = side == 0 ? (inputs[3 * row], inputs[3 * row + 2]) : (inputs[3 * row + 2], inputs[3 * row]);
                mine.Should().Contain(queried, "the queried slot of the inputs holds one of the answers");
                seen.Add((side, entity, inputs[3 * row + 1], mine));
            }
        }

        seen.Select(q => (q.Side, q.Entity, q.Relation, string.Join(",", q.Answers.Order()))).Should().BeEquivalentTo(new[]
        {
            (0L, 0L, 0L, "1,2"), (0L, 3L, 0L, "1"), (1L, 1L, 0L, "0,3"), (1L, 2L, 0L, "0"),
        });
        var order = (QueryBatchSource s, int e) => s.GetBatches(e, CPU).SelectMany(b => b.Indices!.data<long>().ToArray()).ToArray();
        order(source, 3).Should().Equal(order(new QueryBatchSource(triples, 4, 2, seed: 5), 3), "the order is a pure function of (seed, epoch)");
        new QueryBatchSource(triples, 4, 8, bothDirections: false).SampleCount.Should().Be(2);
    }

    [Fact]
    public void Training_with_one_to_n_scoring_learns_the_ring()
    {
        var graph = KgTestData.Ring(12);
        random.manual_seed(3);
        using var model = new DistMult(12, 2, 16);
        using var student = KgeParticipant.Student(model);
        var distiller = new Distiller(new[] { student }, new OneToNLoss(objective: OneToNObjective.SoftmaxCrossEntropy), new DistillerOptions
        {
            Epochs = 60,
            Seed = 1,
            Optimizer = new OptimizerOptions { Kind = OptimizerKind.Adam, LearningRate = 0.05, WeightDecay = 0 },
        });
        distiller.Metrics.Clear();
        var result = distiller.Fit(new QueryBatchSource(graph.Train, graph.EntityCount, batchSize: 8, seed: 2));
        result.History[^1].Loss.Should().BeLessThan(result.History[0].Loss);
        LinkPredictionEvaluator.For(graph).Evaluate(model, graph.Train).Mrr.Should().BeGreaterThan(0.7);
    }

    [Fact]
    public void Bad_answers_and_settings_are_rejected_before_native_code()
    {
        using var scope = NewDisposeScope();
        var scores = tensor(Scores, ScalarType.Float32);
        FluentActions.Invoking(() => OneToNLoss.Value(scores, tensor(new long[,] { { 0, 4 } }), OneToNObjective.BinaryCrossEntropy, 0)).Should().Throw<ArgumentException>().WithMessage("*entity in [0, 4)*");
        FluentActions.Invoking(() => OneToNLoss.Value(scores, tensor(new long[,] { { 2, 0 } }), OneToNObjective.BinaryCrossEntropy, 0)).Should().Throw<ArgumentException>().WithMessage("*row in [0, 2)*");
        FluentActions.Invoking(() => OneToNLoss.Value(scores, tensor(new long[] { 0, 1 }), OneToNObjective.BinaryCrossEntropy, 0)).Should().Throw<ArgumentException>().WithParameterName("answers");
        FluentActions.Invoking(() => OneToNLoss.Value(scores.reshape(-1), tensor(Answers), OneToNObjective.BinaryCrossEntropy, 0)).Should().Throw<ArgumentException>().WithParameterName("scores");
        FluentActions.Invoking(() => OneToNLoss.Value(scores, tensor(new long[,] { { 0, 1 } }), OneToNObjective.SoftmaxCrossEntropy, 0)).Should().Throw<ArgumentException>().WithMessage("*every row*");
        FluentActions.Invoking(() => new OneToNLoss(labelSmoothing: 1)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("labelSmoothing");
        FluentActions.Invoking(() => new OneToNLoss(objective: (OneToNObjective)5)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("objective");
        FluentActions.Invoking(() => new QueryBatchSource(Array.Empty<Triple>(), 4, 2)).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => new QueryBatchSource(new[] { new Triple(0, 0, 9) }, 4, 2)).Should().Throw<ArgumentException>().WithMessage("*outside [0, 3]*");
    }

    /// <summary>The loss and its gradient in double precision from the formulas (σ and softmax written out).</summary>
    private static (double Loss, double[] Gradient) Reference(OneToNObjective objective, double epsilon)
    {
        const int b = 2, e = 4;
        var y = new double[b, e];
        for (var a = 0; a < Answers.GetLength(0); a++)
        {
            y[Answers[a, 0], Answers[a, 1]] = 1;
        }

        var gradient = new double[b * e];
        var loss = 0.0;
        for (var i = 0; i < b; i++)
        {
            var count = Enumerable.Range(0, e).Sum(j => y[i, j]);
            var max = Enumerable.Range(0, e).Max(j => Scores[i, j]);
            var logZ = max + Math.Log(Enumerable.Range(0, e).Sum(j => Math.Exp(Scores[i, j] - max)));
            for (var j = 0; j < e; j++)
            {
                var s = Scores[i, j];
                if (objective == OneToNObjective.BinaryCrossEntropy)
                {
                    var target = (y[i, j] * (1 - epsilon)) + (epsilon / e);
                    var sigma = 1 / (1 + Math.Exp(-s));
                    loss += -((target * Math.Log(sigma)) + ((1 - target) * Math.Log(1 - sigma))) / (b * e);
                    gradient[(i * e) + j] = (sigma - target) / (b * e);
                }
                else
                {
                    var target = (y[i, j] / count * (1 - epsilon)) + (epsilon / e);
                    loss += -target * (s - logZ) / b;
                    gradient[(i * e) + j] = (Math.Exp(s - logZ) - target) / b; // the targets sum to 1 per row
                }
            }
        }

        return (loss, gradient);
    }
}
