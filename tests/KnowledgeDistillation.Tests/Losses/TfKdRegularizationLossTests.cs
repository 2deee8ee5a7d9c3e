using FluentAssertions;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Tests.Support;
using TorchSharp;
using Xunit;
using static KnowledgeDistillation.Tests.Losses.LossTestHelpers;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Losses;

public class TfKdRegularizationLossTests
{
    // tf-kd.md worked example: z = [[1,2,3],[0,0,0]], y = [2,0], K = 3, a = 0.9.
    private static readonly double[][] Example = { new[] { 1.0, 2, 3 }, new[] { 0.0, 0, 0 } };
    private static readonly long[] ExampleLabels = { 2, 0 };

    public static IEnumerable<object[]> Cases() => SelfDistillationFixtures.Names();

    [Fact]
    public void Tf_kd_md_1_virtual_teacher_in_closed_form()
    {
        using var scope = NewDisposeScope();
        var p = ToRows(TfKdRegularizationLoss.VirtualTeacher(Labels(ExampleLabels), 3, 0.9, ScalarType.Float64));
        p.ShouldBeClose(new[] { new[] { 0.05, 0.05, 0.9 }, new[] { 0.9, 0.05, 0.05 } }, 1e-15, "p^d");
        p.Select(r => r.Sum()).Should().AllSatisfy(s => s.Should().BeApproximately(1, 1e-15));

        // General K and a: a on the label, (1 - a)/(K - 1) elsewhere.
        var q = ToRows(TfKdRegularizationLoss.VirtualTeacher(Labels(4, 0, 9), 10, 0.99, ScalarType.Float64));
        for (var i = 0; i < 3; i++)
        {
            q[i].Should().HaveCount(10);
            q[i].Sum().Should().BeApproximately(1, 1e-14);
            q[i].Where((_, k) => k != new[] { 4, 0, 9 }[i]).Should().AllSatisfy(v => v.Should().BeApproximately(0.01 / 9, 1e-17));
        }
    }

    [Fact]
    public void Tf_kd_md_2_and_3_official_code_form()
    {
        using var scope = NewDisposeScope();
        var z = Matrix(Example);
        var y = Labels(ExampleLabels);

        // q = softmax(p^d / T): the official code's soft target.
        var q = ToRows(softmax(TfKdRegularizationLoss.VirtualTeacher(y, 3, 0.9, ScalarType.Float64) / 20.0, 1));
        q.ShouldBeClose(new[] { new[] { 0.328578, 0.328578, 0.342844 }, new[] { 0.342844, 0.328578, 0.328578 } }, 1e-6, "q");

        // Element-wise mean (the code's value before the multiplier); the sum and batch mean are B*K and K times it.
        var t20 = Scalar(TfKdRegularizationLoss.Regularizer(z, y, 0.9, 20));
        t20.Should().BeApproximately(0.049189, 1e-6);
        (t20 * 3).Should().BeApproximately(0.147567, 1e-6);
        (t20 * 6).Should().BeApproximately(0.295133, 1e-6);
        var t1 = Scalar(TfKdRegularizationLoss.Regularizer(z, y, 0.9, 1));
        t1.Should().BeApproximately(0.029743, 1e-6);
        (t1 * 3).Should().BeApproximately(0.089229, 1e-6);
        (t1 * 6).Should().BeApproximately(0.178459, 1e-6);
    }

    [Fact]
    public void Tf_kd_md_4_paper_form()
    {
        using var scope = NewDisposeScope();
        Scalar(TfKdRegularizationLoss.Regularizer(Matrix(Example), Labels(ExampleLabels), 0.9, 1, TfKdRegularizationForm.Paper))
            .Should().BeApproximately(0.433711, 1e-6, "KL(p^d || softmax(z)), batch mean");
    }

