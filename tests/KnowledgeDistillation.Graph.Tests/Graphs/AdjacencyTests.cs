using FluentAssertions;
using KnowledgeDistillation.Graph.Graphs;
using KnowledgeDistillation.Graph.Tests.Support;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Tests.Graphs;

public sealed class AdjacencyTests
{
    [Fact]
    public void Symmetric_normalisation_matches_the_hand_computed_path_graph()
    {
        // Path 0-1-2 with self loops: degrees 2, 3, 2. M[v,u] = 1/sqrt(d_u d_v).
        var m = TinyGraphs.Path(3).WithSelfLoops().Normalize(AdjacencyNormalization.Symmetric).ToDense();
        m[0, 0].Should().BeApproximately(0.5f, 1e-6f);
        m[0, 1].Should().BeApproximately((float)(1 / Math.Sqrt(6)), 1e-6f);
        m[1, 1].Should().BeApproximately(1f / 3, 1e-6f);
        m[0, 2].Should().Be(0);
    }

    [Fact]
    public void Symmetric_normalisation_is_symmetric_and_maps_sqrt_degree_to_itself()
    {
        var graph = TinyGraphs.Irregular().WithSelfLoops();
        var degrees = graph.InDegrees();
        using var m = TinyGraphs.Dense(graph.Normalize(AdjacencyNormalization.Symmetric), ScalarType.Float64);
        using var sqrtD = tensor(degrees.Select(Math.Sqrt).ToArray());

        m.allclose(m.t(), 1e-12).Should().BeTrue();
        // D^-1/2 Â D^-1/2 D^1/2 1 = D^-1/2 Â 1 = D^-1/2 d = D^1/2 1
        m.matmul(sqrtD).allclose(sqrtD, 1e-6).Should().BeTrue();
        // The largest eigenvalue of the renormalised adjacency is 1.
        linalg.eigvalsh(m).max().item<double>().Should().BeApproximately(1, 1e-6);
    }

    [Fact]
    public void Random_walk_normalisation_averages_in_neighbours()
    {
        using var m = TinyGraphs.Dense(TinyGraphs.Irregular().Normalize(AdjacencyNormalization.RandomWalk), ScalarType.Float64);
        m.sum(1).allclose(ones(6, dtype: ScalarType.Float64), 1e-6).Should().BeTrue();
    }

    [Fact]
    public void Self_loops_are_added_once_and_removed()
    {
        var graph = TinyGraphs.Path(3).WithSelfLoops();
        graph.EdgeCount.Should().Be(7);
        graph.WithSelfLoops().EdgeCount.Should().Be(7);
        graph.WithoutSelfLoops().EdgeCount.Should().Be(4);
    }

    [Fact]
    public void Sparse_propagation_equals_the_dense_product()
    {
        var graph = TinyGraphs.Irregular().WithSelfLoops().Normalize(AdjacencyNormalization.Symmetric);
        using var propagation = new GraphPropagation(graph);
        using var x = randn(6, 4, generator: new Generator((ulong)3));
        using var dense = TinyGraphs.Dense(graph);

        propagation.call(x).allclose(dense.matmul(x), 1e-5, 1e-6).Should().BeTrue();
    }

    [Fact]
    public void Edge_softmax_sums_to_one_per_target_and_ignores_a_shared_shift()
    {
        var graph = TinyGraphs.Irregular().WithSelfLoops();
        using var propagation = new GraphPropagation(graph);
        using var scores = randn(graph.EdgeCount, generator: new Generator((ulong)4)) * 30;
        using var w = propagation.EdgeSoftmax(scores);
        using var sums = zeros(6).index_add(0, propagation.Target, w, 1);

        sums.allclose(ones(6), 1e-5).Should().BeTrue();
        propagation.EdgeSoftmax(scores + 1000).allclose(w, 1e-5).Should().BeTrue();
    }

    [Fact]
    public void Bad_shapes_are_reported()
    {
        using var propagation = new GraphPropagation(TinyGraphs.Path(3));
        var act = () => propagation.call(zeros(4, 2));
        act.Should().Throw<ArgumentException>().WithMessage("*[3, features]*[4, 2]*");
        var badEdge = () => new GraphAdjacency(2, new long[] { 0 }, new long[] { 5 }, new float[] { 1 });
        badEdge.Should().Throw<ArgumentException>().WithMessage("*outside [0, 2)*");
    }
}
