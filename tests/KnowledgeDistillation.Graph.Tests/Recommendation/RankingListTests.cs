using FluentAssertions;
using KnowledgeDistillation.Graph.Recommendation;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Tests.Recommendation;

public sealed class RankingListTests
{
    [Fact]
    public void Teacher_ranking_is_best_first_without_training_items()
    {
        var split = RecommenderTrainingTests.Communities();
        using var model = new BprMf(split.UserCount, split.ItemCount, 3);
        var ranking = TeacherRanking.Compute(model, split, depth: 5, userBatchSize: 7);
        var (users, items) = model.Embeddings();
        for (var u = 0; u < split.UserCount; u++)
        {
            var scores = users[u].matmul(items.t()).data<float>().ToArray();
            var expected = Enumerable.Range(0, split.ItemCount).Where(i => !split.TrainItems[u].Contains(i)).OrderByDescending(i => scores[i]).Take(5);
            ranking.Top[u].Should().Equal(expected);
        }
        var tooDeep = () => TeacherRanking.Compute(model, split, depth: 25);
        tooDeep.Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "depth").WithMessage("*<= 24*");
    }

    [Fact]
    public void Rrd_lists_follow_the_teacher_order_avoid_top_and_training_items_and_are_a_function_of_seed_and_epoch()
    {
        var split = RecommenderTrainingTests.Communities();
        var top = Enumerable.Range(0, split.UserCount)
            .Select(u => Enumerable.Range(0, split.ItemCount).Where(i => !split.TrainItems[u].Contains(i)).Reverse().Take(8).ToArray()).ToArray();
        var ranking = TeacherRanking.FromLists(top, split);
        using var loss = new RelaxedRankingLoss(ranking, interesting: 3, uninteresting: 6, rankTemperature: 2, seed: 4);
        var (first, second) = loss.Lists(0);
        for (var u = 0; u < split.UserCount; u++)
        {
            var chosen = first.AsSpan(u * 3, 3).ToArray().Select(i => Array.IndexOf(top[u], (int)i)).ToArray();
            chosen.Should().OnlyContain(p => p >= 0).And.BeInAscendingOrder().And.OnlyHaveUniqueItems();
            foreach (var j in second.AsSpan(u * 6, 6).ToArray())
            {
                top[u].Should().NotContain((int)j);
                split.TrainItems[u].Should().NotContain((int)j);
            }
        }
        loss.Lists(0).Interesting.Should().Equal(first);
        loss.Lists(1).Interesting.Should().NotEqual(first);
        // Rank weights exp(-r/T): with T = 2 the top positions dominate.
        var counts = new int[8];
        for (var e = 0; e < 20; e++)
        {
            var (f, _) = loss.Lists(e);
            for (var u = 0; u < split.UserCount; u++)
            {
                for (var k = 0; k < 3; k++)
                {
                    counts[Array.IndexOf(top[u], (int)f[u * 3 + k])]++;
                }
            }
        }
        counts[0].Should().BeGreaterThan(counts[7] * 3);
    }
}
