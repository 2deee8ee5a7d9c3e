using FluentAssertions;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Models;
using KnowledgeDistillation.Tests.Support;
using TorchSharp;
using Xunit;
using static KnowledgeDistillation.Tests.Losses.LossTestHelpers;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Losses;

public class MultiTeacherKDLossTests
{
    private static MultiTeacherFixtureFile F => MultiTeacherFixtures.Data;

    public static IEnumerable<object[]> Cases() => Enumerable.Range(0, MultiTeacherFixtures.Data.Cases.Length).Select(i => new object[] { i });

    private static MultiTeacherKDLoss Create(MultiTeacherCase c) =>
        new(MultiTeacherFixtures.TeacherNames, MultiTeacherFixtures.Weighting(c.Weighting), c.Temperature, c.FixedWeights);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Value_weights_and_gradient_match_the_ca_mkd_code_in_pytorch(int index)
    {
        using var scope = NewDisposeScope();
        var c = F.Cases[index];
        var loss = Create(c);
        LossResult? result = null;
        var (value, grads) = DistillationTermFixtures.ValueAndGrads(s => (result = loss.Compute(MultiTeacherFixtures.Context(s[0]).Context)).Total, F.Student.ToTensor());
        value.ShouldBeClose(c.Value, 1e-10, $"{c.Weighting} at T = {c.Temperature}");
        grads[0].ShouldMatch(c.Grad, 1e-10, $"{c.Weighting} at T = {c.Temperature}: gradient");
        var teachers = F.Teachers.Select(t => t.ToTensor()).ToArray();
        MultiTeacherKDLoss.Weights(loss.Weighting, teachers, tensor(F.Labels), c.FixedWeights).ShouldMatch(c.Weights, 1e-12, $"{c.Weighting} weights");
        var meanWeights = c.Weights.ToTensor().mean(new long[] { 0 });
        for (var k = 0; k < teachers.Length; k++)
        {
            Scalar(result!.Parts[$"mt-kd.weight-t{k}"]).ShouldBeClose(meanWeights[k].item<double>(), 1e-12, $"reported mean weight of t{k}");
        }
    }

    [Fact]
    public void Learned_weights_value_parts_and_gradients_of_student_and_network_match_pytorch()
    {
        using var scope = NewDisposeScope();
        var l = F.Learned;
        using var network = MultiTeacherFixtures.FixtureNetwork();
        var loss = new MultiTeacherKDLoss(MultiTeacherFixtures.TeacherNames, TeacherWeighting.Learned, l.Temperature, network: network, weightingLossWeight: l.WeightingLossWeight);
        loss.TrainableModules.Should().Equal(network);
        LossResult? result = null;
        var (value, grads) = DistillationTermFixtures.ValueAndGrads(s => (result = loss.Compute(MultiTeacherFixtures.Context(s[0]).Context)).Total, F.Student.ToTensor());
        value.ShouldBeClose(l.Value, 1e-10, "learned total");
        Scalar(result!.Parts["mt-kd.kd"]).ShouldBeClose(l.Kd, 1e-10, "learned KD part");
        Scalar(result.Parts["mt-kd.weighting-ce"]).ShouldBeClose(l.WeightingCe, 1e-10, "weighting network's ensemble CE");
        grads[0].ShouldMatch(l.Grad, 1e-10, "gradient w.r.t. the student");
        var parameters = network.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        parameters.Single(p => p.Key.EndsWith("weight", StringComparison.Ordinal)).Value.grad!.ShouldMatch(l.WeightGrad, 1e-10, "gradient w.r.t. the weighting layer's weight");
        parameters.Single(p => p.Key.EndsWith("bias", StringComparison.Ordinal)).Value.grad!.ShouldMatch(l.BiasGrad, 1e-10, "gradient w.r.t. the weighting layer's bias");
        network.call(stack(F.Teachers.Select(t => t.ToTensor()).ToArray(), 1)).exp().ShouldMatch(l.Weights, 1e-12, "learned weights");
    }

    [Fact]
    public void The_averaged_term_trains_the_student_as_kd_on_the_averaged_soft_targets()
    {
        // Σ_k KL(p_k ‖ q) / K and KL(mean_k p_k ‖ q) differ by the teachers' entropies only: same gradient for the student.
        using var scope = NewDisposeScope();
        const double temperature = 3.0;
        var teachers = F.Teachers.Select(t => t.ToTensor()).ToArray();
        var mixture = stack(teachers.Select(t => nn.functional.softmax(t / temperature, 1)).ToArray(), 0).mean(new long[] { 0 });
        var mixtureLogits = mixture.log() * temperature; // softmax(mixtureLogits / T) = mixture
        var average = Loss.MultiTeacherKD(MultiTeacherFixtures.TeacherNames, temperature: temperature);
        var (_, viaTerm) = DistillationTermFixtures.ValueAndGrads(s => average.Compute(MultiTeacherFixtures.Context(s[0]).Context).Total, F.Student.ToTensor());
        var (_, viaKd) = DistillationTermFixtures.ValueAndGrads(s => KDLoss.Value(s[0], mixtureLogits, temperature), F.Student.ToTensor());
        (viaTerm[0] - viaKd[0]).abs().max().item<double>().Should().BeLessThan(1e-12);
    }

