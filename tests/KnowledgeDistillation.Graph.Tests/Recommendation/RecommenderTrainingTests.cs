using FluentAssertions;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Graph.Graphs;
using KnowledgeDistillation.Graph.Recommendation;
using KnowledgeDistillation.Losses;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Tests.Recommendation;

/// <summary>The models and recipes through <see cref="Distiller.Fit"/> on a small synthetic two-community dataset.</summary>
public sealed class RecommenderTrainingTests
{
    /// <summary>40 users, 30 items; users of community c (u % 2) like items of parity c; 6 items each, 2 held out.</summary>
    internal static InteractionSplit Communities(int seed = 0)
    {
        var random = new Random(seed);
        var train = new List<int[]>();
        var test = new List<int[]>();
        for (var u = 0; u < 40; u++)
        {
            var liked = Enumerable.Range(0, 15).Select(x => 2 * x + u % 2).ToArray();
            random.Shuffle(liked);
            train.Add(liked.Take(6).ToArray());
            test.Add(liked.Skip(6).Take(2).ToArray());
        }
        return InteractionSplit.FromLists(30, train, test);
    }

    private static DistillerOptions Options(int epochs, double lr = 0.01) => new()
    {
        Epochs = epochs,
        Seed = 1,
        Threads = 1,
        Optimizer = new OptimizerOptions { Kind = OptimizerKind.Adam, LearningRate = lr, WeightDecay = 0 },
    };

    [Fact]
    public void Lightgcn_propagation_matches_a_dense_reference()
    {
        var split = Communities();
        using var model = new LightGcn(split, dimension: 4, layers: 2);
        var a = LightGcn.Adjacency(split).ToDense();
        var n = split.UserCount + split.ItemCount;
        var dense = zeros(n, n);
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++)
            {
                dense[i, j] = a[i, j];
            }
        }
        // Â = D^-1/2 A D^-1/2 on the bipartite graph: entry (item, user) = 1/sqrt(|N_u| |N_i|).
        var e0 = model.EgoEmbeddings.detach();
        var e1 = dense.matmul(e0);
        var e2 = dense.matmul(e1);
        var expected = (e0 + e1 + e2) / 3;
        var (users, items) = model.Embeddings();
        (cat(new[] { users, items }) - expected).abs().max().item<float>().Should().BeLessThan(1e-5f);
        // Entry (item i, user 0) is 1/sqrt(|N_0| |N_i|): user 0 has 6 training items.
        var i0 = split.TrainItems[0][0];
        var itemDegree = split.TrainItems.Count(t => t.Contains(i0));
        dense[split.UserCount + i0, 0].item<float>().Should().BeApproximately((float)(1 / Math.Sqrt(6.0 * itemDegree)), 1e-6f);
    }

    [Fact]
    public void Teacher_then_every_recipe_trains_a_student_that_beats_chance()
    {
        var split = Communities();
        var data = new BprBatchSource(split, batchSize: 64, seed: 2);
        var evaluator = new RankingEvaluator(split, new[] { 5 });
        manual_seed(0);
        using var teacherModel = new BprMf(split.UserCount, split.ItemCount, 16, initStd: 0.1);
        using (var fit = new Distiller(new[] { RecommenderParticipant.Student(teacherModel, "teacher") }, Recipes.Bpr(participant: "teacher"), Options(30)))
        {
            fit.Fit(data);
        }
        var teacherRecall = evaluator.Evaluate(teacherModel).Recall[5];
        teacherRecall.Should().BeGreaterThan(0.3, "items of the user's own parity are 15 of 30 (chance recall@5 is about 0.2 after excluding 6 training items)");
        var ranking = TeacherRanking.Compute(teacherModel, split, depth: 10);

        var methods = new (string Name, Func<DistillationExperts, DistillationRecipe> Recipe, string[] Parts)[]
        {
            ("bpr", _ => Recipes.Bpr(), new[] { "bpr" }),
            ("ftd", _ => Recipes.Ftd(lambda: 0.01), new[] { "bpr", "ftd" }),
            ("htd", e => Recipes.Htd(e, 10, lambda: 0.01), new[] { "bpr", "htd", "htd.entity", "htd.group", "htd.ga" }),
            ("de", e => Recipes.De(e, 10, lambda: 0.01), new[] { "bpr", "de", "de.users", "de.items" }),
            ("rrd", _ => Recipes.Rrd(ranking, lambda: 0.01, interesting: 5, uninteresting: 10), new[] { "bpr", "rrd" }),
        };
        foreach (var (name, recipe, parts) in methods)
        {
            manual_seed(1);
            using var studentModel = new BprMf(split.UserCount, split.ItemCount, 4, initStd: 0.1);
            using var experts = new DistillationExperts(4, 16, 3);
            var before = experts.parameters().First().detach().clone();
            var participants = new IDistillationModel[] { RecommenderParticipant.Student(studentModel), RecommenderParticipant.Teacher(teacherModel) };
            using var distiller = new Distiller(participants, recipe(experts), Options(10, lr: 0.03));
            var result = distiller.Fit(data);
            result.Last!.LossParts.Keys.Should().Contain(parts, name);
            result.History.Should().OnlyContain(e => double.IsFinite(e.Loss), name);
            evaluator.Evaluate(studentModel).Recall[5].Should().BeGreaterThan(0.3, name);
            if (name is "htd" or "de")
            {
                (experts.parameters().First().detach() - before).abs().max().item<float>().Should().BeGreaterThan(0, name);
            }
        }
    }
}
