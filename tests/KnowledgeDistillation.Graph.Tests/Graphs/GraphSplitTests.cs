using FluentAssertions;
using KnowledgeDistillation.Graph.Graphs;
using Xunit;

namespace KnowledgeDistillation.Graph.Tests.Graphs;

public sealed class GraphSplitTests
{
    private static readonly long[] Labels = Enumerable.Range(0, 300).Select(i => (long)(i % 3)).ToArray();

    [Fact]
    public void Cpf_split_takes_20_and_30_per_class_and_the_rest_for_test()
    {
        var split = GraphSplit.Cpf(Labels, seed: 1);

        split.Train.Should().HaveCount(60);
        split.Validation.Should().HaveCount(90);
        split.Test.Should().HaveCount(150);
        split.Train.GroupBy(i => Labels[i]).Should().OnlyContain(g => g.Count() == 20);
        split.Validation.GroupBy(i => Labels[i]).Should().OnlyContain(g => g.Count() == 30);
        split.Train.Concat(split.Validation).Concat(split.Test).Should().OnlyHaveUniqueItems().And.HaveCount(300);
    }

    [Fact]
    public void Splits_are_a_pure_function_of_the_seed()
    {
        GraphSplit.Cpf(Labels, 5).Train.Should().Equal(GraphSplit.Cpf(Labels, 5).Train);
        GraphSplit.Cpf(Labels, 5).Train.Should().NotEqual(GraphSplit.Cpf(Labels, 6).Train);
    }

    [Fact]
    public void Standard_split_has_fixed_validation_and_test_sizes()
    {
        var split = GraphSplit.Standard(Labels, 0, trainPerClass: 20, validationCount: 50, testCount: 100);
        split.Train.Should().HaveCount(60);
        split.Validation.Should().HaveCount(50);
        split.Test.Should().HaveCount(100);
        split.Train.Concat(split.Validation).Concat(split.Test).Should().OnlyHaveUniqueItems();
    }

    [Fact]
    public void Too_small_classes_are_reported()
    {
        var act = () => GraphSplit.Cpf(new long[] { 0, 0, 1, 1 }, 0);
        act.Should().Throw<ArgumentException>().WithMessage("*Class 0 has 2 nodes*");
    }
}
