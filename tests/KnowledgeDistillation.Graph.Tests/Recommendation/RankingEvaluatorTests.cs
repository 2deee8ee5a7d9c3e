using FluentAssertions;
using KnowledgeDistillation.Graph.Recommendation;
using Xunit;
using static KnowledgeDistillation.Graph.Tests.Recommendation.RecommendationFixtures;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Tests.Recommendation;

public sealed class RankingEvaluatorTests
{
    [Fact]
    public void Hand_computed_case_with_training_items_excluded()
    {
        // 1-d embeddings: user 0 scores items by their value, user 1 by minus it. Items 0..4 with values 5,4,3,2,1.
        var split = InteractionSplit.FromLists(5, new[] { new[] { 0 }, new[] { 4 } }, new[] { new[] { 2, 4 }, new[] { 0 } });
        var users = tensor(new[,] { { 1.0 }, { -1.0 } });
        var items = tensor(new[,] { { 5.0 }, { 4.0 }, { 3.0 }, { 2.0 }, { 1.0 } });
        var m = new RankingEvaluator(split, new[] { 1, 2, 4 }).Evaluate(users, items);
        // User 0: item 0 excluded; ranking 1,2,3,4; test {2,4}: hits at positions 2 and 4.
        // User 1: item 4 excluded; ranking 3,2,1,0; test {0}: hit at position 4.
        m.Recall[1].Should().Be(0);
        m.Recall[2].Should().BeApproximately(0.5 * (0.5 + 0), 1e-12);
        m.Recall[4].Should().BeApproximately(0.5 * (1 + 1), 1e-12);
        m.HitRate[2].Should().BeApproximately(0.5, 1e-12);
        var ndcg2User0 = (1 / Math.Log2(3)) / (1 + 1 / Math.Log2(3));
        m.Ndcg[2].Should().BeApproximately(0.5 * ndcg2User0, 1e-12);
        var ndcg4User0 = (1 / Math.Log2(3) + 1 / Math.Log2(5)) / (1 + 1 / Math.Log2(3));
        var ndcg4User1 = 1 / Math.Log2(5);
        m.Ndcg[4].Should().BeApproximately(0.5 * (ndcg4User0 + ndcg4User1), 1e-12);
        m.EvaluatedUsers.Should().Be(2);
        m.SkippedUsers.Should().Be(0);
    }

    [Theory]
    [InlineData(1000)]
    [InlineData(4)]
    public void Matches_the_numpy_reference_on_a_random_split_in_any_user_batch_size(int userBatch)
    {
        var f = Root.GetProperty("evaluation");
        var split = InteractionSplit.FromLists(f.GetProperty("item_count").GetInt32(), Lists(f.GetProperty("train")), Lists(f.GetProperty("test")));
        var ks = f.GetProperty("ks").EnumerateArray().Select(x => x.GetInt32()).ToArray();
        var m = new RankingEvaluator(split, ks, userBatch).Evaluate(T(f.GetProperty("users")), T(f.GetProperty("items")));
        for (var k = 0; k < ks.Length; k++)
        {
            m.Recall[ks[k]].Should().BeApproximately(f.GetProperty("recall")[k].GetDouble(), 1e-9);
            m.Ndcg[ks[k]].Should().BeApproximately(f.GetProperty("ndcg")[k].GetDouble(), 1e-9);
            m.HitRate[ks[k]].Should().BeApproximately(f.GetProperty("hr")[k].GetDouble(), 1e-9);
        }
        m.SkippedUsers.Should().Be(1, "user 3 of the fixture has no test item and is skipped, not counted as zero");
        m.EvaluatedUsers.Should().Be(12);
    }

    [Fact]
    public void Bad_input_is_refused_with_the_argument_named()
    {
        var split = InteractionSplit.FromLists(5, new[] { new[] { 0 }, new[] { 4 } }, new[] { new[] { 2 }, Array.Empty<int>() });
        var tooLarge = () => new RankingEvaluator(split, new[] { 6 });
        tooLarge.Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "ks").WithMessage("*[1, 5]*item count*");
        var zero = () => new RankingEvaluator(split, new[] { 0 });
        zero.Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "ks");
        var evaluator = new RankingEvaluator(split, new[] { 5 });
        var shape = () => evaluator.Evaluate(randn(3, 2), randn(5, 2));
        shape.Should().Throw<ArgumentException>().WithMessage("*users [2, d]*items [5, d]*");
        // K = item count is allowed; a user with fewer candidates than K just has -inf (training) items at the tail.
        evaluator.Evaluate(randn(2, 2), randn(5, 2)).Recall[5].Should().Be(1);
    }
}
