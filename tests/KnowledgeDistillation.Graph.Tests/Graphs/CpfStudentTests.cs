using FluentAssertions;
using KnowledgeDistillation.Graph.Graphs;
using KnowledgeDistillation.Graph.Tests.Support;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Tests.Graphs;

/// <summary>The CPF student against hand-computed propagation and the closed forms of cpf.md.</summary>
public sealed class CpfStudentTests
{
    private static readonly CpfOptions NoDropout = new() { Variant = CpfVariant.Transductive, Layers = 1, Hidden = 4, FeatureDropout = 0, AttentionDropout = 0 };

    private static CpfStudent Student(GraphAdjacency graph, long[] labels, long[] labeled, CpfOptions options, double balanceLogit, double[]? confidence = null, long features = 3)
    {
        random.manual_seed(11);
        var student = new CpfStudent(graph, features, 2, tensor(labels), labeled, options);
        using (no_grad())
        {
            student.Layer.BalanceLogit.fill_(balanceLogit);
            if (confidence is not null)
            {
                student.Layer.NodeConfidenceParameter!.copy_(tensor(confidence).to(ScalarType.Float32).unsqueeze(1));
            }
        }

        student.eval();
        return student;
    }

    [Fact]
    public void Pure_propagation_on_the_three_node_path_matches_the_closed_form()
    {
        // cpf.md check 1: node 0 labelled [1,0], node 2 labelled [0,1]; alpha = 1 (a = +40); c = 0 -> f_1 = [.5,.5].
        using var x = zeros(3, 3);
        using var uniform = Student(TinyGraphs.Path(3), new long[] { 0, 0, 1 }, new long[] { 0, 2 }, NoDropout, 40, new double[] { 0, 0, 0 });
        uniform.call(x)[1].allclose(tensor(new float[] { 0.5f, 0.5f }), 1e-6).Should().BeTrue();

        // c_0 = ln 2: weights [.5, .25, .25] -> f_1 = [.625, .375].
        using var skewed = Student(TinyGraphs.Path(3), new long[] { 0, 0, 1 }, new long[] { 0, 2 }, NoDropout, 40, new[] { Math.Log(2), 0, 0 });
        skewed.call(x)[1].allclose(tensor(new float[] { 0.625f, 0.375f }), 1e-6).Should().BeTrue();
    }

    [Fact]
    public void Two_steps_on_a_hand_made_four_node_graph_match_hand_computed_values()
    {
        // Path 0-1-2-3 with self loops, node 0 = [1,0], node 3 = [0,1], c_1 = ln 2, others 0.
        // Step 1: f_1 = .25[1,0] + .5[.5,.5] + .25[.5,.5] = [.625,.375]; f_2 = .5[.5,.5] + .25[.5,.5] + .25[0,1] = [.375,.625].
        // Step 2: f_1 = .25[1,0] + .5[.625,.375] + .25[.375,.625] = [.65625,.34375]; f_2 = .5[.625,.375] + .25[.375,.625] + .25[0,1] = [.40625,.59375].
        var options = NoDropout with { Layers = 2 };
        using var student = Student(TinyGraphs.Path(4), new long[] { 0, 0, 1, 1 }, new long[] { 0, 3 }, options, 40, new[] { 0, Math.Log(2), 0, 0 });
        using var x = zeros(4, 3);
        var expected = tensor(new float[] { 1, 0, 0.65625f, 0.34375f, 0.40625f, 0.59375f, 0, 1 }, new long[] { 4, 2 });

        student.call(x).allclose(expected, 1e-6, 1e-6).Should().BeTrue();

        // The inspection API reports what produced this: alpha ~ 1 everywhere, and node 1's in-edge weights.
        student.Balance().min().item<float>().Should().BeGreaterThan(0.999f);
        var (source, target, weight) = student.EdgeWeights(x);
        var intoOne = target.eq(1);
        var bySource = source[intoOne].data<long>().Zip(weight[intoOne].data<float>()).ToDictionary(p => p.First, p => p.Second);
        bySource[0].Should().BeApproximately(0.25f, 1e-6f);
        bySource[1].Should().BeApproximately(0.5f, 1e-6f);
        bySource[2].Should().BeApproximately(0.25f, 1e-6f);
    }

