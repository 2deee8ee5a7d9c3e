using FluentAssertions;
using KnowledgeDistillation.Graph.Graphs;
using KnowledgeDistillation.Graph.Tests.Support;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Tests.Graphs;

/// <summary>Each teacher layer against a dense formula on a 6-node graph.</summary>
public sealed class LayerReferenceTests
{
    private static readonly GraphAdjacency Graph = TinyGraphs.Irregular();

    private static Tensor Features(int seed, long d = 5) => randn(6, d, generator: new Generator((ulong)seed));

    [Fact]
    public void Gcn_conv_is_A_hat_x_W_plus_b()
    {
        random.manual_seed(1);
        var normalized = Graph.WithSelfLoops().Normalize(AdjacencyNormalization.Symmetric);
        using var conv = new GcnConv(new GraphPropagation(normalized), 5, 3);
        using (no_grad())
        {
            conv.Bias.copy_(tensor(new float[] { 0.1f, -0.2f, 0.3f }));
        }

        conv.eval();
        using var x = Features(2);
        var expected = TinyGraphs.Dense(normalized).matmul(x.matmul(conv.Weight.t())) + conv.Bias;

        conv.call(x).allclose(expected, 1e-5, 1e-5).Should().BeTrue();
    }

    [Fact]
    public void Gcn_conv_on_sparse_features_equals_the_dense_path()
    {
        random.manual_seed(1);
        var normalized = Graph.WithSelfLoops().Normalize(AdjacencyNormalization.Symmetric);
        using var conv = new GcnConv(new GraphPropagation(normalized), 40, 3);
        conv.eval();
        using var x = (rand(6, 40, generator: new Generator((ulong)9)) > 0.9).to(ScalarType.Float32);
        var expected = TinyGraphs.Dense(normalized).matmul(x.matmul(conv.Weight.t())) + conv.Bias;

        conv.call(x).allclose(expected, 1e-5, 1e-5).Should().BeTrue();
    }

    [Fact]
    public void Gat_conv_matches_dense_masked_attention()
    {
        random.manual_seed(2);
        var withLoops = Graph.WithSelfLoops();
        using var conv = new GatConv(new GraphPropagation(withLoops), 5, 4, heads: 2);
        conv.eval();
        using var x = Features(3);
        var h = x.matmul(conv.Weight.t()).view(6, 2, 4);
        var left = (h * conv.AttentionLeft).sum(-1);
        var right = (h * conv.AttentionRight).sum(-1);
        var adjacency = TinyGraphs.Dense(withLoops) > 0;
        var outputs = new List<Tensor>();
        for (var head = 0; head < 2; head++)
        {
            // e[v, u] = LeakyReLU(a_l h_u + a_r h_v), softmax over u in N(v).
            var e = nn.functional.leaky_relu(left[.., head].unsqueeze(0) + right[.., head].unsqueeze(1), 0.2);
            var attention = e.masked_fill(adjacency.logical_not(), double.NegativeInfinity).softmax(1);
            outputs.Add(attention.matmul(h[.., head, ..]));
        }

        var expected = stack(outputs, 1);
        conv.call(x).allclose(expected, 1e-5, 1e-5).Should().BeTrue();
    }

    [Fact]
    public void Sage_conv_is_self_plus_neighbour_mean()
    {
        random.manual_seed(3);
        var mean = Graph.WithoutSelfLoops().Normalize(AdjacencyNormalization.RandomWalk);
        using var conv = new SageConv(new GraphPropagation(mean), 5, 3);
        using var x = Features(4);
        var a = TinyGraphs.Dense(Graph);
        var neighbourMean = a.matmul(x) / a.sum(1, keepdim: true);
        var expected = x.matmul(conv.SelfWeight.t()) + neighbourMean.matmul(conv.NeighbourWeight.t()) + conv.Bias;

        conv.call(x).allclose(expected, 1e-5, 1e-5).Should().BeTrue();
    }

    [Fact]
    public void Gcnii_conv_mixes_initial_residual_and_identity_mapping()
    {
        random.manual_seed(4);
        var normalized = Graph.WithSelfLoops().Normalize(AdjacencyNormalization.Symmetric);
        using var conv = new GcniiConv(new GraphPropagation(normalized), 5, layer: 2, alpha: 0.1, lambda: 0.5);
        using var h = Features(5);
        using var h0 = Features(6);
        var beta = Math.Log((0.5 / 2) + 1);
        var support = (0.9 * TinyGraphs.Dense(normalized).matmul(h)) + (0.1 * h0);
        var expected = ((1 - beta) * support) + (beta * support.matmul(conv.Weight.t()));

        conv.Beta.Should().BeApproximately(beta, 1e-12);
        conv.call(h, h0).allclose(expected, 1e-5, 1e-5).Should().BeTrue();
    }

    [Fact]
    public void Sgc_and_glp_filter_with_A_hat_squared_and_appnp_converges_to_personalised_pagerank()
    {
        random.manual_seed(5);
        var a = TinyGraphs.Dense(Graph.WithSelfLoops().Normalize(AdjacencyNormalization.Symmetric), ScalarType.Float64);
        using var x = Features(7);
        using var sgc = new Sgc(Graph, 5, 3, steps: 2);
        sgc.eval();
        var linear = sgc.named_modules().Select(m => m.module).OfType<TorchSharp.Modules.Linear>().Single();
        var filtered = a.matmul(a).matmul(x.to(ScalarType.Float64)).to(ScalarType.Float32);
        sgc.call(x).allclose(filtered.matmul(linear.weight!.t()) + linear.bias!, 1e-5, 1e-5).Should().BeTrue();
        sgc.call(x).allclose(sgc.call(x)).Should().BeTrue("the filtered features are cached per input");

        // APPNP with many steps approaches alpha (I - (1 - alpha) Â)^-1 Z.
        using var appnp = new Appnp(Graph, 5, 3, hidden: 4, dropout: 0, alpha: 0.1, steps: 300);
        appnp.eval();
        var mlp = appnp.named_modules().Select(m => m.module).OfType<nn.Module<Tensor, Tensor>>().ToList();
        var weights = appnp.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().to(ScalarType.Float64));
        var z = nn.functional.relu(x.to(ScalarType.Float64).matmul(weights["fc1.linear.weight"].t()) + weights["fc1.linear.bias"])
            .matmul(weights["fc2.weight"].t()) + weights["fc2.bias"];
        var ppr = 0.1 * linalg.inv(eye(6, dtype: ScalarType.Float64) - (0.9 * a)).matmul(z);
        appnp.call(x).to(ScalarType.Float64).allclose(ppr, 1e-4, 1e-5).Should().BeTrue();
        mlp.Should().NotBeEmpty();
    }

    [Fact]
    public void Every_teacher_produces_class_logits_and_checks_its_input()
    {
        foreach (var kind in Enum.GetValues<GnnKind>())
        {
            random.manual_seed(6);
            using var model = GnnTeachers.Create(kind, Graph, 5, 3);
            using var x = Features(8);
            model.call(x).shape.Should().Equal(new long[] { 6, 3 }, kind.ToString());
            var act = () => model.call(zeros(6, 4));
            act.Should().Throw<ArgumentException>().WithMessage("*[6, 5]*", kind.ToString());
        }
    }
}
