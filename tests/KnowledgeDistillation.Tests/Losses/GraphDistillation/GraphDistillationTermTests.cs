using FluentAssertions;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Losses;
using TorchSharp;
using Xunit;
using static KnowledgeDistillation.Tests.Losses.LossTestHelpers;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Losses;

public class GraphDistillationTermTests
{
    private static GraphDistillationFixtureFile F => GraphDistillationFixtures.Data;

    public static IEnumerable<object[]> LogitsCases() => Enumerable.Range(0, GraphDistillationFixtures.Data.LogitsCases.Length).Select(i => new object[] { i });

    public static IEnumerable<object[]> RepresentationCases() => Enumerable.Range(0, GraphDistillationFixtures.Data.Representation.Cases.Length).Select(i => new object[] { i });

    private static Tensor Row(params double[] values) => tensor(values, new long[] { 1, values.Length }, ScalarType.Float64);

    [Fact]
    public void Emd_oracles_of_the_method_note_hold_for_the_exact_and_the_sinkhorn_forms()
    {
        using var scope = NewDisposeScope();

        // D = 1 − I: [1,0,0] vs [0,1,0] -> 1; [.5,.5,0] vs [.5,0,.5] -> 0.5 (= ½ L1).
        var p1 = Row(1, 0, 0);
        var q1 = Row(0, 1, 0);
        var p2 = Row(0.5, 0.5, 0);
        var q2 = Row(0.5, 0, 0.5);
        Scalar(EarthMoversDistance.TotalVariation(p1, q1)[0]).Should().Be(1.0);
        Scalar(EarthMoversDistance.TotalVariation(p2, q2)[0]).Should().Be(0.5);

        // D = |c − c'|: [1,0,0] vs [0,0,1] -> 2.
        var q3 = Row(0, 0, 1);
        Scalar(EarthMoversDistance.Ordered(p1, q3)[0]).Should().Be(2.0);

        // Sinkhorn (log space, small ε) converges to the exact values; zero masses are -inf log-probabilities.
        var zeroOne = EarthMoversDistance.ZeroOneCost(3);
        var ordered = EarthMoversDistance.OrderedCost(3);
        Scalar(EarthMoversDistance.Sinkhorn(p1.log(), q1.log(), zeroOne, 0.01, 200)[0]).Should().BeApproximately(1.0, 1e-6);
        Scalar(EarthMoversDistance.Sinkhorn(p2.log(), q2.log(), zeroOne, 0.01, 500)[0]).Should().BeApproximately(0.5, 1e-3);
        Scalar(EarthMoversDistance.Sinkhorn(p1.log(), q3.log(), ordered, 0.01, 200)[0]).Should().BeApproximately(2.0, 1e-6);

        // On random distributions a small ε, iterated to convergence, reaches the exact closed forms.
        var p = nn.functional.log_softmax(F.Student.ToTensor() / 4, 1);
        var q = nn.functional.log_softmax(F.Teachers[0].ToTensor() / 4, 1);
        var sinkhornOrdered = EarthMoversDistance.Sinkhorn(p, q, EarthMoversDistance.OrderedCost(5), 0.02, 5000);
        (sinkhornOrdered - EarthMoversDistance.Ordered(p.exp(), q.exp())).abs().max().item<double>().Should().BeLessThan(2e-3);
        var sinkhornZeroOne = EarthMoversDistance.Sinkhorn(p, q, EarthMoversDistance.ZeroOneCost(5), 0.02, 5000);
        (sinkhornZeroOne - EarthMoversDistance.TotalVariation(p.exp(), q.exp())).abs().max().item<double>().Should().BeLessThan(2e-3);
    }

    [Fact]
    public void Sinkhorn_value_and_gradient_match_pytorch()
    {
        using var scope = NewDisposeScope();
        var s = F.Sinkhorn;
        var (_, grads) = DistillationTermFixtures.ValueAndGrads(x => EarthMoversDistance.Sinkhorn(x[0], s.LogQ.ToTensor(), F.Cost.ToTensor(), s.Epsilon, s.Iterations).sum(), s.LogP.ToTensor());
        EarthMoversDistance.Sinkhorn(s.LogP.ToTensor(), s.LogQ.ToTensor(), F.Cost.ToTensor(), s.Epsilon, s.Iterations).ShouldMatch(s.Value, 1e-10, "Sinkhorn costs");
        grads[0].ShouldMatch(s.Grad, 1e-9, "Sinkhorn gradient w.r.t. log p");
    }

