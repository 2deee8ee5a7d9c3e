using FluentAssertions;
using KnowledgeDistillation.Caching;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Tests.Support;
using TorchSharp;
using Xunit;
using static KnowledgeDistillation.Tests.Losses.LossTestHelpers;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Losses;

/// <summary>
/// SOKD against the worked example of shared/methods/sokd.md (values computed independently) and against hand-derived
/// double-precision gradients; the engine integration checks what trains and that the bridge is evaluated.
/// </summary>
[Collection(SerialCollection.Name)]
public class SemiOnlineLossTests
{
    private static readonly double[][] ZS = { new[] { 1.0, 2, 3 }, new[] { 0.0, 0, 0 } };
    private static readonly double[][] ZA = { new[] { 0.0, 1, 0 }, new[] { 2.0, 0, 0 } };
    private static readonly double[][] ZT = { new[] { 3.0, 2, 1 }, new[] { 1.0, 0, -1 } };
    private static readonly long[] Y = { 2, 0 };

    /// <summary>An identity bridge (trainable Linear with W = I, b = 0), so the bridge logits equal the teacher feature.</summary>
    private static TorchSharp.Modules.Linear IdentityBridge()
    {
        var bridge = nn.Linear(3, 3, dtype: ScalarType.Float64);
        using (no_grad())
        {
            bridge.weight!.copy_(eye(3, dtype: ScalarType.Float64));
            bridge.bias!.zero_();
        }

        return bridge;
    }

    private static (SemiOnlineLoss Loss, LossResult Result, Tensor Student, Tensor Feature, TorchSharp.Modules.Linear Bridge) Run(SemiOnlineWeights? weights = null)
    {
        var bridge = IdentityBridge();
        var loss = new SemiOnlineLoss(bridge, "h", temperature: 4.0, weights: weights);
        var student = Matrix(ZS, requiresGrad: true);
        var feature = Matrix(ZA, requiresGrad: true);
        var outputs = new Dictionary<string, ModelOutput>
        {
            ["student"] = new(student),
            ["teacher"] = new(Matrix(ZT), new Dictionary<string, Tensor> { ["h"] = feature }),
        };
        var result = loss.Compute(Context(outputs, Labels(Y), 2));
        return (loss, result, student, feature, bridge);
    }

    [Fact]
    public void Parts_match_the_worked_example()
    {
        using var scope = NewDisposeScope();
        var (_, result, _, _, _) = Run();

        Scalar(result.Parts["sokd.bridge-ce"]).ShouldBeClose(0.895495, 1e-6, "CE_A");
        Scalar(result.Parts["sokd.bridge-kd-teacher"]).ShouldBeClose(0.288072, 1e-6, "KD_T(z_A, z_T)");
        Scalar(result.Parts["sokd.bridge-kd-student"]).ShouldBeClose(0.467553, 1e-6, "KD_T(z_A, z_S)");
        Scalar(result.Parts["sokd.student-ce"]).ShouldBeClose(0.753109, 1e-6, "CE_S");
        Scalar(result.Parts["sokd.student-kd-bridge"]).ShouldBeClose(0.465463, 1e-6, "KD_T(z_S, z_A)");
        Scalar(result.Total).ShouldBeClose(1.651120 + 1.218572, 1e-6, "L_A + L_S");
    }

