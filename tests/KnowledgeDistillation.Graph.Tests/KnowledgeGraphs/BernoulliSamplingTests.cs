using FluentAssertions;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Graph.KnowledgeGraphs;
using KnowledgeDistillation.Losses;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Tests.KnowledgeGraphs;

/// <summary>Bernoulli negative sampling (Wang et al. 2014): per-relation probabilities, sampling statistics, per-triple scoring.</summary>
public sealed class BernoulliSamplingTests
{
    // Relation 0 is one-to-many: head 0 -> tails 1, 2, 3 and head 4 -> tail 5: tph = (3 + 1) / 2 = 2, hpt = 1, p = 2 / 3.
    // Relation 1 is many-to-one: heads 1, 2, 3 -> tail 0 and head 6 -> tail 7: tph = 1, hpt = (3 + 1) / 2 = 2, p = 1 / 3.
    private static readonly Triple[] Triples =
    {
        new(0, 0, 1), new(0, 0, 2), new(0, 0, 3), new(4, 0, 5),
        new(1, 1, 0), new(2, 1, 0), new(3, 1, 0), new(6, 1, 7),
    };

    [Fact]
    public void The_head_probability_is_tph_over_tph_plus_hpt()
    {
        var source = new TripleBatchSource(Triples, 8, batchSize: 4, negatives: 2, mode: CorruptionMode.Bernoulli);
        source.HeadCorruptionProbability(0).Should().BeApproximately(2.0 / 3.0, 1e-12);
        source.HeadCorruptionProbability(1).Should().BeApproximately(1.0 / 3.0, 1e-12);
        source.HeadCorruptionProbability(9).Should().Be(0.5, "a relation without training triples has no preference");
        FluentActions.Invoking(() => new TripleBatchSource(Triples, 8, 4, 2).HeadCorruptionProbability(0)).Should().Throw<InvalidOperationException>().WithMessage("*Bernoulli*Alternate*");
    }

    [Fact]
    public void Sides_are_drawn_per_triple_with_the_relation_probability()
    {
        var source = new TripleBatchSource(Triples, 8, batchSize: 8, negatives: 1, seed: 3, mode: CorruptionMode.Bernoulli);
        var heads = new double[2];
        var counts = new double[2];
        for (var epoch = 0; epoch < 1500; epoch++)
        {
            foreach (var batch in source.GetBatches(epoch, CPU))
            {
                using var scope = NewDisposeScope();
                var sides = batch.Extras[TripleBatchSource.CorruptHeadKey];
                sides.shape.Should().Equal(batch.Inputs.shape[0]);
                var relations = batch.Inputs.select(1, 1).data<long>().ToArray();
                var drawn = sides.data<long>().ToArray();
                for (var i = 0; i < drawn.Length; i++)
                {
                    heads[relations[i]] += drawn[i];
                    counts[relations[i]]++;
                }
            }
        }

        // 6,000 draws per relation: the binomial standard deviation of the frequency is about 0.006; allow 4 sd.
        (heads[0] / counts[0]).Should().BeApproximately(2.0 / 3.0, 0.025);
        (heads[1] / counts[1]).Should().BeApproximately(1.0 / 3.0, 0.025);
    }

    [Fact]
    public void The_draw_is_a_pure_function_of_seed_and_epoch_and_other_modes_keep_one_side_per_batch()
    {
        static long[] Sides(TripleBatchSource s, int epoch) => s.GetBatches(epoch, CPU).SelectMany(b => b.Extras[TripleBatchSource.CorruptHeadKey].data<long>().ToArray()).ToArray();
        using var scope = NewDisposeScope();
        var a = new TripleBatchSource(Triples, 8, 3, 2, seed: 4, mode: CorruptionMode.Bernoulli);
        Sides(a, 2).Should().Equal(Sides(new TripleBatchSource(Triples, 8, 3, 2, seed: 4, mode: CorruptionMode.Bernoulli), 2));
        Sides(a, 2).Should().HaveCount(8);
        var alternate = new TripleBatchSource(Triples, 8, 3, 2, seed: 4);
        alternate.GetBatches(0, CPU).Select(b => b.Extras[TripleBatchSource.CorruptHeadKey].shape).Should().AllSatisfy(s => s.Should().Equal(1));
        Sides(alternate, 0).Should().Equal(0, 1, 0);
    }

