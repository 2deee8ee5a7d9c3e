using FluentAssertions;
using KnowledgeDistillation.Tuning;
using Xunit;

namespace KnowledgeDistillation.Tests.Tuning;

public sealed class SearchSpaceValidationTests
{
    [Fact]
    public void Bad_ranges_are_refused_with_the_parameter_name_and_the_expected_range()
    {
        var space = new SearchSpace();

        FluentActions.Invoking(() => space.Uniform("dropout", 0.5, 0.5)).Should().Throw<ArgumentOutOfRangeException>()
            .WithMessage("*'dropout'*low < high*[0.5, 0.5]*").Which.ParamName.Should().Be("high");
        FluentActions.Invoking(() => space.Uniform("dropout", double.NaN, 1)).Should().Throw<ArgumentOutOfRangeException>()
            .WithMessage("*'dropout'*finite*").Which.ParamName.Should().Be("low");
        FluentActions.Invoking(() => space.Uniform("dropout", 0, double.PositiveInfinity)).Should().Throw<ArgumentOutOfRangeException>()
            .WithMessage("*'dropout'*finite*").Which.ParamName.Should().Be("high");
        FluentActions.Invoking(() => space.LogUniform("lr", 0, 0.1)).Should().Throw<ArgumentOutOfRangeException>()
            .WithMessage("*'lr'*low > 0*[0, 0.1]*").Which.ParamName.Should().Be("low");
        FluentActions.Invoking(() => space.LogUniform("lr", 0.1, 1e-4)).Should().Throw<ArgumentOutOfRangeException>()
            .WithMessage("*'lr'*low < high*[0.1, 0.0001]*");
        FluentActions.Invoking(() => space.Integer("epochs", 50, 10)).Should().Throw<ArgumentOutOfRangeException>()
            .WithMessage("*'epochs'*low <= high*[50, 10]*");
        FluentActions.Invoking(() => space.Integer("width", 0, 512, log: true)).Should().Throw<ArgumentOutOfRangeException>()
            .WithMessage("*'width'*log*low >= 1*");
        FluentActions.Invoking(() => space.Uniform("x", 0, 1, gridPoints: 1)).Should().Throw<ArgumentOutOfRangeException>()
            .WithMessage("*'x'*gridPoints*[2, 100000]*").Which.ParamName.Should().Be("gridPoints");
        FluentActions.Invoking(() => space.Integer("k", 1, 10, gridPoints: 0)).Should().Throw<ArgumentOutOfRangeException>()
            .WithMessage("*'k'*gridPoints*");
        space.Parameters.Should().BeEmpty("a refused declaration adds nothing");
    }