    [Fact]
    public void Confidence_weights_favour_the_teacher_that_is_right_on_the_sample_and_sum_to_one_over_k_per_sample()
    {
        using var scope = NewDisposeScope();
        var teachers = F.Teachers.Select(t => t.ToTensor()).ToArray();
        var labels = tensor(F.Labels);
        var weights = MultiTeacherKDLoss.Weights(TeacherWeighting.Confidence, teachers, labels);
        weights.sum(1).allclose(full(weights.shape[0], 1.0 / teachers.Length, ScalarType.Float64)).Should().BeTrue("(1 − softmax) / (K − 1) sums to 1, then / K");

        // The largest weight of each sample goes to the teacher with the smallest cross-entropy on its label.
        var ce = stack(teachers.Select(t => nn.functional.cross_entropy(t, labels, reduction: nn.Reduction.None)).ToArray(), 1);
        weights.argmax(1).eq(ce.argmin(1)).all().item<bool>().Should().BeTrue();
        weights[0].argmax().item<long>().Should().Be(0, "teacher 0 was made sharp and right on sample 0 (the generator adds 6 to the label's logit)");
    }

    [Fact]
    public void Entropy_weights_of_one_hot_teachers_are_finite()
    {
        using var scope = NewDisposeScope();
        var oneHot = tensor(new[] { 0.0, double.NegativeInfinity, double.NegativeInfinity, 0.0 }, new long[] { 2, 2 }, ScalarType.Float64);
        var weights = MultiTeacherKDLoss.Weights(TeacherWeighting.Entropy, new[] { oneHot, oneHot.clone() });
        weights.isfinite().all().item<bool>().Should().BeTrue();
        weights.allclose(full(2, 2, 0.25, ScalarType.Float64)).Should().BeTrue("equal shares 1/K of a zero total: (1 − 1/2) / 2");
    }

    [Fact]
    public void Requirements_declare_every_teachers_logits_and_the_labels_when_the_weighting_reads_them()
    {
        var teachers = new[] { "a", "b", "c" };
        foreach (var weighting in new[] { TeacherWeighting.Average, TeacherWeighting.Entropy })
        {
            var r = Loss.MultiTeacherKD(teachers, weighting).Requirements;
            r.LogitsOf.Should().Equal("student", "a", "b", "c");
            r.NeedsTargets.Should().BeFalse();
        }

        Loss.MultiTeacherKD(teachers, TeacherWeighting.Confidence).Requirements.NeedsTargets.Should().BeTrue();
        Loss.MultiTeacherKD(teachers, new[] { 1.0, 1.0, 2.0 }).FixedWeights.Should().Equal(0.25, 0.25, 0.5);
        using var learned = Loss.LearnedMultiTeacherKD(teachers, classes: 4);
        learned.Requirements.NeedsTargets.Should().BeTrue();
        learned.TrainableModules.Should().ContainSingle().Which.Should().BeOfType<TeacherWeightingNetwork>();
    }

    [Fact]
    public void The_temperature_follows_the_stage_epoch()
    {
        using var scope = NewDisposeScope();
        var schedule = TemperatureSchedule.Linear(4, 2, epochs: 2);
        var loss = Loss.MultiTeacherKD(MultiTeacherFixtures.TeacherNames, temperature: schedule);
        var student = F.Student.ToTensor();
        foreach (var c in F.Cases.Where(c => c.Weighting == "average"))
        {
            var epoch = c.Temperature == 4.0 ? 0 : 2;
            Scalar(loss.Compute(MultiTeacherFixtures.Context(student, epoch: epoch).Context).Total).ShouldBeClose(c.Value, 1e-10, $"epoch {epoch} (T = {c.Temperature})");
        }
    }