    [Theory]
    [MemberData(nameof(LogitsCases))]
    public void Logits_graph_value_weights_and_gradients_match_pytorch(int index)
    {
        using var scope = NewDisposeScope();
        var c = F.LogitsCases[index];
        using var loss = GraphDistillationFixtures.LogitsLoss(c);
        LossResult? result = null;
        var (value, grads) = DistillationTermFixtures.ValueAndGrads(s => (result = loss.Compute(GraphDistillationFixtures.Context(s[0]).Context)).Total, F.Student.ToTensor());
        value.ShouldBeClose(c.Value, 1e-10, $"{c.Distance}, β = {c.EdgeEntropyWeight}");
        grads[0].ShouldMatch(c.Grad, 1e-9, $"{c.Distance}: gradient w.r.t. the student");
        loss.Graph.EdgeLogits.grad!.ShouldMatch(c.EdgeGrad, 1e-9, $"{c.Distance}: gradient w.r.t. the edge logits");
        loss.Graph.VertexWeights().ShouldMatch(c.VertexWeights, 1e-12, "vertex weights");
        for (var k = 0; k < 3; k++)
        {
            Scalar(result!.Parts[$"logits-graph.weight-t{k}"]).ShouldBeClose(c.VertexWeights.Data[k], 1e-12, $"reported weight of t{k}");
        }

        var teachers = F.Teachers.Select(t => t.ToTensor()).ToArray();
        LogitsGraphLoss.PerTeacherDistances(F.Student.ToTensor(), teachers, loss.Distance, F.Temperature).ShouldMatch(c.PerTeacher, 1e-10, "per-teacher distances");
        result!.Parts.ContainsKey("logits-graph.edge-entropy").Should().Be(c.EdgeEntropyWeight > 0);
    }

    [Fact]
    public void Identical_teachers_make_the_logits_graph_independent_of_the_edge_weights()
    {
        using var scope = NewDisposeScope();
        var student = F.Student.ToTensor();
        var teacher = F.Teachers[1].ToTensor();
        var same = new[] { teacher, teacher.clone(), teacher.clone() };
        foreach (var distance in new[] { DistributionDistance.ZeroOneEmd(), DistributionDistance.OrderedEmd(), DistributionDistance.SinkhornEmd(F.Cost.ToTensor()) })
        {
            var single = distance.Between(nn.functional.log_softmax(student / 2.0, 1), nn.functional.log_softmax(teacher / 2.0, 1)).mean().item<double>();
            foreach (var theta in new[] { zeros(6, ScalarType.Float64), tensor(new[] { 3.0, -1, 0.5, 2, -4, 1 }), F.EdgeLogits.ToTensor() })
            {
                using var graph = new LogitsGraph(3);
                graph.to(ScalarType.Float64);
                using (no_grad())
                {
                    graph.EdgeLogits.copy_(theta);
                }

                Scalar(LogitsGraphLoss.Value(student, same, graph.VertexWeights(), distance, 2.0)).ShouldBeClose(single, 1e-12, $"{distance} with θ = [{string.Join(", ", theta.data<double>().ToArray())}]");
            }
        }
    }

    [Fact]
    public void Vertex_weights_sum_to_one_and_start_equal()
    {
        using var scope = NewDisposeScope();
        using var graph = new LogitsGraph(4);
        LogitsGraph.Edges(4).Should().HaveCount(10);
        graph.VertexWeights().ShouldMatch(new FlatTensor(new long[] { 4 }, new[] { 0.25, 0.25, 0.25, 0.25 }), 1e-7, "θ = 0 gives the average");
        using var fixedGraph = new LogitsGraph(2, learned: false);
        fixedGraph.EdgeLogits.requires_grad.Should().BeFalse();
        Loss.LogitsGraph(new[] { "a", "b" }, learnEdges: false).TrainableModules.Should().BeEmpty();
        Loss.LogitsGraph(new[] { "a", "b" }).TrainableModules.Should().ContainSingle().Which.Should().BeOfType<LogitsGraph>();
    }