    public static TheoryData<string> Models => new() { "DistMult", "ComplEx", "TransE", "RotatE" };

    [Theory]
    [MemberData(nameof(Models))]
    public void Per_triple_scoring_equals_scoring_each_corrupted_triple(string name)
    {
        using var scope = NewDisposeScope();
        random.manual_seed(11);
        using var model = Create(name);
        var h = tensor(new long[] { 0, 3, 5, 2 });
        var r = tensor(new long[] { 0, 1, 1, 0 });
        var t = tensor(new long[] { 1, 4, 6, 7 });
        var negatives = tensor(new long[,] { { 2, 3, 4 }, { 0, 1, 7 }, { 6, 6, 1 }, { 5, 0, 3 } });
        var sides = tensor(new long[] { 1, 0, 0, 1 });

        var scores = model.ScoreNegatives(h, r, t, negatives, sides).to(ScalarType.Float64).data<double>().ToArray();

        var ids = (h: h.data<long>().ToArray(), r: r.data<long>().ToArray(), t: t.data<long>().ToArray(), n: negatives.data<long>().ToArray());
        for (var b = 0; b < 4; b++)
        {
            for (var k = 0; k < 3; k++)
            {
                var n = ids.n[b * 3 + k];
                var (head, tail) = b is 0 or 3 ? (n, ids.t[b]) : (ids.h[b], n);
                var expected = model.Score(tensor(new[] { head }), tensor(new[] { ids.r[b] }), tensor(new[] { tail })).to(ScalarType.Float64).item<double>();
                scores[b * 3 + k].Should().BeApproximately(expected, 1e-5, $"row {b}, negative {k} of {name}");
            }
        }

        var asBool = model.ScoreNegatives(h, r, t, negatives, sides.to(ScalarType.Bool)).to(ScalarType.Float64).data<double>().ToArray();
        asBool.Should().Equal(scores);
    }

    [Fact]
    public void Sides_of_the_wrong_shape_or_type_are_rejected()
    {
        using var scope = NewDisposeScope();
        using var model = new DistMult(8, 2, 4);
        var h = tensor(new long[] { 0, 1 });
        var negatives = tensor(new long[,] { { 2 }, { 3 } });
        FluentActions.Invoking(() => model.ScoreNegatives(h, h, h, negatives, tensor(new long[] { 1, 0, 1 }))).Should().Throw<ArgumentException>().WithParameterName("corruptHead").WithMessage("*vector of 2 values*");
        FluentActions.Invoking(() => model.ScoreNegatives(h, h, h, negatives, tensor(new float[] { 1, 0 }))).Should().Throw<ArgumentException>().WithParameterName("corruptHead");
    }

    [Fact]
    public void Training_with_bernoulli_negatives_runs_through_the_engine_and_learns()
    {
        var graph = KgTestData.Ring(12);
        random.manual_seed(7);
        using var model = new RotatE(12, 2, 8, margin: 4, initRange: 0.5);
        using var student = KgeParticipant.Student(model);
        var distiller = new Distiller(new[] { student }, new SelfAdversarialLoss(), new DistillerOptions
        {
            Epochs = 20,
            Seed = 1,
            Optimizer = new OptimizerOptions { Kind = OptimizerKind.Adam, LearningRate = 0.05, WeightDecay = 0 },
        });
        distiller.Metrics.Clear();
        var result = distiller.Fit(new TripleBatchSource(graph.Train, graph.EntityCount, batchSize: 11, negatives: 8, seed: 3, mode: CorruptionMode.Bernoulli));
        result.History[^1].Loss.Should().BeLessThan(result.History[0].Loss);
        LinkPredictionEvaluator.For(graph).Evaluate(model, graph.Train).Mrr.Should().BeGreaterThan(0.7);
    }

    private static KgeModel Create(string name) => name switch
    {
        "DistMult" => new DistMult(8, 2, 4),
        "ComplEx" => new ComplEx(8, 2, 4),
        "TransE" => new TransE(8, 2, 4, 6),
        _ => new RotatE(8, 2, 4, 6),
    };
}
