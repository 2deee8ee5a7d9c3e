using FluentAssertions;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Tests.Support;
using TorchSharp;
using Xunit;
using static KnowledgeDistillation.Tests.Losses.LossTestHelpers;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Losses;

public class StandardizedLogitsLossTests
{
    private static DistillationTermFixtureFile F => DistillationTermFixtures.Data;

    public static IEnumerable<object[]> Cases() => Enumerable.Range(0, DistillationTermFixtures.Data.Standardized.Length).Select(i => new object[] { i });

    [Theory]
    [MemberData(nameof(Cases))]
    public void Wrapped_terms_match_the_official_z_score_in_pytorch(int index)
    {
        using var scope = NewDisposeScope();
        var r = F.Standardized[index];
        IDistillationLoss inner = r.Term switch
        {
            "kd" => new KDLoss(r.Temperature),
            "dkd" => new DecoupledKDLoss(1.0, 8.0, r.Temperature),
            "dist" => new DistLoss(1.0, 1.0, r.Temperature),
            _ => throw new InvalidOperationException(r.Term),
        };
        var loss = Loss.Standardized(inner);
        var teacher = F.Logits.Teacher.ToTensor();
        var labels = tensor(F.Logits.Labels, ScalarType.Int64);
        var (value, grads) = DistillationTermFixtures.ValueAndGrads(s => loss.Compute(Context(s[0], teacher, labels)).Total, F.Logits.Student.ToTensor());
        value.ShouldBeClose(r.Value, 1e-10, $"standardised {r.Term} (T = {r.Temperature})");
        grads[0].ShouldMatch(r.Grad, 1e-10, $"standardised {r.Term} gradient");
    }

    [Fact]
    public void Standardize_gives_rows_of_mean_zero_and_unbiased_std_one()
    {
        using var scope = NewDisposeScope();
        var z = StandardizedLogitsLoss.Standardize(F.Logits.Teacher.ToTensor());
        z.mean(new long[] { 1 }).abs().max().item<double>().Should().BeLessThan(1e-12);
        z.std(1, unbiased: true).sub(1).abs().max().item<double>().Should().BeLessThan(1e-6, "std / (std + 1e-7)");
    }

    [Fact]
    public void The_wrapped_term_is_invariant_to_a_per_sample_scale_and_shift_of_the_students_logits()
    {
        // What the paper is after: the student need not match the teacher's logit range.
        using var scope = NewDisposeScope();
        var loss = Loss.Standardized(Loss.KD(2));
        var student = F.Logits.Student.ToTensor();
        var teacher = F.Logits.Teacher.ToTensor();
        var scale = tensor(new[] { 0.5, 2.0, 3.0, 1.0, 7.0, 0.25 }, new long[] { 6, 1 }, ScalarType.Float64);
        var plain = Scalar(loss.Compute(Context(student, teacher, null)).Total);
        var scaled = Scalar(loss.Compute(Context((student * scale) - 4.0, teacher, null)).Total);
        scaled.Should().BeApproximately(plain, 1e-6);
        Scalar(Loss.KD(2).Compute(Context(student * scale, teacher, null)).Total).Should().NotBeApproximately(plain, 1e-3, "plain KD is not invariant");
    }

    [Fact]
    public void Parts_are_renamed_after_the_wrapper_and_the_inner_term_sees_the_batch()
    {
        using var scope = NewDisposeScope();
        var loss = Loss.Standardized(Loss.DecoupledKD());
        loss.Name.Should().Be("dkd-std");
        loss.Requirements.NeedsTargets.Should().BeTrue("the inner term's requirements are the wrapper's");
        var result = loss.Compute(Context(F.Logits.Student.ToTensor(), F.Logits.Teacher.ToTensor(), tensor(F.Logits.Labels, ScalarType.Int64)));
        result.Parts.Keys.Should().BeEquivalentTo("dkd-std", "dkd-std.tckd", "dkd-std.nckd");
        Loss.Standardized(Loss.KD(), name: "lskd").Name.Should().Be("lskd");
    }

    [Fact]
    public void A_term_that_reads_no_logits_is_refused()
    {
        var act = () => Loss.Standardized(Loss.AttentionTransfer(new FeaturePair[] { "layer1" }));
        act.Should().Throw<ArgumentException>().Where(e => e.ParamName == "inner").WithMessage("*reads logits*'at'*");
        ((Action)(() => Loss.Standardized(null!))).Should().Throw<ArgumentNullException>();
        ((Action)(() => Loss.Standardized(Loss.KD(), epsilon: 0))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "epsilon");
    }

    [Fact]
    public void One_class_logits_are_rejected_before_native_code()
    {
        using var scope = NewDisposeScope();
        var act = () => Loss.Standardized(Loss.KD()).Compute(Context(zeros(2, 1, ScalarType.Float64), zeros(2, 1, ScalarType.Float64), null));
        act.Should().Throw<ArgumentException>().WithMessage("*logits of 'student'*at least two classes*");
    }

    [Fact]
    public void Modules_state_and_disposal_are_forwarded()
    {
        using var scope = NewDisposeScope();
        var bank = new MemoryBankLoss(4, 3);
        using var wrapped = new StandardizedLogitsLoss(bank);
        wrapped.State.Should().ContainSingle("the wrapped term's checkpointed state is the wrapper's");
        wrapped.Requirements.NeedsIndices.Should().BeTrue();
        wrapped.OnStepEnd(Context(randn(4, 3), null, null));
        bank.Updates.Should().Be(1, "the step-end hook reaches the wrapped term");
    }
}

/// <summary>The loss contract for <c>Loss.Standardized(Loss.KD(2))</c> on the PyTorch fixture.</summary>
public sealed class StandardizedLogitsLossContractTests : LossContractTests
{
    private static readonly StandardizedReference Reference = DistillationTermFixtures.Data.Standardized.Single(c => c.Term == "kd" && c.Temperature == 2.0);

    protected override IDistillationLoss CreateLoss() => Loss.Standardized(Loss.KD(Reference.Temperature));

    protected override LossContractCase CreateCase(Device device) => DistillationTermFixtures.LogitsCase(device, Reference.Value);

    protected override IEnumerable<LossBadInput> BadInputs => base.BadInputs.Concat(LogitsBadInputs(["student", "teacher"], readsLabels: false));
}
