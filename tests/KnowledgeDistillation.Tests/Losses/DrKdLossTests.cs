using FluentAssertions;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Tests.Support;
using TorchSharp;
using Xunit;
using static KnowledgeDistillation.Tests.Losses.LossTestHelpers;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Losses;

public class DrKdLossTests
{
    // dr-kd.md worked example: z = z_t = [[1,2,3],[3,1,2]], y = [2,1], K = 3, dynamic teacher.
    private static readonly double[][] Example = { new[] { 1.0, 2, 3 }, new[] { 3.0, 1, 2 } };
    private static readonly long[] ExampleLabels = { 2, 1 };

    public static IEnumerable<object[]> Cases() => SelfDistillationFixtures.Names();

    [Fact]
    public void Dr_kd_md_1_rectified_teacher()
    {
        using var scope = NewDisposeScope();
        var r = DrKdLoss.Rectify(Matrix(Example), Labels(ExampleLabels));
        ToRows(r).Should().BeEquivalentTo(new[] { new[] { 1.0, 2, 3 }, new[] { 1.0, 3, 2 } }, o => o.WithStrictOrdering());
    }

    [Fact]
    public void Dr_kd_md_2_and_3_kd_term_and_its_gradient_at_T_1_and_T_4()
    {
        using var scope = NewDisposeScope();
        var y = Labels(ExampleLabels);

        // alpha = 1 leaves the KD term alone; the dynamic teacher is the (detached) student itself.
        var (kd1, grad1) = ValueAndGrad(Matrix(Example), z => DrKdLoss.Value(z, z, y, temperature: 1, alpha: 1));
        kd1.Should().BeApproximately(0.575210, 1e-6);
        MaxAbsDifference(grad1, new[] { new[] { 0.0, 0, 0 }, new[] { 0.287605, -0.287605, 0 } }).Should().BeLessThan(1e-6);

        var (kd4, grad4) = ValueAndGrad(Matrix(Example), z => DrKdLoss.Value(z, z, y, temperature: 4, alpha: 1));
        kd4.Should().BeApproximately(0.659815, 1e-6);
        (kd4 / 16).Should().BeApproximately(0.041238, 1e-6, "KL batchmean before T²");
        MaxAbsDifference(grad4, new[] { new[] { 0.0, 0, 0 }, new[] { 0.329907, -0.329907, 0 } }).Should().BeLessThan(1e-6);
    }

    [Fact]
    public void Dr_kd_md_4_total_with_alpha_0_9_and_T_4()
    {
        using var scope = NewDisposeScope();
        var z = Matrix(Example);
        var y = Labels(ExampleLabels);
        Scalar(CrossEntropyLoss.Value(z, y)).Should().BeApproximately(1.407606, 1e-6);
        Scalar(DrKdLoss.Value(z, z, y, temperature: 4, alpha: 0.9)).Should().BeApproximately(0.734594, 1e-6);

        var loss = Loss.DrKd(temperature: 4, alpha: 0.9);
        var result = loss.Compute(Context(z, null, y));
        Scalar(result.Total).Should().BeApproximately(0.734594, 1e-6);
        Scalar(result.Parts["ce"]).Should().BeApproximately(1.407606, 1e-6);
        Scalar(result.Parts["drkd"]).Should().BeApproximately(0.659815, 1e-6);
        Scalar(new DrKdLoss(temperature: 4).Compute(Context(z, null, y)).Total).Should().BeApproximately(0.659815, 1e-6, "the term alone is the KD part");
        Scalar(result.Parts["drkd.rectified"]).Should().Be(0.5, "one of two samples was swapped");
    }

    [Fact]
    public void Dr_kd_md_5_all_correct_gives_exactly_one_minus_alpha_times_ce()
    {
        using var scope = NewDisposeScope();
        var z = Matrix(new[] { new[] { 1.0, 2, 3 }, new[] { 3.0, 1, 2 }, new[] { -1.0, 5, 0.5 } });
        var y = Labels(2, 0, 1);
        var (value, grad) = ValueAndGrad(z, s => Loss.DrKd(4, 0.9).Compute(Context(s, null, y)).Total);
        value.Should().Be((1 - 0.9) * Scalar(CrossEntropyLoss.Value(z, y)), "the KD term is exactly zero");
        var parts = Loss.DrKd(4, 0.9).Compute(Context(z, null, y)).Parts;
        Scalar(parts["drkd"]).Should().Be(0);
        Scalar(parts["drkd.rectified"]).Should().Be(0);
        var ce = Reference.CrossEntropyGrad(ToRows(z), new long[] { 2, 0, 1 });
        grad.ShouldBeClose(Map(ce, (_, _, v) => 0.1 * v), 1e-15, "gradient = 0.1 * CE gradient");
    }