    [Fact]
    public void Bad_names_and_categorical_lists_are_refused()
    {
        var space = new SearchSpace().Uniform("x", 0, 1);

        FluentActions.Invoking(() => space.Uniform("x", 0, 2)).Should().Throw<ArgumentException>().WithMessage("*'x'*declared twice*");
        FluentActions.Invoking(() => space.Uniform(" ", 0, 2)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("name");
        FluentActions.Invoking(() => space.Categorical("act", Array.Empty<string>())).Should().Throw<ArgumentException>()
            .WithMessage("*'act'*at least one value*");
        FluentActions.Invoking(() => space.Categorical("act", "relu", "gelu", "relu")).Should().Throw<ArgumentException>()
            .WithMessage("*'act'*relu*twice*");
        FluentActions.Invoking(() => space.Categorical("mixed", "none", 1, 1.0)).Should().Throw<ArgumentException>()
            .WithMessage("*'mixed'*twice*", "1 and 1.0 are the same choice");
        FluentActions.Invoking(() => space.Categorical("when", DateTime.UnixEpoch)).Should().Throw<ArgumentException>()
            .WithMessage("*'when'*DateTime*string, bool, int, long, float or double*");
        FluentActions.Invoking(() => space.Categorical("w", 0.1, double.NaN)).Should().Throw<ArgumentException>()
            .WithMessage("*'w'*NaN*finite*");
        FluentActions.Invoking(() => space.Categorical("s", "a", null!)).Should().Throw<ArgumentException>()
            .WithMessage("*'s'*null*");
        space.Parameters.Select(p => p.Name).Should().Equal("x");
    }

    [Fact]
    public void Categorical_overloads_keep_the_values_types()
    {
        var space = new SearchSpace()
            .Categorical("hidden", 64, 128)
            .Categorical("wd", 0.0, 5e-4)
            .Categorical("act", "relu", "gelu")
            .Categorical("bn", true, false)
            .Categorical("mixed", "none", 0.5, 3L);

        var values = space.Parameters.Cast<CategoricalParameter>().Select(p => p.Values.ToArray()).ToArray();
        values[0].Should().Equal(64, 128);
        values[1].Should().Equal(0.0, 5e-4);
        values[2].Should().Equal("relu", "gelu");
        values[3].Should().Equal(true, false);
        values[4].Should().Equal("none", 0.5, 3L);
        space.GridSize.Should().Be(2 * 2 * 2 * 2 * 3);
        space.ToString().Should().Be("hidden: categorical [64, 128]; wd: categorical [0, 0.0005]; act: categorical [relu, gelu]; bn: categorical [true, false]; mixed: categorical [none, 0.5, 3]");
    }

    [Fact]
    public void Options_and_strategy_problems_are_refused_before_anything_runs()
    {
        var calls = 0;
        double Objective(TrialParameters t, CancellationToken ct) => ++calls;

        FluentActions.Invoking(() => new HyperparameterSearch(new SearchSpace(), new HyperparameterSearchOptions { MaxTrials = 3 }))
            .Should().Throw<ArgumentException>().WithMessage("*empty*");
        FluentActions.Invoking(() => new HyperparameterSearch(new SearchSpace().Uniform("x", 0, 1), new HyperparameterSearchOptions()))
            .Should().Throw<ArgumentException>().WithMessage("*Random search needs MaxTrials*").Which.ParamName.Should().Be("MaxTrials");
        FluentActions.Invoking(() => new HyperparameterSearch(new SearchSpace().Uniform("x", 0, 1), new HyperparameterSearchOptions { MaxTrials = 0 }))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("MaxTrials");
        FluentActions.Invoking(() => new HyperparameterSearch(
                new SearchSpace().Uniform("x", 0, 1),
                new HyperparameterSearchOptions { MaxTrials = 2, TimeBudget = TimeSpan.Zero }))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("TimeBudget");
        FluentActions.Invoking(() => new HyperparameterSearch(
                new SearchSpace().Uniform("x", 0, 1),
                new HyperparameterSearchOptions { MaxTrials = 2, ResultsPath = " " }))
            .Should().Throw<ArgumentException>().Which.ParamName.Should().Be("ResultsPath");

        var continuous = new SearchSpace().Categorical("c", "a", "b").LogUniform("lr", 1e-4, 1e-1);
        FluentActions.Invoking(() => new HyperparameterSearch(continuous, new HyperparameterSearchOptions { Strategy = SearchStrategy.Grid }))
            .Should().Throw<ArgumentException>().WithMessage("*'lr'*log-uniform [0.0001, 0.1]*grid search needs an explicit number of grid points*gridPoints*");

        // Options changed after construction are checked again when the search runs, before the objective is called.
        var options = new HyperparameterSearchOptions { MaxTrials = 2 };
        var search = new HyperparameterSearch(continuous, options);
        options.Strategy = SearchStrategy.Grid;
        FluentActions.Invoking(() => search.Run(Objective)).Should().Throw<ArgumentException>().WithMessage("*'lr'*");
        calls.Should().Be(0);
    }

    [Fact]
    public void The_search_keeps_the_space_it_was_created_with()
    {
        var space = new SearchSpace().Uniform("x", 0, 1);
        var search = new HyperparameterSearch(space, new HyperparameterSearchOptions { MaxTrials = 1 });
        space.Uniform("y", 0, 1);

        search.Parameters.Select(p => p.Name).Should().Equal("x");
        search.Trial(0).Names.Should().Equal("x");
    }
}
