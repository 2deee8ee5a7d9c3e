using FluentAssertions;
using KnowledgeDistillation.Caching;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Losses;
using TorchSharp;
using Xunit;
using static KnowledgeDistillation.Tests.Losses.LossTestHelpers;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Losses;

public class PreviousEpochSelfTeacherTests
{
    private static DistillationContext Step(Tensor logits, long[] indices, long[] labels, bool training = true) =>
        new(new Batch(zeros(indices.Length, 1), Labels(labels), tensor(indices)), new Dictionary<string, ModelOutput> { ["student"] = new ModelOutput(logits) }, isTraining: training);

    [Fact]
    public void First_sight_falls_back_to_the_current_logits_then_serves_the_previous_ones_per_sample()
    {
        using var scope = NewDisposeScope();
        using var source = new PreviousEpochSelfTeacher(sampleCount: 5);
        var epoch1 = Matrix(new[] { new[] { 1.0, 2, 3 }, new[] { 3.0, 1, 2 } }, ScalarType.Float32);
        var step1 = Step(epoch1, new long[] { 4, 1 }, new long[] { 2, 1 });
        ToRows(source.TeacherLogits(step1, epoch1)).Should().BeEquivalentTo(ToRows(epoch1));
        source.Store.FilledCount.Should().Be(0, "reading is free of side effects");
        source.Record(step1, epoch1);

        // Epoch 2: sample 1 and 4 come back (other order) with sample 0, never seen.
        var epoch2 = Matrix(new[] { new[] { 0.0, 0, 9 }, new[] { 5.0, 5, 5 }, new[] { 7.0, 0, 0 } }, ScalarType.Float32);
        var step2 = Step(epoch2, new long[] { 1, 0, 4 }, new long[] { 1, 0, 2 });
        var teacher = ToRows(source.TeacherLogits(step2, epoch2));
        teacher.Should().BeEquivalentTo(new[] { new[] { 3.0, 1, 2 }, new[] { 5.0, 5, 5 }, new[] { 1.0, 2, 3 } }, o => o.WithStrictOrdering());
        source.Record(step2, epoch2);
        source.Store.FilledCount.Should().Be(3);
        source.Store.Read(tensor(new long[] { 4 }), CPU)[0].data<float>().ToArray().Should().Equal(7, 0, 0);

        // Evaluation steps neither read nor write.
        var eval = Matrix(new[] { new[] { -1.0, -1, -1 } }, ScalarType.Float32);
        var evalStep = Step(eval, new long[] { 4 }, new long[] { 0 }, training: false);
        ToRows(source.TeacherLogits(evalStep, eval))[0].Should().Equal(-1, -1, -1);
        source.Record(evalStep, eval);
        source.Store.Read(tensor(new long[] { 4 }), CPU)[0].data<float>().ToArray().Should().Equal(7, 0, 0);
    }

    [Fact]
    public void Dr_kd_with_the_previous_epoch_rectifies_the_stored_logits_and_never_differentiates_them()
    {
        using var scope = NewDisposeScope();
        using var source = new PreviousEpochSelfTeacher(sampleCount: 2);
        var loss = Loss.DrKd(temperature: 4, alpha: 0.9, selfTeacher: source);
        var y = new long[] { 2, 1 };
        var first = Matrix(new[] { new[] { 1.0, 2, 3 }, new[] { 3.0, 1, 2 } }, ScalarType.Float32, requiresGrad: true);
        var firstStep = Step(first, new long[] { 0, 1 }, y);
        Scalar(loss.Compute(firstStep).Total).Should().BeApproximately(0.734594, 1e-6, "epoch 1 equals the dynamic teacher (dr-kd.md example)");
        loss.OnStepEnd(firstStep); // the engine calls the hook after the optimiser step

        var second = Matrix(new[] { new[] { 0.0, 0, 0 }, new[] { 0.0, 0, 0 } }, ScalarType.Float32, requiresGrad: true);
        var (value, grad) = ValueAndGrad(second, z => loss.Compute(Step(z, new long[] { 0, 1 }, y)).Total);

        // The teacher is epoch 1's logits, rectified: [[1,2,3],[1,3,2]].
        var zs = new[] { new[] { 0.0, 0, 0 }, new[] { 0.0, 0, 0 } };
        var rectified = new[] { new[] { 1.0, 2, 3 }, new[] { 1.0, 3, 2 } };
        value.Should().BeApproximately((0.1 * Reference.CrossEntropy(zs, y)) + (0.9 * Reference.KD(zs, rectified, 4)), 1e-6);
        var ce = Reference.CrossEntropyGrad(zs, y);
        var kd = Reference.KDGrad(zs, rectified, 4);
        grad.ShouldBeClose(Map(ce, (i, k, v) => (0.1 * v) + (0.9 * kd[i][k])), 1e-6, "gradient with a constant stored teacher");
    }

    [Fact]
    public void A_store_with_other_fields_is_refused()
    {
        using var scope = NewDisposeScope();
        using var store = new MemorySampleStore(4);
        store.Initialize(new[] { new SampleField("something-else", new long[] { 3 }) });
        var source = new PreviousEpochSelfTeacher(store);
        var z = zeros(1, 3);
        FluentActions.Invoking(() => source.TeacherLogits(Step(z, new long[] { 0 }, new long[] { 0 }), z)).Should().Throw<InvalidOperationException>();
        FluentActions.Invoking(() => source.Record(Step(z, new long[] { 0 }, new long[] { 0 }), z)).Should().Throw<InvalidOperationException>();
        FluentActions.Invoking(() => new PreviousEpochSelfTeacher(null!)).Should().Throw<ArgumentNullException>();
    }
}