    [Fact]
    public void Dr_kd_md_5_and_6_invariants_hold_on_random_inputs_and_the_input_is_not_modified()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(7);
        for (var trial = 0; trial < 50; trial++)
        {
            var classes = 2 + (trial % 9);
            var teacher = randn(new long[] { 16, classes }, generator: generator).mul_(3);

            // Quantised logits make ties frequent.
            if (trial % 2 == 0)
            {
                teacher = teacher.round();
            }

            var y = randint(classes, new long[] { 16 }, generator: generator).to(ScalarType.Int64);
            var before = teacher.clone();
            var r = DrKdLoss.Rectify(teacher, y);
            teacher.eq(before).all().item<bool>().Should().Be(true, "Rectify never modifies its input");
            r.sort(1).Values.eq(teacher.sort(1).Values).all().item<bool>().Should().Be(true, "the multiset of logits is preserved");

            // argmax r_i == y_i up to ties: the label's logit is a maximum of the rectified row.
            r.gather(1, y.unsqueeze(1)).squeeze(1).eq(r.max(1).values).all().item<bool>().Should().Be(true, "the label is an arg-max after rectification");
        }
    }

    [Fact]
    public void Dynamic_teacher_never_distills_a_wrong_argmax()
    {
        // Property over random inputs: the KD target's most probable class is always the label, and the KD gradient never
        // pushes a non-label class above the label (its gradient step raises the label's logit at least as much as any other).
        using var scope = NewDisposeScope();
        using var generator = new Generator(11);
        for (var trial = 0; trial < 40; trial++)
        {
            var classes = 2 + (trial % 7);
            var z = (randn(new long[] { 12, classes }, ScalarType.Float64, generator: generator) * 4).round();
            var y = randint(classes, new long[] { 12 }, generator: generator).to(ScalarType.Int64);
            var target = softmax(DrKdLoss.Rectify(z, y) / 4.0, 1);
            target.gather(1, y.unsqueeze(1)).squeeze(1).ge(target.max(1).values).all().item<bool>().Should().BeTrue("trial {0}", trial);

            var leaf = z.clone().requires_grad_();
            DrKdLoss.Value(leaf, leaf, y, 4, alpha: 1).backward();
            var descent = -leaf.grad!;
            descent.gather(1, y.unsqueeze(1)).squeeze(1).ge(descent.max(1).values - 1e-12).all().item<bool>().Should().BeTrue("trial {0}", trial);
        }
    }

    [Theory]
    [InlineData(new[] { 2.0, 2, 0, 1 }, 1L, new[] { 2.0, 2, 0, 1 })] // the label ties the maximum: correct, untouched
    [InlineData(new[] { 0.5, 3, 3, -1 }, 0L, new[] { 3.0, 0.5, 3, -1 })] // two maxima, neither the label: swap the first
    [InlineData(new[] { 1.0, 1, 1, 1 }, 3L, new[] { 1.0, 1, 1, 1 })] // all equal: untouched
    [InlineData(new[] { 4.0, 0, 1, 2 }, 2L, new[] { 1.0, 0, 4, 2 })] // plainly wrong: swap
    [InlineData(new[] { 0.0, 9 }, 1L, new[] { 0.0, 9 })] // K = 2, right
    [InlineData(new[] { 0.0, 9 }, 0L, new[] { 9.0, 0 })] // K = 2, wrong
    public void Rectify_handles_ties_with_the_first_maximum(double[] teacher, long label, double[] expected)
    {
        using var scope = NewDisposeScope();
        ToRows(DrKdLoss.Rectify(Matrix(new[] { teacher }), Labels(label)))[0].Should().Equal(expected);
    }

    [Fact]
    public void Rectify_of_a_row_with_a_NaN_gives_a_NaN_row_not_a_native_index_error()
    {
        // Found by the checkpoint fuzz target: a resumed self-teacher held a NaN logit, no element equalled the row's
        // (NaN) maximum, and the scatter index ran past the last class inside libtorch. Now the loss turns NaN and the
        // engine's non-finite check reports it.
        using var scope = NewDisposeScope();
        var rows = ToRows(DrKdLoss.Rectify(Matrix(new[] { new[] { 1.0, double.NaN, 0 }, new[] { 4.0, 0, 1 } }), Labels(2, 2)));
        rows[0].Should().Contain(double.NaN);
        rows[1].Should().Equal(1.0, 0, 4);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Rectify_value_and_gradient_match_pytorch(string caseName)
    {
        using var scope = NewDisposeScope();
        var c = SelfDistillationFixtures.Case(caseName);
        var teacher = Matrix(c.Teacher);
        var y = Labels(c.Labels);
        ToRows(DrKdLoss.Rectify(teacher, y)).Should().BeEquivalentTo(c.Rectified, o => o.WithStrictOrdering());
        foreach (var e in c.Drkd)
        {
            // For the dr_kd_md case the teacher equals the student (the dynamic teacher).
            var (value, grad) = ValueAndGrad(Matrix(c.Student), z => DrKdLoss.Value(z, teacher, y, e.Temperature, e.Alpha));
            value.ShouldBeClose(e.Value, Float64Tolerance, $"DR-KD(T={e.Temperature}, alpha={e.Alpha})");
            grad.ShouldBeClose(e.Grad, Float64Tolerance, $"DR-KD(T={e.Temperature}, alpha={e.Alpha}) gradient");

            // float32 too, at the float32 tolerance.
            var (value32, grad32) = ValueAndGrad(Matrix(c.Student, ScalarType.Float32), z => DrKdLoss.Value(z, teacher.to(ScalarType.Float32), y, e.Temperature, e.Alpha));
            value32.ShouldBeClose(e.Value, Float32Tolerance, "float32 value");
            grad32.ShouldBeClose(e.Grad, Float32Tolerance, "float32 gradient");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_recipe_total_equals_the_paper_objective_in_float64(string caseName)
    {
        // (1 - alpha) CE + alpha DR-KD term, built from two terms, equals the old single-class objective DrKdLoss.Value.
        using var scope = NewDisposeScope();
        var c = SelfDistillationFixtures.Case(caseName);
        var z = Matrix(c.Student);
        var y = Labels(c.Labels);
        foreach (var e in c.Drkd)
        {
            var recipe = Recipes.DrKd(e.Temperature, e.Alpha);
            var total = recipe.Stages.Single().Loss.Compute(Context(z, null, y)).Total;
            total.dtype.Should().Be(ScalarType.Float64);
            Scalar(total).ShouldBeClose(Scalar(DrKdLoss.Value(z, z, y, e.Temperature, e.Alpha)), 1e-12, $"recipe vs objective (T={e.Temperature}, alpha={e.Alpha})");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Gradient_matches_the_hand_derived_formula(string caseName)
    {
        // dr-kd.md: dL/dz = (1 - alpha)(softmax(z) - onehot(y))/B + alpha (T/B)(softmax(z/T) - softmax(r/T)), r constant.
        using var scope = NewDisposeScope();
        var c = SelfDistillationFixtures.Case(caseName);
        var y = Labels(c.Labels);
        foreach (var (t, alpha) in new[] { (1.0, 0.9), (4.0, 0.9), (2.5, 0.3), (10.0, 1.0) })
        {
            var (_, grad) = ValueAndGrad(Matrix(c.Student), z => DrKdLoss.Value(z, Matrix(c.Teacher), y, t, alpha));
            var ce = Reference.CrossEntropyGrad(c.Student, c.Labels);
            var kd = Reference.KDGrad(c.Student, c.Rectified, t);
            grad.ShouldBeClose(Map(ce, (i, k, v) => ((1 - alpha) * v) + (alpha * kd[i][k])), 1e-12, $"gradient (T={t}, alpha={alpha})");
        }
    }

    [Fact]
    public void Gradient_matches_finite_differences()
    {
        using var scope = NewDisposeScope();
        var c = SelfDistillationFixtures.Case("random");
        var teacher = Matrix(c.Teacher);
        var y = Labels(c.Labels);
        GradientCheck.AssertMatchesFiniteDifferences(z => DrKdLoss.Value(z[0], teacher, y, 3.0, 0.7), [Matrix(c.Student)], tolerance: 1e-8);
    }

    [Fact]
    public void No_gradient_flows_into_the_teacher_logits()
    {
        using var scope = NewDisposeScope();
        var teacher = Matrix(Example, requiresGrad: true);
        var student = Matrix(new[] { new[] { 0.0, 1, 0 }, new[] { 1.0, 0, 0 } }, requiresGrad: true);
        DrKdLoss.Value(student, teacher, Labels(ExampleLabels)).backward();
        teacher.grad.Should().BeNull("the rectified teacher is a constant");
        student.grad.Should().NotBeNull();
    }

    [Fact]
    public void Bad_inputs_are_rejected_with_the_argument_named()
    {
        using var scope = NewDisposeScope();
        var z = Matrix(Example);
        var y = Labels(ExampleLabels);
        FluentActions.Invoking(() => Loss.DrKd(alpha: 1.5)).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "alpha");
        FluentActions.Invoking(() => Loss.DrKd(alpha: -0.1)).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "alpha");
        FluentActions.Invoking(() => new DrKdLoss(temperature: 0)).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "temperature");
        FluentActions.Invoking(() => new DrKdLoss(temperature: double.NaN)).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "temperature");
        FluentActions.Invoking(() => DrKdLoss.Value(z, z, y, temperature: -1)).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "temperature");
        FluentActions.Invoking(() => DrKdLoss.Value(z, z, y, alpha: 2)).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "alpha");
        var one = Matrix(new[] { new[] { 1.0 }, new[] { 2.0 } });
        FluentActions.Invoking(() => DrKdLoss.Rectify(one, Labels(0, 0))).Should().Throw<ArgumentException>().WithMessage("*K >= 2*");
        FluentActions.Invoking(() => DrKdLoss.Value(one, one, Labels(0, 0))).Should().Throw<ArgumentException>().WithMessage("*K >= 2*");
        FluentActions.Invoking(() => DrKdLoss.Rectify(z, Labels(2, 3))).Should().Throw<ArgumentException>().WithMessage("*[0, 2]*");
        FluentActions.Invoking(() => DrKdLoss.Rectify(z, Labels(2))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "targets");
        FluentActions.Invoking(() => DrKdLoss.Value(z, Matrix(new[] { new[] { 1.0, 2 }, new[] { 1.0, 2 } }), y)).Should().Throw<ArgumentException>().WithMessage("*Class counts differ*");
    }
}