    [Fact]
    public void Each_side_gets_only_its_own_objective_and_the_teacher_feature_gets_nothing()
    {
        using var scope = NewDisposeScope();
        var weights = new SemiOnlineWeights { BridgeCrossEntropy = 0.7, BridgeFromTeacher = 1.3, BridgeFromStudent = 0.4, StudentCrossEntropy = 0.9, StudentFromBridge = 2.0 };
        var (_, result, student, feature, bridge) = Run(weights);
        result.Total.backward();

        // dL/dz_S = dL_S/dz_S only: w4 (p_S − y)/B + w5 (T/B)(p_S^T − p_A^T).
        var ce = Reference.CrossEntropyGrad(ZS, Y);
        var kd = Reference.KDGrad(ZS, ZA, 4.0);
        ToRows(student.grad!).ShouldBeClose(Map(ce, (i, k, v) => 0.9 * v + 2.0 * kd[i][k]), 1e-10, "dL/dz_S");

        // dL/dz_A = dL_A/dz_A only; with W = I and b = 0, dL/db = Σ_i dL/dz_A[i] and dL/dW = (dL/dz_A)ᵀ h.
        var ceA = Reference.CrossEntropyGrad(ZA, Y);
        var fromTeacher = Reference.KDGrad(ZA, ZT, 4.0);
        var fromStudent = Reference.KDGrad(ZA, ZS, 4.0);
        var gA = Map(ceA, (i, k, v) => 0.7 * v + 1.3 * fromTeacher[i][k] + 0.4 * fromStudent[i][k]);
        var biasGrad = bridge.bias!.grad!.data<double>().ToArray();
        for (var k = 0; k < 3; k++)
        {
            biasGrad[k].ShouldBeClose(gA[0][k] + gA[1][k], 1e-10, $"dL/db[{k}]");
        }

        var weightGrad = ToRows(bridge.weight!.grad!);
        var expectedWeight = Enumerable.Range(0, 3).Select(r => Enumerable.Range(0, 3).Select(c => gA[0][r] * ZA[0][c] + gA[1][r] * ZA[1][c]).ToArray()).ToArray();
        weightGrad.ShouldBeClose(expectedWeight, 1e-10, "dL/dW");
        feature.grad.Should().BeNull("the teacher feature is detached before the bridge");
    }

    [Fact]
    public void Gradient_with_respect_to_the_student_matches_finite_differences_of_the_student_objective()
    {
        using var scope = NewDisposeScope();
        var bridge = IdentityBridge();
        var loss = new SemiOnlineLoss(bridge, "h", temperature: 2.0);
        var student = Matrix(ZS, requiresGrad: true);
        var outputs = new Dictionary<string, ModelOutput>
        {
            ["student"] = new(student),
            ["teacher"] = new(Matrix(ZT), new Dictionary<string, Tensor> { ["h"] = Matrix(ZA) }),
        };
        var context = Context(outputs, Labels(Y), 2);

        // L_S only: the bridge's term KD(z_A, sg z_S) depends on z_S in value but, by design, not in gradient.
        Tensor StudentObjective(string _)
        {
            var parts = loss.Compute(context).Parts;
            return parts["sokd.student-ce"] + parts["sokd.student-kd-bridge"];
        }

        GradientCheck.AssertMatchesFiniteDifferences(() => loss.Compute(context).Total, [("z_S", student)], tolerance: 1e-7, numeric: StudentObjective);
    }

    [Fact]
    public void With_the_bridge_replaced_by_the_teacher_the_student_side_is_classic_KD()
    {
        using var scope = NewDisposeScope();
        var (_, result, _, _, _) = Run(new SemiOnlineWeights { BridgeCrossEntropy = 0, BridgeFromTeacher = 0, BridgeFromStudent = 0 });
        Scalar(result.Parts["sokd.student-kd-bridge"]).ShouldBeClose(Reference.KD(ZS, ZA, 4.0), 1e-12, "student term is KD from the bridge logits");
        Scalar(result.Total).ShouldBeClose(Reference.CrossEntropy(ZS, Y) + Reference.KD(ZS, ZA, 4.0), 1e-12, "CE + KD");
    }

    [Fact]
    public void Attention_transfer_matches_the_hand_computed_value_and_ignores_channel_counts()
    {
        using var scope = NewDisposeScope();
        var student = tensor(new double[] { 1, 2 }, new long[] { 1, 1, 1, 2 }, ScalarType.Float64);
        var target = tensor(new double[] { 1, 0, 1, 0 }, new long[] { 1, 2, 1, 2 }, ScalarType.Float64);
        var n = Math.Sqrt(17);
        var expected = (Math.Pow(1 / n - 1, 2) + Math.Pow(4 / n, 2)) / 2;

        Scalar(AttentionTransfer.Value(student, target)).ShouldBeClose(expected, 1e-12, "AT distance");
        Scalar(AttentionTransfer.Value(student * 3, target)).ShouldBeClose(expected, 1e-12, "AT is scale invariant");
        var bad = () => AttentionTransfer.Value(student, zeros(1, 2, 2, 2, ScalarType.Float64));
        bad.Should().Throw<ArgumentException>().WithMessage("*spatial size*");
    }