    [Fact]
    public void Mmd_matches_pytorch_is_zero_for_identical_batches_and_grows_with_a_shift()
    {
        using var scope = NewDisposeScope();
        var m = F.Mmd;
        var (value, grads) = DistillationTermFixtures.ValueAndGrads(x => GaussianMmd.Squared(x[0], m.Y.ToTensor(), m.Bandwidths), m.X.ToTensor());
        value.ShouldBeClose(m.Value, 1e-12, "MMD²");
        grads[0].ShouldMatch(m.Grad, 1e-12, "MMD² gradient");

        var x = m.X.ToTensor();
        Scalar(GaussianMmd.Squared(x, x.clone())).Should().BeApproximately(0.0, 1e-14);
        var previous = 0.0;
        foreach (var shift in new[] { 0.1, 0.3, 0.6, 1.0, 2.0 })
        {
            var mmd = Scalar(GaussianMmd.Squared(x, x + (shift * ones(1, x.shape[1], ScalarType.Float64))));
            mmd.Should().BeGreaterThan(previous, "MMD² grows with the shift ({0})", shift);
            previous = mmd;
        }
    }

    [Fact]
    public void Compact_bilinear_pooling_matches_pytorch_on_the_fixtures_hashes()
    {
        using var scope = NewDisposeScope();
        var c = F.Cbp;
        using var cbp = new CompactBilinearPooling((c.Hash1, c.Sign1), (c.Hash2, c.Sign2), c.OutputDimension);
        cbp.to(ScalarType.Float64);
        cbp.Sketch(c.X.ToTensor(), c.Y.ToTensor()).ShouldMatch(c.Sketch, 1e-12, "raw tensor sketch");
        cbp.Pool(c.X.ToTensor(), c.Y.ToTensor()).ShouldMatch(c.Pooled, 1e-12, "pooled");
        var (_, grads) = DistillationTermFixtures.ValueAndGrads(x => (cbp.Pool(x[0], c.Y.ToTensor()) * c.Probe.ToTensor()).sum(), c.X.ToTensor());
        grads[0].ShouldMatch(c.Grad, 1e-10, "gradient of the pooled features");
    }

    [Fact]
    public void Tensor_sketch_inner_products_approximate_the_bilinear_kernel()
    {
        // E_h,s ⟨Ψ(x, y), Ψ(x', y')⟩ = ⟨x, x'⟩⟨y, y'⟩: the mean over 100 sketches with d_c = 4096 is within a few percent.
        using var scope = NewDisposeScope();
        using var g = new torch.Generator(7);
        var x = randn(new long[] { 2, 32 }, ScalarType.Float64, generator: g);
        var y = randn(new long[] { 2, 24 }, ScalarType.Float64, generator: g);
        x[1] = (0.8 * x[0]) + (0.6 * x[1]); // correlated pairs, so the kernel is far from 0
        y[1] = (0.8 * y[0]) + (0.6 * y[1]);
        var exact = Scalar(x[0].dot(x[1]) * y[0].dot(y[1]));
        var sum = 0.0;
        for (var seed = 0; seed < 100; seed++)
        {
            using var cbp = new CompactBilinearPooling(32, 24, 4096, seed);
            cbp.to(ScalarType.Float64);
            var psi = cbp.Sketch(x, y);
            sum += Scalar(psi[0].dot(psi[1]));
        }

        (sum / 100).Should().BeApproximately(exact, 0.03 * Math.Abs(exact), "the mean of 100 sketches approximates ⟨x, x'⟩⟨y, y'⟩ = {0}", exact);
        using var a = new CompactBilinearPooling(32, 24, 64, seed: 3);
        using var b = new CompactBilinearPooling(32, 24, 64, seed: 3);
        a.Sketch(x.to_type(ScalarType.Float32), y.to_type(ScalarType.Float32)).sub(b.Sketch(x.to_type(ScalarType.Float32), y.to_type(ScalarType.Float32))).abs().max().item<float>().Should().Be(0f, "the same seed gives the same sketch");
    }

