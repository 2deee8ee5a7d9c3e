using FluentAssertions;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Tests.Support;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Losses;

[Collection(SerialCollection.Name)]
public sealed class HkdLossTests
{
    private static HkdReference R => SslTermFixtures.Data.Hkd;

    internal static HkdLoss FixtureLoss(int rows = 8)
    {
        var modules = new (string Prefix, nn.Module Module)[]
        {
            ("student.", new CrdEmbedding(6, 3)), ("teacher.", new CrdEmbedding(5, 3)), ("student_gnn.", new HkdGraphEncoder(3)), ("teacher_gnn.", new HkdGraphEncoder(3)),
        };
        using (no_grad())
        {
            foreach (var (prefix, module) in modules)
            {
                module.to(ScalarType.Float64);
                foreach (var (name, parameter) in module.named_parameters())
                {
                    parameter.copy_(R.Weights[prefix + name].ToTensor());
                }
            }
        }

        var loss = new HkdLoss(
            new FeaturePair("s", "t"), (CrdEmbedding)modules[0].Module, (CrdEmbedding)modules[1].Module, (HkdGraphEncoder)modules[2].Module, (HkdGraphEncoder)modules[3].Module,
            R.DataSize, negatives: R.Negatives[0].Length, temperature: R.Temperature, neighbours: R.Neighbours, sampler: new CrdLossTests.FixedNegatives(R.Negatives.Take(rows).ToArray(), Array.Empty<long[]>()));
        loss.State.Single().Import(new Dictionary<string, Tensor>
        {
            ["student_bank"] = R.StudentBank.ToTensor(),
            ["teacher_bank"] = R.TeacherBank.ToTensor(),
            ["updates"] = zeros(1, ScalarType.Int64),
        });
        return loss;
    }

    internal static DistillationContext Context(Tensor student, Tensor? teacher = null, long rows = 8, Tensor? studentLogits = null)
    {
        var outputs = new Dictionary<string, ModelOutput>
        {
            ["student"] = new(studentLogits ?? R.StudentLogits.ToTensor().narrow(0, 0, rows), new Dictionary<string, Tensor> { ["s"] = student }),
            ["teacher"] = new(R.TeacherLogits.ToTensor().narrow(0, 0, rows), new Dictionary<string, Tensor> { ["t"] = teacher ?? R.TeacherFeature.ToTensor().narrow(0, 0, rows) }),
        };
        var batch = new Batch(zeros(rows, 1, ScalarType.Float64), zeros(rows, ScalarType.Int64), tensor(R.Indices.Take((int)rows).ToArray(), ScalarType.Int64));
        return new DistillationContext(batch, outputs);
    }

    [Fact]
    public void Value_parts_and_gradients_of_the_feature_heads_and_gnns_match_pytorch()
    {
        using var scope = NewDisposeScope();
        using var loss = FixtureLoss();
        LossResult? result = null;
        var (value, grads) = DistillationTermFixtures.ValueAndGrads(v => (result = loss.Compute(Context(v[0]))).Total, R.StudentFeature.ToTensor());
        value.ShouldBeClose(R.Value, 1e-11, "hkd");
        result!.Parts["hkd.individual"].item<double>().ShouldBeClose(R.Individual, 1e-11, "individual");
        result.Parts["hkd.holistic"].item<double>().ShouldBeClose(R.Holistic, 1e-11, "holistic");
        grads[0].ShouldMatch(R.Grad, 1e-10, "gradient w.r.t. the student feature");
        var prefixes = new[] { "student.", "teacher.", "student_gnn.", "teacher_gnn." };
        foreach (var (module, prefix) in loss.TrainableModules.Zip(prefixes))
        {
            foreach (var (name, parameter) in module.named_parameters())
            {
                parameter.grad!.ShouldMatch(R.WeightGrads[prefix + name], 1e-10, $"gradient w.r.t. {prefix}{name}");
            }
        }
    }

    [Fact]
    public void Banks_move_after_the_step_and_a_batch_below_k_gives_the_individual_term_only()
    {
        using var scope = NewDisposeScope();
        using var loss = FixtureLoss();
        var context = Context(R.StudentFeature.ToTensor());
        loss.Compute(context);
        Bank(loss, "student_bank").ShouldMatch(R.StudentBank, 0, "Compute leaves the banks alone (the loss reads the pre-update memory)");
        loss.OnStepEnd(context);
        Bank(loss, "student_bank").ShouldMatch(R.StudentBankAfter, 1e-12, "student bank after the update");
        Bank(loss, "teacher_bank").ShouldMatch(R.TeacherBankAfter, 1e-12, "teacher bank after the update");
        Bank(loss, "student_bank").pow(2).sum(1).sub(1).abs().max().item<double>().Should().BeLessThan(1e-12, "rows stay unit norm");
        loss.Updates.Should().Be(1);

        using var fresh = FixtureLoss(rows: 2);
        var small = Context(R.StudentFeature.ToTensor().narrow(0, 0, 2), rows: 2);
        var parts = fresh.Compute(small).Parts;
        parts["hkd"].item<double>().ShouldBeClose(R.SmallValue, 1e-11, "a batch of 2 < k = 3: individual term only");
        parts["hkd.holistic"].item<double>().Should().Be(0);
        fresh.OnStepEnd(small);
        fresh.Updates.Should().Be(0, "the official code returns before its memory update when the batch is below k");
    }