    [Fact]
    public void Attention_transfer_gradient_matches_finite_differences()
    {
        using var scope = NewDisposeScope();
        var generator = new Random(7);
        var values = Enumerable.Range(0, 2 * 3 * 2 * 2).Select(_ => generator.NextDouble() * 2 - 1).ToArray();
        var targetValues = Enumerable.Range(0, 2 * 4 * 2 * 2).Select(_ => generator.NextDouble() * 2 - 1).ToArray();
        var target = tensor(targetValues, new long[] { 2, 4, 2, 2 }, ScalarType.Float64);
        var student = tensor(values, new long[] { 2, 3, 2, 2 }, ScalarType.Float64);
        GradientCheck.AssertMatchesFiniteDifferences(f => AttentionTransfer.Value(f[0], target), [student], tolerance: 1e-7);
    }

    [Fact]
    public void Feature_extension_adds_attention_transfer_both_ways_with_the_peer_detached()
    {
        using var scope = NewDisposeScope();
        var map = nn.Conv2d(2, 2, 1, dtype: ScalarType.Float64);
        var bridge = nn.Sequential(("map", map), ("pool", nn.AdaptiveAvgPool2d(1)), ("flat", nn.Flatten()), ("fc", nn.Linear(2, 3, dtype: ScalarType.Float64)));
        using var loss = new SemiOnlineLoss(bridge, "h", weights: new SemiOnlineWeights { Features = 10 }, studentFeature: "f", bridgeFeature: "map");
        var studentMap = randn(2, 5, 3, 3, ScalarType.Float64).requires_grad_();
        var teacherFeature = randn(2, 2, 3, 3, ScalarType.Float64);
        var outputs = new Dictionary<string, ModelOutput>
        {
            ["student"] = new(Matrix(ZS), new Dictionary<string, Tensor> { ["f"] = studentMap }),
            ["teacher"] = new(Matrix(ZT), new Dictionary<string, Tensor> { ["h"] = teacherFeature }),
        };
        var result = loss.Compute(Context(outputs, Labels(Y), 2));
        using var bridgeMap = map.call(teacherFeature);
        var expected = Scalar(AttentionTransfer.Value(studentMap.detach(), bridgeMap.detach()));

        Scalar(result.Parts["sokd.student-at"]).ShouldBeClose(expected, 1e-12, "student AT term");
        Scalar(result.Parts["sokd.bridge-at"]).ShouldBeClose(expected, 1e-12, "bridge AT term (symmetric value)");
        result.Parts["sokd.student-at"].backward();
        studentMap.grad.Should().NotBeNull();
        bridge.parameters().All(p => p.grad is null || p.grad.abs().sum().item<double>() == 0).Should().BeTrue("the bridge's map is detached in the student's term");
    }

    [Fact]
    public void Bad_settings_throw_naming_the_argument()
    {
        using var bridge = IdentityBridge();
        ((Action)(() => new SemiOnlineLoss(bridge, "h", temperature: 0))).Should().Throw<ArgumentException>().WithParameterName("temperature");
        ((Action)(() => new SemiOnlineLoss(bridge, " "))).Should().Throw<ArgumentException>().WithParameterName("teacherFeature");
        ((Action)(() => new SemiOnlineLoss(bridge, "h", weights: new SemiOnlineWeights { StudentFromBridge = -1 }))).Should().Throw<ArgumentException>().WithParameterName("StudentFromBridge");
        ((Action)(() => new SemiOnlineLoss(bridge, "h", weights: new SemiOnlineWeights { Features = 1 }))).Should().Throw<ArgumentException>().WithParameterName("studentFeature");
    }

