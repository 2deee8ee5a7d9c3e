using System.Text.Json;
using FluentAssertions;
using KnowledgeDistillation.Graph.KnowledgeGraphs.Multilingual;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Tests.KnowledgeGraphs.Multilingual;

/// <summary>The oracles of kens.md ("What a correct implementation must show") and the PyTorch fixtures (tests/fixtures/generate_kens_fixtures.py).</summary>
public sealed class KensOracleTests
{
    private sealed record AlignmentCase(string Name, double Weight, double[][] Left, double[][] Right, double Value, double[][] GradLeft, double[][] GradRight);

    private sealed record CslsCase(string Name, int K, double[][] A, double[][] B, double[][] Csls, int[][] Mutual);

    private sealed record FixtureFile(string TorchVersion, AlignmentCase[] Alignment, CslsCase[] Csls);

    private static readonly Lazy<FixtureFile> Fixtures = new(() =>
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "kens.json");
        using var stream = File.OpenRead(path);
        return JsonSerializer.Deserialize<FixtureFile>(stream, new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower })
            ?? throw new InvalidOperationException($"Could not read {path}.");
    });

    private static Tensor T(double[][] rows) => tensor(rows.SelectMany(r => r).ToArray(), new long[] { rows.Length, rows[0].Length });

    private static void ShouldEqual(Tensor actual, double[][] expected, double tolerance)
    {
        var a = actual.to(ScalarType.Float64).cpu().data<double>().ToArray();
        a.Should().HaveCount(expected.Sum(r => r.Length));
        var e = expected.SelectMany(r => r).ToArray();
        for (var i = 0; i < a.Length; i++)
        {
            a[i].Should().BeApproximately(e[i], tolerance, $"element {i}");
        }
    }

    [Theory]
    [InlineData("small")]
    [InlineData("weighted")]
    public void Alignment_value_and_gradients_match_pytorch(string name)
    {
        var c = Fixtures.Value.Alignment.Single(x => x.Name == name);
        var left = T(c.Left).requires_grad_(true);
        var right = T(c.Right).requires_grad_(true);
        var value = c.Weight * AlignmentLoss.Value(left, right);
        value.backward();
        value.item<double>().Should().BeApproximately(c.Value, 1e-12);
        ShouldEqual(left.grad!, c.GradLeft, 1e-12);
        ShouldEqual(right.grad!, c.GradRight, 1e-12);
    }

    [Fact]
    public void Alignment_is_zero_for_identical_rows_and_its_gradient_is_the_unit_difference()
    {
        var e = tensor(new[,] { { 1.0, 2.0, 3.0 } });
        AlignmentLoss.Value(e, e.clone()).item<double>().Should().Be(0);
        var x = tensor(new[,] { { 3.0, 4.0 } }).requires_grad_(true);
        var y = tensor(new[,] { { 0.0, 0.0 } });
        var v = AlignmentLoss.Value(x, y);
        v.item<double>().Should().BeApproximately(5, 1e-12);
        v.backward();
        ShouldEqual(x.grad!, new[] { new[] { 0.6, 0.8 } }, 1e-12);
    }

    [Fact]
    public void Alignment_rejects_rows_of_different_shapes()
    {
        var act = () => AlignmentLoss.Value(zeros(2, 3), zeros(3, 3));
        act.Should().Throw<ArgumentException>().WithMessage("*[2, 3]*[3, 3]*");
    }

    [Fact]
    public void Csls_hand_case_with_one_neighbour()
    {
        // cos: a0.b0 = 0.8, a0.b1 = 0, a1.b0 = 0.96, a1.b1 = 0.8 (b0 is a hub: nearest to both a0 and a1).
        // r_B(a0) = 0.8, r_B(a1) = 0.96, r_A(b0) = 0.96, r_A(b1) = 0.8.
        var a = tensor(new[,] { { 1.0, 0.0 }, { 0.6, 0.8 } });
        var b = tensor(new[,] { { 0.8, 0.6 }, { 0.0, 1.0 } });
        ShouldEqual(Csls.Scores(a, b, k: 1), new[] { new[] { 1.6 - 0.8 - 0.96, 0 - 0.8 - 0.8 }, new[] { 1.92 - 0.96 - 0.96, 1.6 - 0.96 - 0.8 } }, 1e-12);
        Csls.MutualNearest(a, b, new[] { 0, 1 }, new[] { 0, 1 }, k: 1).Should().Equal((1, 0));
        // With b0 already aligned, only b1 is a candidate: a1 (CSLS -0.16) and b1 are mutual, a0 (-1.6) is not.
        Csls.MutualNearest(a, b, new[] { 0, 1 }, new[] { 1 }, k: 1).Should().Equal((1, 1));
    }

    [Fact]
    public void Csls_matches_pytorch_on_a_random_case()
    {
        var c = Fixtures.Value.Csls.Single();
        var a = T(c.A);
        var b = T(c.B);
        ShouldEqual(Csls.Scores(a, b, c.K), c.Csls, 1e-12);
        var all = Enumerable.Range(0, c.A.Length).ToArray();
        Csls.MutualNearest(a, b, all, Enumerable.Range(0, c.B.Length).ToArray(), c.K)
            .Should().Equal(c.Mutual.Select(p => (p[0], p[1])));
    }

    [Fact]
    public void Boosting_hand_case_two_models_four_pairs()
    {
        // A correct on pairs 0-2, B only on pair 2.
        var y = new[] { new sbyte[] { 1, -1 }, new sbyte[] { 1, -1 }, new sbyte[] { 1, 1 }, new sbyte[] { -1, -1 } };
        var w = EntityBoosting.Learn(y, 2);
        var aA = 0.5 * Math.Log((0.75 + 1e-7) / (0.25 + 1e-7));
        aA.Should().BeApproximately(0.549, 1e-3);
        w[0].Should().BeApproximately(1 + aA, 1e-12).And.BeApproximately(1.549, 1e-3);
        // After round 1 the pair weights are 1/6, 1/6, 1/6, 1/2; B is right on 1/6 of the mass: a_B = 0.5 ln(1/5).
        w[1].Should().BeApproximately(1 + 0.5 * Math.Log((1.0 / 6) / (5.0 / 6)), 1e-6);
    }

    [Fact]
    public void Boosting_picks_each_model_at_most_once_and_keeps_1_without_pairs()
    {
        var y = Enumerable.Repeat(new sbyte[] { 1, -1, -1 }, 5).ToArray();
        var w = EntityBoosting.Learn(y, 3, rounds: 1);
        w[1].Should().Be(1);
        w[2].Should().Be(1);
        w[0].Should().BeGreaterThan(1);
        EntityBoosting.Learn(Array.Empty<sbyte[]>(), 3).Should().Equal(1, 1, 1);
        var bad = () => EntityBoosting.Learn(new[] { new sbyte[] { 1, 0 } }, 2);
        bad.Should().Throw<ArgumentException>();
    }

    [Fact]
    public void Boosting_pairs_follow_each_models_list()
    {
        // t = 5. A lists [5, 1, 2]; B lists [1, 5, -1]; C lists nothing.
        var rows = EntityBoosting.Pairs(new[] { new long[] { 5, 1, 2 }, new long[] { 1, 5, -1 }, new long[] { -1, -1, -1 } }, 5);
        // pairs (5, 1) and (5, 2): A right on both; B wrong on (5, 1) (1 ahead of 5), right on (5, 2); C misses t: wrong.
        rows.Should().HaveCount(2);
        rows[0].Should().Equal(1, -1, -1);
        rows[1].Should().Equal(1, 1, -1);
    }

    [Fact]
    public void Voting_three_of_five_outranks_two_of_five_and_ties_go_to_the_earlier_list()
    {
        // 5 models, k = 2. Votes: 7 -> 3, 3 -> 2, 1 -> 2, 2 -> 1. 3 appears before 1 (model 0 slot 0 vs model 1 slot 1).
        var lists = tensor(new long[] { 3, 7, 7, 1, 7, 3, 2, 1, -1, -1 }, new long[] { 1, 5, 2 });
        double Rank(long target, Tensor? weights = null) =>
            EnsembleScoring.Ranks(lists, weights ?? ones(5), tensor(new[] { target }), 10).item<double>();
        Rank(7).Should().Be(1);
        Rank(3).Should().Be(2);
        Rank(1).Should().Be(3);
        Rank(2).Should().Be(4);
        Rank(9).Should().Be(double.PositiveInfinity);
        // Model 3 (lists 2 and 1) weighted 10: 1 -> 11, 2 -> 10, 7 -> 3, 3 -> 2.
        Rank(2, tensor(new[] { 1.0, 1, 1, 10, 1 })).Should().Be(2);
        Rank(3, tensor(new[,] { { 1.0, 1, 1, 10, 1 } })).Should().Be(4);
    }

    [Fact]
    public void Voting_matches_the_official_stable_sort_on_random_lists()
    {
        var random = new Random(7);
        const int q = 40, m = 4, k = 5, n = 12;
        var data = new long[q * m * k];
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = random.Next(-1, n);
        }
        var weights = Enumerable.Range(0, q * m).Select(_ => (double)random.Next(0, 3)).ToArray();
        var targets = Enumerable.Range(0, q).Select(_ => (long)random.Next(n)).ToArray();
        var ranks = EnsembleScoring.Ranks(tensor(data, new long[] { q, m, k }), tensor(weights, new long[] { q, m }), tensor(targets), n).data<double>().ToArray();
        for (var i = 0; i < q; i++)
        {
            // ensemble.py voting_with_model_weight: insertion-ordered dict, then a stable sort by score (descending).
            var order = new List<long>();
            var score = new Dictionary<long, double>();
            for (var j = 0; j < m; j++)
            {
                for (var p = 0; p < k; p++)
                {
                    var e = data[(i * m + j) * k + p];
                    if (e < 0)
                    {
                        continue;
                    }
                    if (!score.ContainsKey(e))
                    {
                        order.Add(e);
                        score[e] = 0;
                    }
                    score[e] += weights[i * m + j];
                }
            }
            var sorted = order.OrderByDescending(e => score[e]).ToList();
            var expected = sorted.IndexOf(targets[i]) is var at and >= 0 ? at + 1 : double.PositiveInfinity;
            ranks[i].Should().Be(expected, $"query {i}");
        }
    }
}