    [Theory]
    [MemberData(nameof(RepresentationCases))]
    public void Representation_graph_value_and_gradients_match_pytorch(int index)
    {
        using var scope = NewDisposeScope();
        var c = F.Representation.Cases[index];
        using var loss = GraphDistillationFixtures.RepresentationLoss(c);
        var logits = F.Student.ToTensor();
        var (value, grads) = DistillationTermFixtures.ValueAndGrads(h => loss.Compute(GraphDistillationFixtures.Context(logits, h[0]).Context).Total, F.Representation.StudentFeature.ToTensor());
        value.ShouldBeClose(c.Value, 1e-10, $"{c.Pooling} / {c.Matching}");
        grads[0].ShouldMatch(c.Grad, 1e-9, "gradient w.r.t. the student's feature");
        loss.Graph.EdgeLogits.grad!.ShouldMatch(c.EdgeGrad, 1e-9, "gradient w.r.t. the edge logits");
        for (var e = 0; e < loss.Graph.Edges.Count; e++)
        {
            loss.Graph.Adapter(e).weight!.grad!.ShouldMatch(c.WeightGrads[e], 1e-9, $"adapter {e} weight gradient");
            loss.Graph.Adapter(e).bias!.grad!.ShouldMatch(c.BiasGrads[e], 1e-9, $"adapter {e} bias gradient");
        }
    }

    [Theory]
    [InlineData(0.05)]
    [InlineData(0.3)]
    public void Representation_graph_entropy_bonus_matches_the_hand_formula_value_and_edge_gradient(double beta)
    {
        using var scope = NewDisposeScope();
        var c = F.Representation.Cases.First(x => x.Pooling == "compact-bilinear" && x.Matching == "mmd");
        using var plain = GraphDistillationFixtures.RepresentationLoss(c);
        using var bonus = GraphDistillationFixtures.RepresentationLoss(c, beta);
        var context = GraphDistillationFixtures.Context(F.Student.ToTensor(), F.Representation.StudentFeature.ToTensor()).Context;

        // The per-edge matches M_e, from the plain term's value with each edge's weight alone (independent of the bonus).
        var theta = c.EdgeLogits.ToTensor().to_type(ScalarType.Float64);
        var edges = plain.Graph.Edges.Count;
        var matches = new double[edges];
        for (var e = 0; e < edges; e++)
        {
            using var one = GraphDistillationFixtures.RepresentationLoss(c);
            using (no_grad())
            {
                one.Graph.EdgeLogits.copy_(full(edges, -1e4, ScalarType.Float64).index_put_(tensor(1e4, ScalarType.Float64), tensor(new long[] { e })));
            }

            matches[e] = Scalar(one.Compute(context).Total);
        }

        var thetaValues = theta.data<double>().ToArray();
        var max = thetaValues.Max();
        var z = thetaValues.Sum(t => Math.Exp(t - max));
        var v = thetaValues.Select(t => Math.Exp(t - max) / z).ToArray();
        var entropy = -v.Sum(x => x * Math.Log(x));
        var weighted = v.Zip(matches, (a, b) => a * b).Sum();
        var result = bonus.Compute(context);
        Scalar(result.Total).ShouldBeClose(weighted - (beta * entropy), 1e-10, "Σ v M − β H(v)");
        Scalar(result.Parts["representation-graph.edge-entropy"]).ShouldBeClose(entropy, 1e-12, "the reported entropy");
        Scalar(plain.Compute(context).Total).ShouldBeClose(weighted, 1e-10, "no bonus without β");

        // d/dθ_k [Σ v M − β H(v)] = v_k (M_k − Σ v M) + β v_k (log v_k + H)
        result.Total.backward();
        var grad = bonus.Graph.EdgeLogits.grad!.data<double>().ToArray();
        for (var k = 0; k < edges; k++)
        {
            var expected = (v[k] * (matches[k] - weighted)) + (beta * v[k] * (Math.Log(v[k]) + entropy));
            grad[k].Should().BeApproximately(expected, 1e-9, $"edge {k}");
        }
    }