    [Fact]
    public void Knn_graph_oracles()
    {
        using var scope = NewDisposeScope();
        var logits = randn(8, 4, ScalarType.Float64);
        HkdGraph.Adjacency(logits, 8).sub(1.0 / 8).abs().max().item<double>().Should().BeLessThan(1e-15, "k = 8 of 8 connects every node to all");

        var groups = cat(new[] { tensor(new double[] { 3, 0, 0, 0 }).expand(4, 4), tensor(new double[] { 0, 0, 3, 1 }).expand(4, 4) }, 0).contiguous();
        var a = HkdGraph.Adjacency(groups, 4);
        a.diagonal().sub(0.25).abs().max().item<double>().Should().Be(0, "every node has a self-edge");
        a.gt(0).sum(1).eq(4).all().item<bool>().Should().BeTrue("every in-degree is k");
        a.narrow(0, 0, 4).narrow(1, 4, 4).abs().sum().item<double>().Should().Be(0, "no edge between the groups");
        a.narrow(0, 4, 4).narrow(1, 0, 4).abs().sum().item<double>().Should().Be(0, "two components");
        ((Action)(() => HkdGraph.Adjacency(logits, 9))).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*[1, 8]*");
    }

    [Fact]
    public void Dense_tagconv_oracles()
    {
        using var scope = NewDisposeScope();
        using var gnn = new HkdGraphEncoder(3);
        gnn.to(ScalarType.Float64);
        var e = randn(5, 3, ScalarType.Float64);
        var complete = full(5, 5, 1.0 / 5, ScalarType.Float64);
        using (no_grad())
        {
            var weight = gnn.named_parameters().Single(p => p.name == "linear.weight").parameter;
            gnn.named_parameters().Single(p => p.name == "linear.bias").parameter.zero_();
            weight.copy_(cat(new[] { eye(3, dtype: ScalarType.Float64), zeros(3, 3, ScalarType.Float64) }, 1));
            gnn.call(e, complete).sub(e / e.norm(1, keepdim: true)).abs().max().item<double>().Should().BeLessThan(1e-14, "W = [I ; 0] gives normalize(e)");
            weight.copy_(cat(new[] { zeros(3, 3, ScalarType.Float64), eye(3, dtype: ScalarType.Float64) }, 1));
            var mean = e.mean(new long[] { 0 }, keepdim: true);
            gnn.call(e, complete).sub((mean / mean.norm(1, keepdim: true)).expand(5, 3)).abs().max().item<double>().Should().BeLessThan(1e-14, "W = [0 ; I] on a complete graph gives the normalised batch mean");
        }

        ((Action)(() => gnn.call(e, zeros(4, 4, ScalarType.Float64)))).Should().Throw<ArgumentException>().WithMessage("*[5, 5]*");
    }

    [Fact]
    public void The_gnn_weight_starts_as_dgl_tagconv_sets_it()
    {
        // DGL's TAGConv.reset_parameters: xavier_normal_(lin.weight, gain = calculate_gain('relu')), so for 128 -> 128
        // (fan_in 256, fan_out 128) a normal start with std √2 · √(2 / 384) = 0.1021; a default linear layer's start is
        // uniform in ±1/√256 (std 0.036, kurtosis 1.8).
        using var scope = NewDisposeScope();
        manual_seed(11);
        using var gnn = new HkdGraphEncoder(128);
        var w = gnn.named_parameters().Single(p => p.name == "linear.weight").parameter;
        w.shape.Should().Equal(128, 256);
        var expected = Math.Sqrt(2) * Math.Sqrt(2.0 / (256 + 128));
        var (mean, std, kurtosis) = SampleMoments.Of(w);
        std.Should().BeApproximately(expected, 0.03 * expected, "the spread of a Xavier-normal start with the ReLU gain");
        Math.Abs(mean).Should().BeLessThan(0.004, "zero-mean start");
        kurtosis.Should().BeInRange(2.8, 3.2, "a normal start (a uniform one has kurtosis 1.8)");
    }