    [Fact]
    public void Bad_configurations_are_rejected_naming_the_argument()
    {
        var two = new[] { "a", "b" };
        ((Action)(() => Loss.MultiTeacherKD(new[] { "a" }))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "teachers").WithMessage("*at least two teachers*");
        ((Action)(() => Loss.MultiTeacherKD(new[] { "a", "a" }))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "teachers");
        ((Action)(() => Loss.MultiTeacherKD(new[] { "a", "student" }))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "teachers");
        ((Action)(() => new MultiTeacherKDLoss(two, TeacherWeighting.Fixed))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "fixedWeights");
        ((Action)(() => Loss.MultiTeacherKD(two, new[] { 1.0 }))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "fixedWeights").WithMessage("*one weight per teacher (2)*");
        ((Action)(() => Loss.MultiTeacherKD(two, new[] { 1.0, -1.0 }))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "fixedWeights");
        ((Action)(() => Loss.MultiTeacherKD(two, new[] { 0.0, 0.0 }))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "fixedWeights").WithMessage("*all be 0*");
        ((Action)(() => new MultiTeacherKDLoss(two, TeacherWeighting.Average, fixedWeights: new[] { 1.0, 1.0 }))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "fixedWeights");
        ((Action)(() => new MultiTeacherKDLoss(two, TeacherWeighting.Learned))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "network");
        using var threeTeacherNet = new TeacherWeightingNetwork(3, 4);
        ((Action)(() => new MultiTeacherKDLoss(two, TeacherWeighting.Learned, network: threeTeacherNet))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "network").WithMessage("*3 teachers*2*");
        ((Action)(() => new MultiTeacherKDLoss(new[] { "a", "b", "c" }, TeacherWeighting.Entropy, network: threeTeacherNet))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "network");
        ((Action)(() => Loss.LearnedMultiTeacherKD(two, classes: 4, weightingLossWeight: -1))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "weightingLossWeight");
        ((Action)(() => new TeacherWeightingNetwork(1, 4))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "teachers");
        ((Action)(() => new TeacherWeightingNetwork(2, 0))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "classes");
        ((Action)(() => Loss.MultiTeacherKD(two, temperature: 0.0))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "temperature");
        ((Action)(() => Loss.MultiTeacher(Loss.MultiTeacherKD(two), alpha: 1.5))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "alpha");
    }

    [Fact]
    public void Bad_tensors_to_the_static_functions_are_rejected_before_native_code()
    {
        using var scope = NewDisposeScope();
        var ok = zeros(2, 3, ScalarType.Float64);
        ((Action)(() => MultiTeacherKDLoss.PerTeacherKL(ok, new[] { ok }, 4))).Should().Throw<ArgumentException>().WithMessage("*at least two teachers*");
        ((Action)(() => MultiTeacherKDLoss.PerTeacherKL(ok, new[] { ok, zeros(2, 4, ScalarType.Float64) }, 4))).Should().Throw<ArgumentException>().WithMessage("*Class counts differ*teacher 1 logits*");
        ((Action)(() => MultiTeacherKDLoss.Weights(TeacherWeighting.Confidence, new[] { ok, ok }, tensor(new long[] { 0, 5 })))).Should().Throw<ArgumentException>();
        ((Action)(() => MultiTeacherKDLoss.Weights(TeacherWeighting.Learned, new[] { ok, ok }))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "weighting");
        ((Action)(() => MultiTeacherKDLoss.Value(ok, new[] { ok, ok }, zeros(2, 3, ScalarType.Float64), 4))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "weights");
        using var network = new TeacherWeightingNetwork(2, 3);
        ((Action)(() => network.call(zeros(2, 2, 3, ScalarType.Float64)))).Should().Throw<ArgumentException>().WithMessage("*Float64*Float32*");
        ((Action)(() => network.call(zeros(2, 3, 3)))).Should().Throw<ArgumentException>().WithMessage("*[batch, 2, 3]*");
    }
}

/// <summary>The loss contract for CA-MKD's confidence weighting at T = 4 on the PyTorch fixture.</summary>
public sealed class ConfidenceMultiTeacherKDLossContractTests : LossContractTests
{
    private static readonly MultiTeacherCase Reference = MultiTeacherFixtures.Data.Cases.Single(c => c.Weighting == "confidence" && c.Temperature == 4.0);

    protected override IDistillationLoss CreateLoss() => Loss.MultiTeacherKD(MultiTeacherFixtures.TeacherNames, TeacherWeighting.Confidence, Reference.Temperature);

    protected override LossContractCase CreateCase(Device device) => MultiTeacherContract.Case(device, Reference.Value);

    protected override IEnumerable<LossBadInput> BadInputs => base.BadInputs.Concat(LogitsBadInputs(["student", "t1"], readsLabels: true));
}

/// <summary>The loss contract for the fixed weighting (2 : 1 : 1) at T = 2 on the PyTorch fixture.</summary>
public sealed class FixedMultiTeacherKDLossContractTests : LossContractTests
{
    private static readonly MultiTeacherCase Reference = MultiTeacherFixtures.Data.Cases.Single(c => c.Weighting == "fixed" && c.Temperature == 2.0);

    protected override IDistillationLoss CreateLoss() => Loss.MultiTeacherKD(MultiTeacherFixtures.TeacherNames, Reference.FixedWeights!, Reference.Temperature);

