using FluentAssertions;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Tests.Support;
using TorchSharp;
using Xunit;
using static KnowledgeDistillation.Tests.Losses.LossTestHelpers;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Losses;

public class DecoupledKDLossTests
{
    private static DistillationTermFixtureFile F => DistillationTermFixtures.Data;

    public static IEnumerable<object[]> Cases() => Enumerable.Range(0, DistillationTermFixtures.Data.Dkd.Length).Select(i => new object[] { i });

    [Theory]
    [MemberData(nameof(Cases))]
    public void Value_parts_and_gradient_match_mdistiller_in_pytorch(int index)
    {
        using var scope = NewDisposeScope();
        var r = F.Dkd[index];
        var loss = new DecoupledKDLoss(r.Alpha, r.Beta, r.Temperature, r.WarmupEpochs);
        var teacher = F.Logits.Teacher.ToTensor();
        var labels = tensor(F.Logits.Labels, ScalarType.Int64);
        LossResult? result = null;
        var (value, grads) = DistillationTermFixtures.ValueAndGrads(
            s => (result = loss.Compute(Context(s[0], teacher, labels, r.Epoch))).Total, F.Logits.Student.ToTensor());
        value.ShouldBeClose(r.Value, 1e-10, $"DKD case {index}");
        grads[0].ShouldMatch(r.Grad, 1e-10, $"DKD case {index} gradient");
        Scalar(result!.Parts["dkd.tckd"]).ShouldBeClose(r.Tckd, 1e-10, "TCKD");
        Scalar(result.Parts["dkd.nckd"]).ShouldBeClose(r.Nckd, 1e-10, "NCKD");
        Scalar(result.Parts["dkd"]).ShouldBeClose(r.Value, 1e-10, "the part named 'dkd' is the total");
    }

    [Fact]
    public void Static_value_is_the_weighted_sum_of_the_terms()
    {
        using var scope = NewDisposeScope();
        var r = F.Dkd.First(c => c.WarmupEpochs == 0);
        var value = DecoupledKDLoss.Value(F.Logits.Student.ToTensor(), F.Logits.Teacher.ToTensor(), tensor(F.Logits.Labels), r.Alpha, r.Beta, r.Temperature);
        Scalar(value).ShouldBeClose(r.Value, 1e-10, "DecoupledKDLoss.Value");
    }

    [Fact]
    public void Tckd_plus_nckd_weighted_by_the_teachers_non_target_mass_is_classic_kd()
    {
        // The paper's Eq. (3) for one sample: KD = TCKD + (1 - p_t^gt) NCKD, p_t^gt the teacher's target probability at T.
        using var scope = NewDisposeScope();
        var teacher = tensor(new[] { 3.0, 1.0, -0.5, 0.2 }, new long[] { 1, 4 }, ScalarType.Float64);
        var student = tensor(new[] { 0.4, 2.0, 0.1, -1.0 }, new long[] { 1, 4 }, ScalarType.Float64);
        var labels = tensor(new long[] { 0 });
        const double temperature = 2.0;
        var (tckd, nckd) = DecoupledKDLoss.Terms(student, teacher, labels, temperature);
        var pt = nn.functional.softmax(teacher / temperature, 1)[0, 0].item<double>();
        var kd = Scalar(KDLoss.Value(student, teacher, temperature));
        (Scalar(tckd) + ((1 - pt) * Scalar(nckd))).ShouldBeClose(kd, 1e-12, "KD = TCKD + (1 - p_t) NCKD");
    }

    [Fact]
    public void The_warm_up_factor_follows_mdistiller_with_epochs_counted_from_one()
    {
        var loss = new DecoupledKDLoss(warmupEpochs: 20);
        loss.WarmupFactor(0).Should().Be(1.0 / 20);
        loss.WarmupFactor(9).Should().Be(0.5);
        loss.WarmupFactor(19).Should().Be(1.0);
        loss.WarmupFactor(100).Should().Be(1.0);
        new DecoupledKDLoss().WarmupFactor(0).Should().Be(1.0, "no warm-up by default on the term");
    }

    [Fact]
    public void A_target_probability_that_underflows_gives_a_finite_loss()
    {
        // mdistiller takes log of the summed probabilities: a student target logit 2000 below the rest gives log 0 = -inf.
        using var scope = NewDisposeScope();
        var student = tensor(new[] { -2000.0, 1.0, 2.0 }, new long[] { 1, 3 }, ScalarType.Float64).requires_grad_();
        var teacher = tensor(new[] { 3.0, 1.0, 2.0 }, new long[] { 1, 3 }, ScalarType.Float64);
        var value = DecoupledKDLoss.Value(student, teacher, tensor(new long[] { 0 }), 1, 8, 4);
        value.backward();
        double.IsFinite(Scalar(value)).Should().BeTrue();
        student.grad!.isfinite().all().item<bool>().Should().BeTrue();
    }