    [Fact]
    public void Infonce_oracle_of_the_note()
    {
        using var scope = NewDisposeScope();
        var q = tensor(new double[] { 1, 0 }, new long[] { 1, 2 });
        var k = tensor(new[] { 0.5, Math.Sqrt(0.75) }, new long[] { 1, 2 });
        var negatives = tensor(new[] { 0, 1, -0.5, Math.Sqrt(0.75) }, new long[] { 2, 2 });
        MocoLoss.InfoNce(q, k, negatives, 1).item<double>().Should().BeApproximately(0.680270, 1e-6);
        MocoLoss.InfoNce(q, k, negatives, 0.07).item<double>().Should().BeApproximately(0.000791, 1e-6);
    }

    [Fact]
    public void No_gradient_reaches_the_teacher_and_the_teacher_head_learns()
    {
        using var scope = NewDisposeScope();
        using var loss = FixtureLoss();
        var teacher = R.TeacherFeature.ToTensor().requires_grad_();
        loss.Compute(Context(R.StudentFeature.ToTensor().requires_grad_(), teacher)).Total.backward();
        teacher.grad.Should().BeNull("the teacher's features are detached");
        loss.TeacherEmbedding.parameters().All(p => p.grad is not null && p.grad.abs().sum().item<double>() > 0).Should().BeTrue("Embed_t learns through the teacher-anchored terms");
    }

    [Fact]
    public void Bad_input_is_refused_before_native_code()
    {
        using var scope = NewDisposeScope();
        using var loss = FixtureLoss();
        ((Action)(() => loss.Compute(Context(zeros(8, 7, ScalarType.Float64))))).Should().Throw<ArgumentException>().WithMessage("*7 values*takes 6*");
        ((Action)(() => loss.Compute(Context(R.StudentFeature.ToTensor(), studentLogits: zeros(8, ScalarType.Float64))))).Should().Throw<ArgumentException>().WithMessage("*[batch, classes]*");
        var s = new CrdEmbedding(6, 3);
        var t = new CrdEmbedding(5, 3);
        ((Action)(() => new HkdLoss("x", s, t, new HkdGraphEncoder(3), new HkdGraphEncoder(3), dataSize: 10, negatives: 11))).Should().Throw<ArgumentOutOfRangeException>()
            .Where(e => e.ParamName == "negatives").WithMessage("*[1, N = 10]*");
        ((Action)(() => new HkdLoss("x", s, t, new HkdGraphEncoder(4), new HkdGraphEncoder(3), dataSize: 10, negatives: 4))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "studentGraph");
        ((Action)(() => new HkdLoss("x", s, new CrdEmbedding(5, 4), new HkdGraphEncoder(3), new HkdGraphEncoder(3), dataSize: 10, negatives: 4))).Should().Throw<ArgumentException>()
            .Where(e => e.ParamName == "teacherEmbedding");
    }

    private static Tensor Bank(HkdLoss loss, string key) => loss.State.Single().Export()[key];
}

/// <summary>
/// The loss contract for HKD with the fixture's heads, banks and negatives on the fixture's first two samples (below k, so
/// the individual term only): the holistic term's smoothed positives are detached by design (the official code's
/// <c>get_smooth</c> runs under no_grad), so finite differences of the full value differ from the gradient there; the full
/// gradient, stop-gradient included, is checked against PyTorch in <see cref="HkdLossTests"/>.
/// </summary>
public sealed class HkdLossContractTests : LossContractTests
{
    private static HkdReference R => SslTermFixtures.Data.Hkd;

    protected override IDistillationLoss CreateLoss() => HkdLossTests.FixtureLoss(rows: 2);

    protected override LossContractCase CreateCase(Device device)
    {
        var s = R.StudentFeature.ToTensor().narrow(0, 0, 2).to(device).requires_grad_();
        var t = R.TeacherFeature.ToTensor().narrow(0, 0, 2).to(device).requires_grad_();
        return new LossContractCase(HkdLossTests.Context(s, t, rows: 2), [("student.s", s)], [("teacher.t", t)], R.SmallValue);
    }

    protected override IEnumerable<LossBadInput> BadInputs => base.BadInputs
        .Concat(DistillationTermFixtures.FeatureBadInputs("s", "t"))
        .Append(new("indices out of the bank's range", c => WithIndices(c, tensor(new long[] { 0, 12 })), typeof(ArgumentOutOfRangeException)))
        .Append(new("float indices", c => WithIndices(c, zeros(2, ScalarType.Float64)), typeof(ArgumentException)));

    private static DistillationContext WithIndices(LossContractCase valid, Tensor indices)
    {
        var b = valid.Context.Batch;
        return new DistillationContext(new Batch(b.Inputs, b.Targets, indices), valid.Context.Outputs);
    }
}