    [Fact]
    public void In_a_run_only_the_student_and_the_bridge_train_and_the_bridge_is_evaluated()
    {
        using var data = SyntheticData.Blobs(96, classes: 3, seed: 61);
        random.manual_seed(62);
        using var teacherNet = new TwoPart();
        using var studentNet = new KnowledgeDistillation.Models.Mlp(8, new[] { 8 }, numClasses: 3);
        var teacherBefore = teacherNet.parameters().Select(p => p.detach().clone()).ToArray();
        var bridge = nn.Sequential(("stage", nn.Linear(16, 16)), ("relu", nn.ReLU()), ("fc", nn.Linear(16, 3)));
        var bridgeBefore = bridge.parameters().Select(p => p.detach().clone()).ToArray();
        using var loss = new SemiOnlineLoss(bridge, "body");
        using var teacher = Teacher.FromModule(teacherNet, captureFeatures: "body");
        using var student = Student.FromModule(studentNet);
        var distiller = new Distiller(teacher, student, loss, new DistillerOptions { Epochs = 2, Seed = 1 });
        distiller.EvaluationModels.Add(loss.BridgeModel(teacher));

        var result = distiller.Fit(new DataLoader(data, 32, seed: 2), new DataLoader(data, 96, shuffle: false));

        teacherNet.parameters().Zip(teacherBefore).Should().OnlyContain(p => p.First.eq(p.Second).all().item<bool>());
        bridge.parameters().Zip(bridgeBefore).Should().Contain(p => !p.First.eq(p.Second).all().item<bool>());
        result.History[^1].EvalMetrics.Keys.Should().BeEquivalentTo(new[] { "student", "bridge" });
        result.History[^1].LossParts.Keys.Should().Contain(new[] { "sokd.bridge-kd-teacher", "sokd.student-kd-bridge" });
    }

    [Fact]
    public void The_recipe_names_the_feature_once_and_works_with_a_cached_teacher()
    {
        using var data = SyntheticData.Blobs(96, classes: 3, seed: 61);
        random.manual_seed(62);
        using var teacherNet = new TwoPart();
        using var studentNet = new KnowledgeDistillation.Models.Mlp(8, new[] { 8 }, numClasses: 3);
        var bridge = nn.Sequential(("stage", nn.Linear(16, 16)), ("relu", nn.ReLU()), ("fc", nn.Linear(16, 3)));
        using var teacher = Teacher.FromModule(teacherNet).WithOutputCache(data.Count); // no captureFeatures
        using var student = Student.FromModule(studentNet);
        using var distiller = new Distiller(new IDistillationModel[] { teacher, student }, Recipes.Sokd(bridge, "body"), new DistillerOptions { Epochs = 2, Seed = 1 });

        distiller.Evaluate(new DataLoader(data, 96, shuffle: false)).Keys.Should().Contain("bridge", "declared features are captured before any Fit too");

        var result = distiller.Fit(new DataLoader(data, 32, seed: 2), new DataLoader(data, 96, shuffle: false));

        teacher.KeptFeatures.Should().BeEquivalentTo(new[] { "body" });
        distiller.Evaluate(new DataLoader(data, 96, shuffle: false)).Keys.Should().Contain("bridge");
        teacher.Hits.Should().BeGreaterThan(0, "the second epoch reads the cache");
        result.History[^1].EvalMetrics.Keys.Should().BeEquivalentTo(new[] { "student", "bridge" }, "the bridge is evaluated on the uncached teacher's captured feature");
        result.History[^1].EvalMetrics["bridge"]["accuracy"].Should().BeGreaterThan(0.5);
    }

    /// <summary>A teacher with a named feature ("body") feeding its head.</summary>
    private sealed class TwoPart : nn.Module<Tensor, Tensor>
    {
        private readonly TorchSharp.Modules.Sequential body = nn.Sequential(nn.Linear(8, 16), nn.ReLU());
        private readonly TorchSharp.Modules.Linear head = nn.Linear(16, 3);

        public TwoPart()
            : base("two-part") => RegisterComponents();

        public override Tensor forward(Tensor input) => head.call(body.call(input));
    }
}
