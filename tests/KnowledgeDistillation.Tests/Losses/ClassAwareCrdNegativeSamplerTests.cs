using FluentAssertions;
using KnowledgeDistillation.Losses;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Losses;

public sealed class ClassAwareCrdNegativeSamplerTests
{
    // 3 classes of sizes 4, 3 and 5, interleaved so that the class blocks are not contiguous in index order.
    private static readonly long[] Labels = { 2, 0, 1, 2, 0, 2, 1, 0, 2, 1, 0, 2 };

    [Fact]
    public void Negatives_come_only_from_other_classes_and_are_distinct_when_the_pool_allows()
    {
        using var scope = NewDisposeScope();
        var sampler = new ClassAwareCrdNegativeSampler(Labels, seed: 5);
        sampler.ClassCount.Should().Be(3);
        var positives = arange(12L);
        var drawn = sampler.Sample(positives, 12, 7, step: 3);
        drawn.shape.Should().Equal(12, 7);
        var rows = ToRows(drawn, 7);
        for (var b = 0; b < 12; b++)
        {
            rows[b].Should().OnlyContain(i => Labels[i] != Labels[b], $"sample {b} (class {Labels[b]}) gets negatives of the other classes only");
            rows[b].Should().OnlyHaveUniqueItems("K = 7 <= the pool (at least 7 other-class samples), so the draw is without replacement, as the reference's");
        }
    }

    [Fact]
    public void A_pool_of_exactly_k_returns_the_whole_other_class_set()
    {
        using var scope = NewDisposeScope();
        // Sample 2 is of class 1 (3 samples), so its pool is the 9 samples of classes 0 and 2.
        var drawn = ToRows(new ClassAwareCrdNegativeSampler(Labels, 1).Sample(tensor(new long[] { 2 }), 12, 9, 0), 9)[0];
        drawn.Should().BeEquivalentTo(Enumerable.Range(0, 12).Where(i => Labels[i] != 1).Select(i => (long)i));
    }

    [Fact]
    public void More_negatives_than_the_pool_are_drawn_with_replacement()
    {
        using var scope = NewDisposeScope();
        var drawn = ToRows(new ClassAwareCrdNegativeSampler(Labels, 2).Sample(tensor(new long[] { 0, 1 }), 12, 20, 4), 20);
        drawn[0].Should().HaveCount(20).And.OnlyContain(i => Labels[i] != 2);
        drawn[1].Should().HaveCount(20).And.OnlyContain(i => Labels[i] != 0);
    }

    [Fact]
    public void The_draw_is_a_pure_function_of_seed_and_step()
    {
        using var scope = NewDisposeScope();
        var positives = arange(12L);
        var a = new ClassAwareCrdNegativeSampler(Labels, 3).Sample(positives, 12, 6, 7);
        a.eq(new ClassAwareCrdNegativeSampler(Labels, 3).Sample(positives, 12, 6, 7)).all().item<bool>().Should().BeTrue();
        a.eq(new ClassAwareCrdNegativeSampler(Labels, 3).Sample(positives, 12, 6, 8)).all().item<bool>().Should().BeFalse("each step draws anew");
        a.eq(new ClassAwareCrdNegativeSampler(Labels, 4).Sample(positives, 12, 6, 7)).all().item<bool>().Should().BeFalse("the seed matters");
    }

    [Fact]
    public void Without_replacement_every_pool_member_is_equally_likely()
    {
        // Two classes: 0..59 are class 0, 60..99 class 1. Anchor 0 draws 10 of the 40 class-1 rows per step; over 4,000 steps
        // each row is drawn 1,000 times in expectation (binomial sd about 27): a biased Floyd step would show here.
        var labels = Enumerable.Range(0, 100).Select(i => i < 60 ? 0L : 1L).ToArray();
        var sampler = new ClassAwareCrdNegativeSampler(labels, 9);
        var counts = new long[100];
        using var anchor = tensor(new long[] { 0 });
        for (var step = 0; step < 4000; step++)
        {
            using var drawn = sampler.Sample(anchor, 100, 10, step);
            foreach (var i in drawn.data<long>())
            {
                counts[i]++;
            }
        }

        counts.Take(60).Should().OnlyContain(c => c == 0);
        counts.Skip(60).Should().OnlyContain(c => c > 880 && c < 1120, "each of the 40 rows is drawn 1,000 +- 4.5 sd times");
    }

    [Fact]
    public void Bad_labels_and_arguments_are_rejected_before_native_code()
    {
        using var scope = NewDisposeScope();
        FluentActions.Invoking(() => new ClassAwareCrdNegativeSampler(Array.Empty<long>())).Should().Throw<ArgumentException>().WithParameterName("labels");
        FluentActions.Invoking(() => new ClassAwareCrdNegativeSampler(new long[] { 4, 4, 4 })).Should().Throw<ArgumentException>()
            .WithParameterName("labels").WithMessage("*other classes*");
        var sampler = new ClassAwareCrdNegativeSampler(Labels);
        FluentActions.Invoking(() => sampler.Sample(arange(4L), 13, 3, 0)).Should().Throw<ArgumentException>().WithParameterName("dataSize").WithMessage("*12 labels*13 rows*");
        FluentActions.Invoking(() => sampler.Sample(tensor(new long[] { 0, 12 }), 12, 3, 0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("positives");
        FluentActions.Invoking(() => sampler.Sample(arange(4L).reshape(2, 2), 12, 3, 0)).Should().Throw<ArgumentException>().WithParameterName("positives");
        FluentActions.Invoking(() => sampler.Sample(arange(4L), 12, 0, 0)).Should().Throw<ArgumentOutOfRangeException>();
    }

    private static long[][] ToRows(Tensor drawn, int k)
    {
        var values = drawn.data<long>().ToArray();
        return Enumerable.Range(0, values.Length / k).Select(b => values.Skip(b * k).Take(k).ToArray()).ToArray();
    }
}