    [Fact]
    public void Representation_graph_edges_trained_with_the_bonus_settle_at_the_gibbs_weights_not_on_one_edge()
    {
        using var scope = NewDisposeScope();
        var c = F.Representation.Cases.First(x => x.Pooling == "compact-bilinear" && x.Matching == "mmd");
        var context = GraphDistillationFixtures.Context(F.Student.ToTensor(), F.Representation.StudentFeature.ToTensor().detach()).Context;
        const double beta = 0.05;
        double[] Train(double b)
        {
            using var loss = GraphDistillationFixtures.RepresentationLoss(c, b);
            using var optimizer = optim.SGD(new[] { (TorchSharp.Modules.Parameter)loss.Graph.EdgeLogits }, 6.0);
            for (var step = 0; step < 600; step++)
            {
                using var inner = NewDisposeScope();
                optimizer.zero_grad();
                loss.Compute(context).Total.backward();
                optimizer.step();
            }

            return loss.Graph.EdgeWeights().data<double>().ToArray();
        }

        using var probe = GraphDistillationFixtures.RepresentationLoss(c);
        var edges = probe.Graph.Edges.Count;
        var matches = new double[edges];
        for (var e = 0; e < edges; e++)
        {
            using (no_grad())
            {
                probe.Graph.EdgeLogits.copy_(full(edges, -1e4, ScalarType.Float64).index_put_(tensor(1e4, ScalarType.Float64), tensor(new long[] { e })));
            }

            matches[e] = Scalar(probe.Compute(context).Total);
        }

        var gibbs = matches.Select(m => Math.Exp(-m / beta)).ToArray();
        var sum = gibbs.Sum();
        var withBonus = Train(beta);
        for (var e = 0; e < edges; e++)
        {
            withBonus[e].Should().BeApproximately(gibbs[e] / sum, 1e-3, $"edge {e}: v ∝ exp(−M / β) is the optimum with the bonus");
        }

        Train(0.0).Max().Should().BeGreaterThan(0.9, "without the bonus the weights collapse onto the edge with the smallest match");
    }

    [Fact]
    public void Requirements_and_the_combined_objective()
    {
        using var rep = Loss.RepresentationGraph(new[] { "a", "b", "c" }, new[] { 4, 5, 6 }, 3, teacherFeature: "feat", studentFeature: "emb", pooledDimension: 8);
        rep.Requirements.Features.Select(f => f.ToString()).Should().BeEquivalentTo(
            "feature 'emb' of 'student'", "feature 'feat' of 'a'", "feature 'feat' of 'b'", "feature 'feat' of 'c'");
        rep.Graph.Edges.Should().Equal((0, 1), (0, 2), (1, 2));
        using var logits = Loss.LogitsGraph(new[] { "a", "b", "c" });
        logits.Requirements.LogitsOf.Should().Equal("student", "a", "b", "c");
        var both = Loss.GraphDistillation(logits, rep, 2.0, 0.5);
        both.TrainableModules.Should().HaveCount(2);
        Recipes.GraphDistillation(logits, rep).Name.Should().Be("graph-distillation");
        Recipes.GraphDistillation(logits, null).Name.Should().Be("graph-distillation-logits");
        Recipes.GraphDistillation(null, rep).Name.Should().Be("graph-distillation-representation");
        ((Action)(() => Loss.GraphDistillation(null, null))).Should().Throw<ArgumentException>().WithMessage("*logits graph, the representation graph or both*");
    }

    [Fact]
    public void The_combined_objective_is_ce_plus_the_weighted_graphs()
    {
        using var scope = NewDisposeScope();
        var c = F.LogitsCases.First(x => x.Distance == "emd-01" && x.EdgeEntropyWeight == 0);
        var r = F.Representation.Cases.First(x => x.Pooling == "compact-bilinear" && x.Matching == "mmd");
        using var logits = GraphDistillationFixtures.LogitsLoss(c);
        using var rep = GraphDistillationFixtures.RepresentationLoss(r);
        var total = Loss.GraphDistillation(logits, rep, 2.0, 0.5);
        var context = GraphDistillationFixtures.Context(F.Student.ToTensor(), F.Representation.StudentFeature.ToTensor()).Context;
        var result = total.Compute(context);
        var ce = Scalar(nn.functional.cross_entropy(F.Student.ToTensor(), context.Batch.Targets!));
        Scalar(result.Total).ShouldBeClose(ce + (2.0 * c.Value) + (0.5 * r.Value), 1e-10, "CE + 2 L_logits + 0.5 L_rep");
        result.Parts.Keys.Should().Contain(new[] { "ce", "logits-graph", "representation-graph" });
    }

