using FluentAssertions;
using KnowledgeDistillation.Graph.KnowledgeGraphs.Multilingual;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Tests.KnowledgeGraphs.Multilingual;

/// <summary>
/// <see cref="CslsCandidates.Neighbourhood"/>: self-learning pairs an entity only with an unaligned entity among its k nearest
/// neighbours over all entities (the released KEnS code's rule).
/// </summary>
public sealed class CslsNeighbourhoodTests
{
    // The hand case of KensOracleTests: cos(a0, b0) = 0.8, cos(a0, b1) = 0, cos(a1, b0) = 0.96, cos(a1, b1) = 0.8.
    private static readonly double[,] A = { { 1.0, 0.0 }, { 0.6, 0.8 } };
    private static readonly double[,] B = { { 0.8, 0.6 }, { 0.0, 1.0 } };

    [Fact]
    public void With_every_entity_unaligned_both_rules_find_the_same_pair()
    {
        using var a = tensor(A);
        using var b = tensor(B);
        Csls.MutualNearest(a, b, new[] { 0, 1 }, new[] { 0, 1 }, k: 1, CslsCandidates.Neighbourhood).Should().Equal((1, 0));
    }

    [Fact]
    public void An_entity_whose_neighbours_are_all_aligned_gets_no_pair()
    {
        // b0 is aligned already; it is the single nearest neighbour (k = 1) of both a0 and a1, so neither may pair,
        // while the unrestricted rule pairs a1 with b1 (CSLS -0.16).
        using var a = tensor(A);
        using var b = tensor(B);
        Csls.MutualNearest(a, b, new[] { 0, 1 }, new[] { 1 }, k: 1, CslsCandidates.Neighbourhood).Should().BeEmpty();
        Csls.MutualNearest(a, b, new[] { 0, 1 }, new[] { 1 }, k: 1, CslsCandidates.All).Should().Equal((1, 1));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Every_pair_lies_in_both_neighbourhoods_and_is_mutually_CSLS_best_there(int seed)
    {
        var generator = new Random(seed);
        using var a = RandomTable(generator, 9, 4);
        using var b = RandomTable(generator, 7, 4);
        var candidatesA = Enumerable.Range(0, 9).Where(i => i % 3 != 0).ToArray();
        var candidatesB = Enumerable.Range(0, 7).Where(i => i != 2).ToArray();
        const int k = 3;
        var pairs = Csls.MutualNearest(a, b, candidatesA, candidatesB, k, CslsCandidates.Neighbourhood);

        var cos = CosineMatrix(a, b);
        var scores = Csls.Scores(a, b, k).data<double>().ToArray();
        foreach (var (i, j) in pairs)
        {
            candidatesA.Should().Contain(i);
            candidatesB.Should().Contain(j);
            var nearestOfI = Enumerable.Range(0, 7).OrderByDescending(c => cos[i, c]).Take(k).ToArray();
            var nearestOfJ = Enumerable.Range(0, 9).OrderByDescending(r => cos[r, j]).Take(k).ToArray();
            nearestOfI.Should().Contain(j);
            nearestOfJ.Should().Contain(i);
            var bestForI = nearestOfI.Where(candidatesB.Contains).MaxBy(c => scores[(i * 7) + c]);
            var bestForJ = nearestOfJ.Where(candidatesA.Contains).MaxBy(r => scores[(r * 7) + j]);
            bestForI.Should().Be(j);
            bestForJ.Should().Be(i);
        }

        // And no mutual pair within the neighbourhoods is missed.
        var expected = new List<(int, int)>();
        foreach (var i in candidatesA)
        {
            var nearestOfI = Enumerable.Range(0, 7).OrderByDescending(c => cos[i, c]).Take(k).Where(candidatesB.Contains).ToArray();
            if (nearestOfI.Length == 0)
            {
                continue;
            }

            var j = nearestOfI.MaxBy(c => scores[(i * 7) + c]);
            var nearestOfJ = Enumerable.Range(0, 9).OrderByDescending(r => cos[r, j]).Take(k).Where(candidatesA.Contains).ToArray();
            if (nearestOfJ.Length > 0 && nearestOfJ.MaxBy(r => scores[(r * 7) + j]) == i)
            {
                expected.Add((i, j));
            }
        }

        expected.Should().NotBeEmpty("the case must exercise the pairing");
        pairs.Should().Equal(expected);
    }

    [Fact]
    public void With_the_neighbourhood_covering_every_row_both_rules_agree()
    {
        var generator = new Random(7);
        using var a = RandomTable(generator, 6, 3);
        using var b = RandomTable(generator, 6, 3);
        var rows = Enumerable.Range(0, 6).ToArray();
        Csls.MutualNearest(a, b, rows, rows, k: 6, CslsCandidates.Neighbourhood)
            .Should().Equal(Csls.MutualNearest(a, b, rows, rows, k: 6, CslsCandidates.All));
    }

    [Fact]
    public void Candidate_rows_outside_the_table_are_refused()
    {
        using var a = tensor(A);
        using var b = tensor(B);
        var act = () => Csls.MutualNearest(a, b, new[] { 0, 2 }, new[] { 0 }, k: 1, CslsCandidates.Neighbourhood);
        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("candidatesA").WithMessage("*[0, 2)*");
    }

    private static Tensor RandomTable(Random generator, int rows, int width)
    {
        var values = new double[rows, width];
        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < width; c++)
            {
                values[r, c] = (generator.NextDouble() * 2) - 1;
            }
        }

        return tensor(values);
    }

    private static double[,] CosineMatrix(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        var na = nn.functional.normalize(a, dim: 1);
        var nb = nn.functional.normalize(b, dim: 1);
        var m = na.matmul(nb.t());
        var flat = m.data<double>().ToArray();
        var result = new double[a.shape[0], b.shape[0]];
        for (var i = 0; i < a.shape[0]; i++)
        {
            for (var j = 0; j < b.shape[0]; j++)
            {
                result[i, j] = flat[(i * b.shape[0]) + j];
            }
        }

        return result;
    }
}