    [Fact]
    public void Tf_kd_md_6_official_form_tends_to_kl_from_uniform_as_T_grows()
    {
        using var scope = NewDisposeScope();
        var c = SelfDistillationFixtures.Case("random");
        var z = Matrix(c.Student);
        var classes = c.Student[0].Length;
        var expected = c.Student.Sum(row => Reference.LogSoftmax(row).Sum(l => (1.0 / classes) * (Math.Log(1.0 / classes) - l))) / (c.Student.Length * classes);
        Scalar(TfKdRegularizationLoss.Regularizer(z, Labels(c.Labels), 0.99, 1e9)).Should().BeApproximately(expected, 1e-9);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Values_and_gradients_match_pytorch(string caseName)
    {
        using var scope = NewDisposeScope();
        var c = SelfDistillationFixtures.Case(caseName);
        var y = Labels(c.Labels);
        foreach (var e in c.TfkdReg)
        {
            var what = $"a={e.CorrectProbability}, T={e.Temperature}";
            var (official, officialGrad) = ValueAndGrad(Matrix(c.Student), z => TfKdRegularizationLoss.Regularizer(z, y, e.CorrectProbability, e.Temperature));
            official.ShouldBeClose(e.Official.Value, Float64Tolerance, $"official {what}");
            officialGrad.ShouldBeClose(e.Official.Grad, Float64Tolerance, $"official gradient {what}");

            var (paper, paperGrad) = ValueAndGrad(Matrix(c.Student), z => TfKdRegularizationLoss.Regularizer(z, y, e.CorrectProbability, e.Temperature, TfKdRegularizationForm.Paper));
            paper.ShouldBeClose(e.Paper.Value, Float64Tolerance, $"paper {what}");
            paperGrad.ShouldBeClose(e.Paper.Grad, Float64Tolerance, $"paper gradient {what}");

            // The recipe (1 - alpha) CE + alpha term, built from two terms, equals the paper objective (fixture and static Value).
            var loss = Recipes.TfKdReg(e.CorrectProbability, e.Temperature, e.TotalAlpha, e.TotalMultiplier).Stages.Single().Loss;
            var (total, totalGrad) = ValueAndGrad(Matrix(c.Student), z => loss.Compute(Context(z, null, y)).Total);
            total.ShouldBeClose(e.Total.Value, Float64Tolerance, $"total {what}");
            totalGrad.ShouldBeClose(e.Total.Grad, Float64Tolerance, $"total gradient {what}");
            var objective = Scalar(TfKdRegularizationLoss.Value(Matrix(c.Student), y, e.CorrectProbability, e.Temperature, e.TotalAlpha, e.TotalMultiplier));
            objective.ShouldBeClose(e.Total.Value, Float64Tolerance, $"static total {what}");
            total.ShouldBeClose(objective, 1e-12, $"recipe vs objective {what}");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Gradients_match_the_hand_derived_formulas(string caseName)
    {
        using var scope = NewDisposeScope();
        var c = SelfDistillationFixtures.Case(caseName);
        var y = Labels(c.Labels);
        var (b, k) = (c.Student.Length, c.Student[0].Length);
        foreach (var (a, t) in new[] { (0.9, 1.0), (0.99, 20.0), (0.6, 3.0) })
        {
            var pd = c.Labels.Select(label => Enumerable.Range(0, k).Select(j => j == label ? a : (1 - a) / (k - 1)).ToArray()).ToArray();

            // Official: (softmax(z) - softmax(p^d / T)) / (B K).
            var (_, official) = ValueAndGrad(Matrix(c.Student), z => TfKdRegularizationLoss.Regularizer(z, y, a, t));
            var q = pd.Select(row => Reference.Softmax(row, t)).ToArray();
            official.ShouldBeClose(Map(c.Student, (i, j, _) => (Reference.Softmax(c.Student[i])[j] - q[i][j]) / (b * k)), 1e-14, $"official gradient a={a} T={t}");

            // Paper: (softmax(z / T) - softmax(log p^d / T)) / (B T).
            var (_, paper) = ValueAndGrad(Matrix(c.Student), z => TfKdRegularizationLoss.Regularizer(z, y, a, t, TfKdRegularizationForm.Paper));
            var target = pd.Select(row => Reference.Softmax(row.Select(v => Math.Log(v)).ToArray(), t)).ToArray();
            paper.ShouldBeClose(Map(c.Student, (i, j, _) => (Reference.Softmax(c.Student[i], t)[j] - target[i][j]) / (b * t)), 1e-14, $"paper gradient a={a} T={t}");
        }
    }

    [Fact]
    public void Compute_reports_ce_and_the_regularizer()
    {
        using var scope = NewDisposeScope();
        var z = Matrix(Example);
        var y = Labels(ExampleLabels);
        var result = Loss.TfKdReg(0.9, 20, alpha: 0.25, multiplier: 3).Compute(Context(z, null, y));
        Scalar(result.Parts["tfkd-reg"]).Should().BeApproximately(3 * 0.049189, 3e-6, "the term is multiplier x regulariser");
        Scalar(result.Parts["ce"]).Should().BeApproximately(Reference.CrossEntropy(Example, ExampleLabels), 1e-12);
        Scalar(result.Total).Should().BeApproximately((0.75 * Reference.CrossEntropy(Example, ExampleLabels)) + (0.25 * Scalar(result.Parts["tfkd-reg"])), 1e-12);
        Scalar(new TfKdRegularizationLoss(0.9, 20).Compute(Context(z, null, y)).Total).Should().BeApproximately(0.049189, 1e-6);
    }

    [Fact]
    public void Bad_inputs_are_rejected_with_the_argument_named()
    {
        using var scope = NewDisposeScope();
        var z = Matrix(Example);
        var y = Labels(ExampleLabels);
        foreach (var a in new[] { 0.0, 1.0, -0.5, 1.5, double.NaN })
        {
            FluentActions.Invoking(() => new TfKdRegularizationLoss(correctProbability: a)).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "correctProbability");
            FluentActions.Invoking(() => TfKdRegularizationLoss.VirtualTeacher(y, 3, a)).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "correctProbability");
        }

        FluentActions.Invoking(() => new TfKdRegularizationLoss(temperature: 0)).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "temperature");
        FluentActions.Invoking(() => new TfKdRegularizationLoss(temperature: -2)).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "temperature");
        FluentActions.Invoking(() => Loss.TfKdReg(alpha: 1.01)).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "alpha");
        FluentActions.Invoking(() => new TfKdRegularizationLoss(multiplier: -1)).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "multiplier");
        FluentActions.Invoking(() => new TfKdRegularizationLoss(form: (TfKdRegularizationForm)7)).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "form");
        FluentActions.Invoking(() => TfKdRegularizationLoss.Regularizer(z, y, 0.9, 0)).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "temperature");
        FluentActions.Invoking(() => TfKdRegularizationLoss.VirtualTeacher(y, 1, 0.9)).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "classes");
        var one = Matrix(new[] { new[] { 1.0 }, new[] { 2.0 } });
        FluentActions.Invoking(() => TfKdRegularizationLoss.Regularizer(one, Labels(0, 0), 0.9, 1)).Should().Throw<ArgumentException>().WithMessage("*K >= 2*");
        FluentActions.Invoking(() => TfKdRegularizationLoss.Regularizer(z, Labels(0, 3), 0.9, 1)).Should().Throw<ArgumentException>().Where(e => e.ParamName == "targets");
        FluentActions.Invoking(() => TfKdRegularizationLoss.VirtualTeacher(Labels(0, 5), 3, 0.9)).Should().Throw<ArgumentException>().Where(e => e.ParamName == "targets");
    }
}

/// <summary>The loss contract for the <see cref="TfKdRegularizationLoss"/> term (a = 0.99, T = 20, multiplier 1, the official code's form) on the "random" PyTorch fixture.</summary>
public sealed class TfKdRegularizationLossContractTests : LossContractTests
{
    private static readonly SelfDistillationCase Fixture = SelfDistillationFixtures.Case("random");
    private static readonly TfKdRegReference Entry = Fixture.TfkdReg.Single(e => e.CorrectProbability == 0.99 && e.Temperature == 20.0);

    protected override IDistillationLoss CreateLoss() => new TfKdRegularizationLoss(Entry.CorrectProbability, Entry.Temperature);

    protected override LossContractCase CreateCase(Device device) =>
        LogitsCase(device, [("student", Fixture.Student)], [], Fixture.Labels, expected: Entry.Official.Value);

    protected override IEnumerable<LossBadInput> BadInputs => base.BadInputs.Concat(LogitsBadInputs(["student"], readsLabels: true));
}