    [Fact]
    public void Bad_input_is_rejected_before_native_code_naming_the_argument()
    {
        using var scope = NewDisposeScope();
        var ok = zeros(2, 3, ScalarType.Float64);

        // Teachers with different class counts.
        using var loss = Loss.LogitsGraph(new[] { "t0", "t1" });
        var outputs = new Dictionary<string, ModelOutput> { ["student"] = new(ok), ["t0"] = new(ok), ["t1"] = new(zeros(2, 4, ScalarType.Float64)) };
        var context = new DistillationContext(new Batch(ok, null, arange(2)), outputs);
        ((Action)(() => loss.Compute(context))).Should().Throw<ArgumentException>().WithMessage("*Class counts differ*teacher 't1' logits*");
        ((Action)(() => LogitsGraphLoss.PerTeacherDistances(ok, new[] { ok, zeros(2, 4, ScalarType.Float64) }, DistributionDistance.ZeroOneEmd(), 2)))
            .Should().Throw<ArgumentException>().WithMessage("*Class counts differ*teacher 1 logits*");

        // A Sinkhorn cost matrix of the wrong size.
        ((Action)(() => EarthMoversDistance.Sinkhorn(ok, ok, EarthMoversDistance.ZeroOneCost(4)))).Should().Throw<ArgumentException>()
            .Where(e => e.ParamName == "cost").WithMessage("*[3, 3]*got [4, 4]*");
        var sinkhorn = DistributionDistance.SinkhornEmd(EarthMoversDistance.ZeroOneCost(4));
        ((Action)(() => sinkhorn.Between(ok, ok))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "cost");
        ((Action)(() => DistributionDistance.SinkhornEmd(zeros(3, 4, ScalarType.Float64)))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "cost");
        ((Action)(() => EarthMoversDistance.Sinkhorn(ok, ok, EarthMoversDistance.ZeroOneCost(3), epsilon: 0))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "epsilon");
        ((Action)(() => EarthMoversDistance.Sinkhorn(ok, ok, EarthMoversDistance.ZeroOneCost(3), iterations: 0))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "iterations");
        ((Action)(() => EarthMoversDistance.Ordered(ok, zeros(2, 4, ScalarType.Float64)))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "q");

        // Pooling and MMD shapes.
        using var cbp = new CompactBilinearPooling(3, 4, 8);
        ((Action)(() => cbp.Pool(zeros(2, 3), zeros(2, 5)))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "y").WithMessage("*[batch, 4]*");
        ((Action)(() => cbp.Sketch(zeros(2, 3), zeros(3, 4)))).Should().Throw<ArgumentException>().WithMessage("*Batch sizes differ*");
        ((Action)(() => new CompactBilinearPooling((new long[] { 9 }, new[] { 1f }), (new long[] { 0 }, new[] { 1f }), 8))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "first");
        ((Action)(() => GaussianMmd.Squared(zeros(3, 2), zeros(3, 4)))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "y");
        ((Action)(() => GaussianMmd.Squared(zeros(3, 2), zeros(3, 2), Array.Empty<double>()))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "bandwidths");

        // Configuration.
        ((Action)(() => Loss.LogitsGraph(new[] { "a" }))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "teachers").WithMessage("*at least two teachers*");
        ((Action)(() => Loss.LogitsGraph(new[] { "a", "student" }))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "teachers");
        ((Action)(() => Loss.LogitsGraph(new[] { "a", "b" }, temperature: 0))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "temperature");
        ((Action)(() => Loss.RepresentationGraph(new[] { "a", "b", "c" }, new[] { 4, 5 }, 3))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "graph");
        ((Action)(() => new RepresentationGraph(new[] { 4, 0 }, 3))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "teacherDimensions");
    }
}
