using FluentAssertions;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Tests.Support;
using Xunit;
using static KnowledgeDistillation.Tests.Losses.LossTestHelpers;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Losses;

[Collection(SerialCollection.Name)]
public class CorrelationCongruenceLossTests
{
    private static CcReference R => FtCcFixtures.Data.Cc;

    public static IEnumerable<object[]> Cases() => R.Cases.Select((c, i) => new object[] { i });

    [Theory]
    [MemberData(nameof(Cases))]
    public void Value_and_gradients_of_the_student_feature_and_both_heads_match_pytorch(int index)
    {
        using var scope = NewDisposeScope();
        var reference = R.Cases[index];
        var what = $"CC {reference.Form} gamma={reference.Gamma} P={reference.Order}";
        var loss = FtCcFixtures.CcLoss(FtCcFixtures.CcForm(reference.Form), reference.Gamma, reference.Order);
        var @case = FtCcFixtures.CcCase(CPU, reference.Value);
        var result = loss.Compute(@case.Context);
        result.Total.backward();
        Scalar(result.Total).ShouldBeClose(reference.Value, 1e-10, what);
        @case.Trainable[0].Leaf.grad!.ShouldMatch(reference.GradStudent, 1e-10, $"{what}: gradient w.r.t. the student feature");
        foreach (var (head, grads) in new[] { (loss.StudentEmbedding!, reference.GradStudentHead), (loss.TeacherEmbedding!, reference.GradTeacherHead) })
        {
            var parameters = head.named_parameters().ToDictionary(p => p.name, p => p.parameter);
            parameters.Keys.Should().BeEquivalentTo(grads.Keys);
            foreach (var (name, grad) in grads)
            {
                parameters[name].grad!.ShouldMatch(grad, 1e-10, $"{what}: gradient w.r.t. {head.GetName()} {name}");
            }
        }

        loss.TrainableModules.Should().Equal(loss.StudentEmbedding!, loss.TeacherEmbedding!);
    }

    [Fact]
    public void The_taylor_expansion_converges_to_the_gaussian_rbf_kernel_on_unit_vectors()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(11);
        var e = nn.functional.normalize(randn(new long[] { 5, 4 }, ScalarType.Float64, generator: generator), p: 2, dim: 1);
        var rows = ToRows(e);
        foreach (var gamma in new[] { 0.4, 1.0 })
        {
            var exact = rows.Select(x => rows.Select(y => Math.Exp(-gamma * x.Zip(y, (a, b) => (a - b) * (a - b)).Sum())).ToArray()).ToArray();
            ToRows(CorrelationCongruenceLoss.GaussianCorrelation(e, gamma, order: 25)).ShouldBeClose(exact, 1e-12, $"P = 25, gamma = {gamma}");
            LossTestHelpers.MaxAbsDifference(ToRows(CorrelationCongruenceLoss.GaussianCorrelation(e, gamma, order: 1)), exact).Should().BeGreaterThan(1e-3, "a first-order expansion is only approximate");
        }