/// <summary>
/// The loss contract for the <see cref="DrKdLoss"/> term (T = 4) on the "random" PyTorch fixture. The fixture holds the
/// paper's objective <c>(1 − α) CE + α KD</c> at α = 0.5 and 0.9; being linear in α, the two totals give the KD term
/// (<c>KD = T(0.9) + 0.1 · (T(0.9) − T(0.5)) / 0.4</c>), all from PyTorch's values. The self-teacher's logits
/// come from a "teacher" participant (not detached by the source), so the frozen fact checks DR-KD's own detach and finite
/// differences of the total see the teacher held fixed, as the paper's gradient does.
/// </summary>
public sealed class DrKdLossContractTests : LossContractTests
{
    private static readonly SelfDistillationCase Fixture = SelfDistillationFixtures.Case("random");

    protected override IDistillationLoss CreateLoss() => new DrKdLoss(4.0, new TeacherParticipant());

    protected override LossContractCase CreateCase(Device device) => LogitsCase(
        device, [("student", Fixture.Student)], [("teacher", Fixture.Teacher)], Fixture.Labels, expected: KdTerm());

    private static double KdTerm()
    {
        var high = Fixture.Drkd.Single(e => e.Temperature == 4.0 && e.Alpha == 0.9).Value;
        var low = Fixture.Drkd.Single(e => e.Temperature == 4.0 && e.Alpha == 0.5).Value;
        return high + (0.1 * (high - low) / 0.4);
    }

    protected override IEnumerable<LossBadInput> BadInputs => base.BadInputs.Concat(LogitsBadInputs(["student", "teacher"], readsLabels: true));

    private sealed class TeacherParticipant : ISelfTeacherSource
    {
        public Tensor TeacherLogits(DistillationContext context, Tensor studentLogits) => context.Output("teacher").RequireLogits("teacher");
    }
}
