using FluentAssertions;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Graph.KnowledgeGraphs;
using KnowledgeDistillation.Graph.KnowledgeGraphs.Multilingual;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Tests.KnowledgeGraphs.Multilingual;

/// <summary>KEnS end to end on two tiny "languages" that are the same graph under a known entity correspondence.</summary>
public sealed class KensTrainingTests
{
    private const int N = 16;

    /// <summary>Two copies of a ring with chords; in "b" entity i is called (i * 5 + 3) mod N, so the true alignment is known.</summary>
    private static (MultilingualKnowledgeGraph Graph, Func<int, int> ToB) Twins(int seedPairs)
    {
        static int ToB(int i) => (i * 5 + 3) % N;
        var triples = new List<Triple>();
        for (var i = 0; i < N; i++)
        {
            triples.Add(new Triple(i, 0, (i + 1) % N));
            triples.Add(new Triple(i, 1, (i + 3) % N));
        }
        var test = triples.Where((_, i) => i % 8 == 5).ToArray();
        var valid = triples.Where((_, i) => i % 8 == 6).ToArray();
        var train = triples.Except(test).Except(valid).ToArray();
        Triple Map(Triple t) => new(ToB(t.Head), t.Relation, ToB(t.Tail));
        var a = new KnowledgeGraph(N, 2, train, valid, test);
        var b = new KnowledgeGraph(N, 2, train.Select(Map).ToArray(), valid.Select(Map).ToArray(), test.Select(Map).ToArray());
        var seeds = Enumerable.Range(0, N).Where(i => i % 2 == 0).Take(seedPairs).Select(i => (i, ToB(i)));
        return (new MultilingualKnowledgeGraph(new Dictionary<string, KnowledgeGraph> { ["a"] = a, ["b"] = b }, new[] { new EntityAlignment("a", "b", seeds) }), ToB);
    }

    [Fact]
    public void Evaluator_with_identical_models_and_full_alignment_votes_like_the_single_model()
    {
        var (graph, toB) = Twins(0);
        manual_seed(3);
        var ma = new TransE(N, 2, 8, margin: 4, norm: 2);
        var mb = new TransE(N, 2, 8, margin: 4, norm: 2);
        using (no_grad())
        {
            // b's entity toB(i) gets a's row i: both models give the same scores through the alignment.
            var perm = tensor(Enumerable.Range(0, N).Select(j => (long)Enumerable.Range(0, N).First(i => toB(i) == j)).ToArray());
            mb.EntityEmbeddings.copy_(ma.EntityEmbeddings.index_select(0, perm));
            mb.RelationEmbeddings.copy_(ma.RelationEmbeddings);
        }
        var models = new Dictionary<string, KgeModel> { ["a"] = ma, ["b"] = mb };
        var state = new AlignmentState(graph);
        state.Extend(0, Enumerable.Range(0, N).Select(i => (i, toB(i))));
        var evaluator = new KensEvaluator(graph, models, state, k: 5);
        var test = graph["a"].Train.Take(12).ToArray();
        var p = evaluator.Predict("a", test);
        p.Ranks[1].Should().Equal(p.Ranks[0], "model b answers through the alignment exactly like model a");
        var report = KensEvaluator.Report(p, KensEvaluator.LearnWeights(p));
        var single = p.Ranks[0];
        report.Single.Should().Be(EnsembleScoring.Summarise(single));
        // Both lists are identical, so the vote keeps model a's order: Hits@1 equal; Hits@10 = share with rank <= k.
        report.Majority.Hits1.Should().Be(report.Single.Hits1);
        report.Majority.Hits10.Should().Be(single.Count(r => r <= 5) / (double)single.Length);
    }

    [Fact]
    public void One_distiller_run_alternates_terms_lowers_the_alignment_distance_and_self_learning_finds_true_pairs()
    {
        var (graph, toB) = Twins(6);
        manual_seed(11);
        var models = new Dictionary<string, KgeModel>
        {
            ["a"] = new TransE(N, 2, 16, margin: 4, norm: 2),
            ["b"] = new TransE(N, 2, 16, margin: 4, norm: 2),
        };
        var run = Kens.Build(graph, models, alignmentWeight: 1.0, selfLearningEvery: 40);
        var data = new MultilingualBatchSource(graph, batchSize: 8, negatives: 4, knowledgeStepsPerAlignment: 2, seed: 1);
        data.GetBatches(0, CPU).Count(b => MultilingualBatchSource.PairOf(b) is not null).Should().Be(data.KnowledgeBatchCount / 2);
        using var distiller = new Distiller(run.Participants, run.Loss, new DistillerOptions
        {
            Epochs = 80,
            Seed = 1,
            Optimizer = new OptimizerOptions { Kind = OptimizerKind.Adam, LearningRate = 0.02, WeightDecay = 0 },
        });
        var fit = distiller.Fit(data);
        fit.History[^1].LossParts["alignment"].Should().BeLessThan(fit.History[0].LossParts["alignment"] / 2);
        fit.History[^1].LossParts["knowledge"].Should().BeLessThan(fit.History[0].LossParts["knowledge"]);
        var alignment = run.Alignment!.Alignments[0];
        alignment.Count.Should().BeGreaterThan(6, "self-learning ran twice");
        var added = alignment.Pairs.Skip(6).ToArray();
        added.Count(p => toB(p.Source) == p.Target).Should().BeGreaterThan(added.Length / 2, "most CSLS pairs are true correspondences");
    }

    [Fact]
    public void The_grown_alignment_is_saved_in_checkpoints_and_restored_by_resume()
    {
        var (graph, _) = Twins(6);
        var dir = Path.Combine(Path.GetTempPath(), "kens-ckpt-" + Guid.NewGuid().ToString("N"));
        try
        {
            Dictionary<string, KgeModel> Models()
            {
                manual_seed(5);
                return new Dictionary<string, KgeModel> { ["a"] = new TransE(N, 2, 8, margin: 4, norm: 2), ["b"] = new TransE(N, 2, 8, margin: 4, norm: 2) };
            }
            DistillerOptions Options(int epochs) => new()
            {
                Epochs = epochs,
                Seed = 2,
                Optimizer = new OptimizerOptions { Kind = OptimizerKind.Adam, LearningRate = 0.02, WeightDecay = 0 },
                Checkpoint = new CheckpointOptions { Directory = dir, EveryEpochs = 1, Overwrite = true },
            };
            var data = new MultilingualBatchSource(graph, batchSize: 8, negatives: 2, knowledgeStepsPerAlignment: 2, seed: 1);
            var first = Kens.Build(graph, Models(), selfLearningEvery: 1);
            using (var distiller = new Distiller(first.Participants, first.Loss, Options(2)))
            {
                distiller.Fit(data);
            }
            var grown = first.Alignment!.Alignments[0].Pairs.ToArray();
            grown.Length.Should().BeGreaterThan(6, "two self-learning rounds ran");
            var second = Kens.Build(graph, Models(), selfLearningEvery: 1000);
            using (var distiller = new Distiller(second.Participants, second.Loss, Options(3)))
            {
                distiller.Resume(Path.Combine(dir, "checkpoint.kdck"), data);
            }
            // The resumed run starts from the checkpoint's alignment (seed + learned), not from the seed pairs.
            second.Alignment!.Alignments[0].Pairs.Should().Equal(grown);
        }
        finally
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }
}