    protected override LossContractCase CreateCase(Device device) => MultiTeacherContract.Case(device, Reference.Value);

    protected override IEnumerable<LossBadInput> BadInputs => base.BadInputs.Concat(LogitsBadInputs(["student", "t2"], readsLabels: false));
}

/// <summary>The loss contract for the learned weighting (the fixture's network, float64): the gradient check covers the network's parameters.</summary>
public sealed class LearnedMultiTeacherKDLossContractTests : LossContractTests
{
    protected override IDistillationLoss CreateLoss()
    {
        var l = MultiTeacherFixtures.Data.Learned;
        return new MultiTeacherKDLoss(MultiTeacherFixtures.TeacherNames, TeacherWeighting.Learned, l.Temperature, network: MultiTeacherFixtures.FixtureNetwork(), weightingLossWeight: l.WeightingLossWeight);
    }

    protected override LossContractCase CreateCase(Device device) => MultiTeacherContract.Case(device, MultiTeacherFixtures.Data.Learned.Value);

    /// <summary>By design the weighting network learns from its ensemble cross-entropy only (its weights are detached in the KD part).</summary>
    protected override Tensor GradientObjective(LossResult result, string input) =>
        input.StartsWith("module", StringComparison.Ordinal) ? result.Parts["mt-kd.weighting-ce"] * MultiTeacherFixtures.Data.Learned.WeightingLossWeight : result.Total;

    protected override IEnumerable<LossBadInput> BadInputs => base.BadInputs.Concat(LogitsBadInputs(["student", "t0"], readsLabels: true));
}

internal static class MultiTeacherContract
{
    public static LossContractCase Case(Device device, double expected)
    {
        var student = MultiTeacherFixtures.Data.Student.ToTensor().to(device).requires_grad_();
        var (context, teachers) = MultiTeacherFixtures.Context(student, device);
        return new LossContractCase(context, [("student", student)], teachers.Select((t, k) => ($"t{k}", t)).ToArray(), expected);
    }
}

/// <summary>Multi-teacher KD through the engine (serial: the run seeds TorchSharp's global generator).</summary>
[Collection(SerialCollection.Name)]
public class MultiTeacherKDEngineTests
{
    [Fact]
    public void The_engine_runs_every_teacher_frozen_and_trains_the_weighting_network_with_the_student()
    {
        using var data = SyntheticData.Blobs(48, classes: 4, dims: 6, seed: 31);
        random.manual_seed(32);
        using var net0 = new Mlp(6, new[] { 12 }, numClasses: 4);
        using var net1 = new Mlp(6, new[] { 10 }, numClasses: 4);
        using var studentNet = new Mlp(6, new[] { 5 }, numClasses: 4);
        using var t0 = Teacher.FromModule(net0, "t0");
        using var t1 = Teacher.FromModule(net1, "t1");
        using var student = Student.FromModule(studentNet);
        var term = Loss.LearnedMultiTeacherKD(new[] { "t0", "t1" }, classes: 4);
        var recipe = Recipes.MultiTeacher(term, alpha: 0.5);
        recipe.Name.Should().Be("mt-kd-learned");
        var networkBefore = Snapshot(term.Network!);
        var teachersBefore = Snapshot(net0).Concat(Snapshot(net1)).ToArray();
        var studentBefore = Snapshot(studentNet);

        using var distiller = new Distiller(new IDistillationModel[] { t0, t1, student }, recipe, new DistillerOptions { Epochs = 2, Seed = 33, Optimizer = new OptimizerOptions { LearningRate = 0.1 } });
        var history = distiller.Fit(new DataLoader(data, 16, seed: 34)).History;

        history.Should().HaveCount(2);
        history.Should().OnlyContain(r => r.LossParts.ContainsKey("ce") && r.LossParts.ContainsKey("mt-kd.weighting-ce") && r.LossParts.ContainsKey("mt-kd.weight-t0"));
        history.Should().OnlyContain(r => Math.Abs(r.LossParts["mt-kd.weight-t0"] + r.LossParts["mt-kd.weight-t1"] - 1) < 1e-5, "softmax weights sum to 1");
        Snapshot(term.Network!).Should().NotEqual(networkBefore, "the engine optimises the loss's weighting network");
        Snapshot(studentNet).Should().NotEqual(studentBefore);
        Snapshot(net0).Concat(Snapshot(net1)).Should().Equal(teachersBefore, "both teachers are frozen");
        term.Dispose();
    }

    internal static double[] Snapshot(nn.Module module) =>
        module.state_dict().OrderBy(p => p.Key, StringComparer.Ordinal)
            .Where(p => p.Value.is_floating_point())
            .SelectMany(p => p.Value.detach().cpu().to_type(ScalarType.Float64).reshape(-1).data<double>().ToArray())
            .ToArray();
}