        var constant = CorrelationCongruenceLoss.GaussianCorrelation(e, 0.4, order: 0);
        ToRows(constant).Should().AllSatisfy(r => r.Should().AllSatisfy(v => v.Should().BeApproximately(Math.Exp(-0.8), 1e-15)));
    }

    [Fact]
    public void Equal_embeddings_give_zero_and_the_kernel_forms_accept_different_widths()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(4);
        var s = nn.functional.normalize(randn(new long[] { 4, 3 }, ScalarType.Float64, generator: generator), p: 2, dim: 1);
        foreach (var form in new[] { CorrelationCongruenceForm.GaussianKernel, CorrelationCongruenceForm.Bilinear, CorrelationCongruenceForm.RepDistiller })
        {
            Scalar(CorrelationCongruenceLoss.Value(s, s, form)).Should().Be(0, "{0}", form);
        }

        // A rotation keeps every inner product, so the correlation matrices agree although the embeddings differ.
        var rotation = tensor(new[] { 0.0, -1, 0, 1, 0, 0, 0, 0, 1 }, new long[] { 3, 3 }, ScalarType.Float64);
        Scalar(CorrelationCongruenceLoss.Value(s.matmul(rotation), s)).Should().BeApproximately(0, 1e-15);
        Scalar(CorrelationCongruenceLoss.Value(s.matmul(rotation), s, CorrelationCongruenceForm.RepDistiller)).Should().BeGreaterThan(1e-3, "RepDistiller's form compares embeddings, not correlations");
        var wide = nn.functional.normalize(randn(new long[] { 4, 9 }, ScalarType.Float64, generator: generator), p: 2, dim: 1);
        Scalar(CorrelationCongruenceLoss.Value(wide, s)).Should().BeGreaterThan(0);
        ((Action)(() => CorrelationCongruenceLoss.Value(wide, s, CorrelationCongruenceForm.RepDistiller))).Should().Throw<ArgumentException>().WithMessage("*one width*");
        ((Action)(() => CorrelationCongruenceLoss.Value(s[..1], s[..1], CorrelationCongruenceForm.RepDistiller))).Should().Throw<ArgumentException>().WithMessage("*at least 2*");
        ((Action)(() => CorrelationCongruenceLoss.Value(zeros(4, 3, 1, ScalarType.Float64), s))).Should().Throw<ArgumentException>().WithMessage("*[batch, dimension]*");
    }

    [Fact]
    public void Without_heads_features_are_flattened_and_compared_directly()
    {
        using var scope = NewDisposeScope();
        var @case = FtCcFixtures.CcCase(CPU, null);
        var s = @case.Context.Output("student").Features["s"];
        var t = @case.Context.Output("teacher").Features["t"];
        var loss = Loss.CorrelationCongruence(FtCcFixtures.Pair, form: CorrelationCongruenceForm.Bilinear);
        loss.TrainableModules.Should().BeEmpty();
        Scalar(loss.Compute(@case.Context).Total).Should().BeApproximately(Scalar(CorrelationCongruenceLoss.Value(s, t.reshape(4, -1), CorrelationCongruenceForm.Bilinear)), 1e-15);
    }

    [Fact]
    public void Bad_construction_is_rejected()
    {
        using var narrow = new CorrelationEmbedding(5, 3);
        using var wide = new CorrelationEmbedding(7, 4);
        ((Action)(() => Loss.CorrelationCongruence("f", gamma: 0))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "gamma");
        ((Action)(() => Loss.CorrelationCongruence("f", gamma: double.PositiveInfinity))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "gamma");
        ((Action)(() => Loss.CorrelationCongruence("f", order: -1))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "order");
        ((Action)(() => Loss.CorrelationCongruence("f", narrow, wide, CorrelationCongruenceForm.RepDistiller))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "teacherEmbedding");
        ((Action)(() => new CorrelationEmbedding(0))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "inputDimension");
        Loss.CorrelationCongruence("f", narrow, wide).Form.Should().Be(CorrelationCongruenceForm.GaussianKernel, "the paper's kernel is the default; widths may differ");
    }
}

/// <summary>The loss contract for CC (paper's Gaussian kernel, γ 0.4, P 2) with the fixture's heads.</summary>
public sealed class CorrelationCongruenceLossContractTests : LossContractTests
{
    protected override IDistillationLoss CreateLoss() => FtCcFixtures.CcLoss();

    protected override LossContractCase CreateCase(Device device) => FtCcFixtures.CcCase(device, FtCcFixtures.Data.Cc.Cases[0].Value);

    protected override IEnumerable<LossBadInput> BadInputs => base.BadInputs
        .Concat(DistillationTermFixtures.FeatureBadInputs("s", "t"))
        .Append(new("a student feature of another width than its head's", c =>
            DistillationTermFixtures.WithFeature(c, "student", "s", zeros(4, 6, ScalarType.Float64)), typeof(ArgumentException)))
        .Append(new("a teacher feature of another width than its head's", c =>
            DistillationTermFixtures.WithFeature(c, "teacher", "t", zeros(4, 3, 2, ScalarType.Float64)), typeof(ArgumentException)));
}

/// <summary>The loss contract for RepDistiller's CC form with the fixture's unnormalised heads.</summary>
public sealed class CorrelationCongruenceRepDistillerContractTests : LossContractTests
{
    protected override IDistillationLoss CreateLoss() => FtCcFixtures.CcLoss(CorrelationCongruenceForm.RepDistiller);

    protected override LossContractCase CreateCase(Device device) => FtCcFixtures.CcCase(device, FtCcFixtures.Data.Cc.Cases[3].Value);

    protected override IEnumerable<LossBadInput> BadInputs => base.BadInputs
        .Concat(DistillationTermFixtures.FeatureBadInputs("s", "t"))
        .Append(new("a batch of one", c =>
        {
            var s = c.Context.Output("student").Features["s"].detach()[..1];
            var t = c.Context.Output("teacher").Features["t"].detach()[..1];
            return DistillationTermFixtures.WithFeature(
                new LossContractCase(DistillationTermFixtures.WithFeature(c, "student", "s", s), c.Trainable, c.Frozen), "teacher", "t", t);
        }, typeof(ArgumentException)));
}