    [Fact]
    public void With_two_classes_nckd_is_zero()
    {
        using var scope = NewDisposeScope();
        var (_, nckd) = DecoupledKDLoss.Terms(tensor(new[] { 1.0, 2.0 }, new long[] { 1, 2 }), tensor(new[] { 3.0, 0.0 }, new long[] { 1, 2 }), tensor(new long[] { 1 }), 4);
        Scalar(nckd).Should().Be(0);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void Bad_temperatures_are_rejected_naming_the_argument(double temperature)
    {
        ((Action)(() => new DecoupledKDLoss(temperature: temperature))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "temperature");
        ((Action)(() => Loss.Dkd(temperature: temperature))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "temperature");
        using var scope = NewDisposeScope();
        ((Action)(() => DecoupledKDLoss.Terms(zeros(2, 3), zeros(2, 3), tensor(new long[] { 0, 1 }), temperature)))
            .Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "temperature");
    }

    [Fact]
    public void Bad_weights_warm_up_and_class_counts_are_rejected()
    {
        ((Action)(() => new DecoupledKDLoss(alpha: -1))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "alpha");
        ((Action)(() => new DecoupledKDLoss(beta: double.NaN))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "beta");
        ((Action)(() => new DecoupledKDLoss(warmupEpochs: -1))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "warmupEpochs");
        using var scope = NewDisposeScope();
        ((Action)(() => DecoupledKDLoss.Terms(zeros(2, 1), zeros(2, 1), tensor(new long[] { 0, 0 }), 4)))
            .Should().Throw<ArgumentException>().WithMessage("*at least two classes*");
        ((Action)(() => DecoupledKDLoss.Terms(zeros(2, 3), zeros(2, 4), tensor(new long[] { 0, 0 }), 4)))
            .Should().Throw<ArgumentException>().WithMessage("*Class counts differ*[2, 3]*[2, 4]*");
    }

    [Fact]
    public void The_objective_and_recipe_add_cross_entropy_and_warm_up_over_twenty_epochs()
    {
        var objective = (SumLoss)Loss.Dkd();
        objective.Terms.Select(t => t.Name).Should().Equal("ce", "dkd");
        var dkd = (DecoupledKDLoss)objective.Terms[1];
        (dkd.Alpha, dkd.Beta, dkd.Temperature, dkd.WarmupEpochs).Should().Be((1.0, 8.0, 4.0, 20));
        var recipe = Recipes.Dkd();
        recipe.Name.Should().Be("dkd");
        recipe.Stages.Should().ContainSingle();
        recipe.Stages[0].Loss.Requirements.NeedsTargets.Should().BeTrue();
    }
}

/// <summary>The loss contract for <see cref="DecoupledKDLoss"/> (α 1, β 8, T 4, warm-up 20 at epoch 0) on the PyTorch fixture.</summary>
public sealed class DecoupledKDLossContractTests : LossContractTests
{
    private static readonly DkdReference Reference = DistillationTermFixtures.Data.Dkd.Single(c => c.WarmupEpochs == 20 && c.Epoch == 0);

    protected override IDistillationLoss CreateLoss() => new DecoupledKDLoss(Reference.Alpha, Reference.Beta, Reference.Temperature, Reference.WarmupEpochs);

    protected override LossContractCase CreateCase(Device device) => DistillationTermFixtures.LogitsCase(device, Reference.Value, Reference.Epoch);

    protected override IEnumerable<LossBadInput> BadInputs => base.BadInputs.Concat(LogitsBadInputs(["student", "teacher"], readsLabels: true));
}

/// <summary>DKD through the engine: the warm-up reads the stage's epoch (serial: the run seeds TorchSharp's global generator).</summary>
[Collection(SerialCollection.Name)]
public class DecoupledKDLossEngineTests
{
    [Fact]
    public void The_warm_up_factor_follows_the_engines_stage_epochs()
    {
        using var data = SyntheticData.Blobs(48, classes: 4, dims: 6, seed: 21);
        random.manual_seed(22);
        using var teacherNet = new KnowledgeDistillation.Models.Mlp(6, new[] { 12 }, numClasses: 4);
        using var studentNet = new KnowledgeDistillation.Models.Mlp(6, new[] { 5 }, numClasses: 4);
        using var teacher = KnowledgeDistillation.Teacher.FromModule(teacherNet);
        using var student = KnowledgeDistillation.Student.FromModule(studentNet);
        using var distiller = new KnowledgeDistillation.Engine.Distiller(
            new IDistillationModel[] { teacher, student }, Recipes.Dkd(alpha: 1, beta: 8, warmupEpochs: 2), new KnowledgeDistillation.Engine.DistillerOptions { Epochs = 3, Seed = 23 });
        var history = distiller.Fit(new KnowledgeDistillation.Data.DataLoader(data, 16, seed: 24)).History;

        // dkd = w(epoch) (TCKD + 8 NCKD) per step, so the epoch means keep the ratio exactly: w = 1/2, 1, 1.
        var factors = history.Select(r => r.LossParts["dkd"] / (r.LossParts["dkd.tckd"] + (8 * r.LossParts["dkd.nckd"]))).ToArray();
        factors.Should().HaveCount(3);
        factors[0].Should().BeApproximately(0.5, 1e-5);
        factors[1].Should().BeApproximately(1.0, 1e-5);
        factors[2].Should().BeApproximately(1.0, 1e-5);
        history.Should().OnlyContain(r => r.LossParts.ContainsKey("ce"));
    }
}