    [Fact]
    public void Labelled_rows_are_exactly_one_hot_after_every_layer_whatever_the_parameters()
    {
        var graph = TinyGraphs.Irregular();
        foreach (var variant in Enum.GetValues<CpfVariant>())
        {
            random.manual_seed(12);
            var options = new CpfOptions { Variant = variant, Layers = 3, Hidden = 8, FeatureDropout = 0.5, AttentionDropout = 0.5 };
            using var student = new CpfStudent(graph, 5, 2, tensor(new long[] { 0, 1, 0, 1, 0, 1 }), new long[] { 1, 4 }, options);
            using (no_grad())
            {
                student.Layer.BalanceLogit.copy_(randn(6, 1) * 3);
            }

            student.train();
            var output = student.call(randn(6, 5));
            output[1].eq(tensor(new float[] { 0, 1 })).all().item<bool>().Should().BeTrue(variant.ToString());
            output[4].eq(tensor(new float[] { 1, 0 })).all().item<bool>().Should().BeTrue(variant.ToString());
        }
    }

    [Fact]
    public void Zero_balance_limit_gives_relu_of_the_mlp_independently_of_graph_and_depth()
    {
        // cpf.md check 3: alpha -> 0 (a = -40) -> unlabelled rows = ReLU(MLP(x)).
        using var x = randn(6, 3, generator: new Generator(13));
        foreach (var (graph, layers) in new[] { (TinyGraphs.Irregular(), 1), (TinyGraphs.Path(6), 5) })
        {
            var options = NoDropout with { Variant = CpfVariant.Inductive, Layers = layers };
            using var student = Student(graph, new long[] { 0, 1, 0, 1, 0, 1 }, new long[] { 0 }, options, -40);
            var mlp = nn.functional.relu(student.Layer.Transform(x));
            student.call(x)[1..].allclose(mlp[1..], 1e-6, 1e-6).Should().BeTrue();
        }
    }

    [Fact]
    public void Adding_a_constant_to_all_confidences_leaves_the_output_unchanged()
    {
        var options = NoDropout with { Layers = 3 };
        var c = new[] { 0.3, -1.2, 2.0, 0.7, -0.4, 1.1 };
        using var x = randn(6, 3, generator: new Generator(14));
        using var a = Student(TinyGraphs.Irregular(), new long[] { 0, 1, 0, 1, 0, 1 }, new long[] { 0, 1 }, options, 0.5, c);
        using var b = Student(TinyGraphs.Irregular(), new long[] { 0, 1, 0, 1, 0, 1 }, new long[] { 0, 1 }, options, 0.5, c.Select(v => v + 50).ToArray());

        a.call(x).allclose(b.call(x), 1e-5, 1e-6).Should().BeTrue();
    }

    [Fact]
    public void Inductive_confidence_is_z_dot_x()
    {
        var options = NoDropout with { Variant = CpfVariant.Inductive };
        using var student = Student(TinyGraphs.Irregular(), new long[] { 0, 1, 0, 1, 0, 1 }, new long[] { 0, 1 }, options, 0);
        using var x = randn(6, 3, generator: new Generator(15));

        student.NodeConfidence(x).allclose(x.matmul(student.Layer.Attention!.t()).squeeze(1), 1e-6).Should().BeTrue();
        student.Layer.NodeConfidenceParameter.Should().BeNull();
    }

    [Fact]
    public void Bad_arguments_are_reported()
    {
        var graph = TinyGraphs.Path(3);
        var noLabelled = () => new CpfStudent(graph, 3, 2, tensor(new long[] { 0, 0, 1 }), Array.Empty<long>());
        noLabelled.Should().Throw<ArgumentException>().WithMessage("*labeledNodes*");
        var badLabels = () => new CpfStudent(graph, 3, 2, tensor(new long[] { 0, 1 }), new long[] { 0 });
        badLabels.Should().Throw<ArgumentException>().WithMessage("*shape [3]*");
        var badOptions = () => new CpfStudent(graph, 3, 2, tensor(new long[] { 0, 0, 1 }), new long[] { 0 }, new CpfOptions { Layers = 0 });
        badOptions.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("Layers");
        using var student = new CpfStudent(graph, 3, 2, tensor(new long[] { 0, 0, 1 }), new long[] { 0 });
        var badFeatures = () => student.call(zeros(3, 4));
        badFeatures.Should().Throw<ArgumentException>().WithMessage("*[3, 3]*[3, 4]*");
    }
}
