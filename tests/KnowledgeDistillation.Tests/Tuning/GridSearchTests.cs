using FluentAssertions;
using KnowledgeDistillation.Tuning;
using Xunit;

namespace KnowledgeDistillation.Tests.Tuning;

public sealed class GridSearchTests
{
    [Fact]
    public void Grid_is_the_full_cartesian_product_with_the_last_parameter_varying_fastest()
    {
        var space = new SearchSpace()
            .Categorical("c", "a", "b")
            .Integer("k", 1, 3)
            .Uniform("x", 0, 1, gridPoints: 2);
        var search = new HyperparameterSearch(space, new HyperparameterSearchOptions { Strategy = SearchStrategy.Grid });

        var trials = search.PlannedTrials().ToArray();

        search.PlannedTrialCount.Should().Be(12);
        space.GridSize.Should().Be(12);
        trials.Select(t => t.Index).Should().Equal(Enumerable.Range(0, 12));
        trials.Select(t => t.ToString()).Should().Equal(
            "c=a, k=1, x=0", "c=a, k=1, x=1", "c=a, k=2, x=0", "c=a, k=2, x=1", "c=a, k=3, x=0", "c=a, k=3, x=1",
            "c=b, k=1, x=0", "c=b, k=1, x=1", "c=b, k=2, x=0", "c=b, k=2, x=1", "c=b, k=3, x=0", "c=b, k=3, x=1");
        trials.Select(t => t.Seed).Distinct().Should().HaveCount(12, "every trial gets its own seed");
        search.PlannedTrials().Select(t => t.ToString()).Should().Equal(trials.Select(t => t.ToString()), "the order is deterministic");
    }

    [Fact]
    public void Grid_points_are_spaced_evenly_geometrically_or_by_integer_steps()
    {
        var space = new SearchSpace()
            .Uniform("x", -1, 1, gridPoints: 5)
            .LogUniform("lr", 1e-4, 1, gridPoints: 5)
            .Integer("epochs", 10, 50, gridPoints: 5)
            .Integer("width", 16, 256, log: true, gridPoints: 5)
            .Integer("k", 1, 4);

        double[] Grid(int i) => Enumerable.Range(0, (int)space.Parameters[i].GridSize!.Value).Select(j => GridValue(space, i, j)).ToArray();

        Grid(0).Should().Equal(-1, -0.5, 0, 0.5, 1);
        Grid(1).Should().Equal(1e-4, 1e-3, 1e-2, 1e-1, 1);
        Grid(2).Should().Equal(10, 20, 30, 40, 50);
        Grid(3).Should().Equal(16, 32, 64, 128, 256);
        Grid(4).Should().Equal(1, 2, 3, 4);
        new SearchSpace().Integer("small", 1, 3, gridPoints: 10).GridSize.Should().Be(3, "a grid never repeats an integer");
    }

    [Fact]
    public void Grid_search_finds_the_exact_grid_optimum()
    {
        var objective = new ToySearch.Counting();
        var search = new HyperparameterSearch(ToySearch.Space(), new HyperparameterSearchOptions { Strategy = SearchStrategy.Grid, Seed = 5 });

        var result = search.Run(objective.Evaluate);

        objective.Calls.Should().Equal(Enumerable.Range(0, 165));
        result.Trials.Should().HaveCount(165);
        result.TrialsRun.Should().Be(165);
        result.TrialsLoaded.Should().Be(0);
        result.CompletedTrials.Should().Be(165);
        result.PlannedTrials.Should().Be(165);
        result.Strategy.Should().Be(SearchStrategy.Grid);
        result.Seed.Should().Be(5);
        var brute = search.PlannedTrials().MaxBy(ToySearch.Score)!;
        result.Best!.Index.Should().Be(brute.Index);
        result.BestParameters!.GetString("c").Should().Be("b");
        result.BestParameters.GetDouble("x").Should().BeApproximately(0.3, 1e-12);
        result.BestParameters.GetDouble("lr").Should().Be(0.01, "the decade grid hits 1e-2 exactly");
        result.BestScore.Should().BeApproximately(0, 1e-20);
    }

    [Fact]
    public void Minimize_picks_the_smallest_score_and_max_trials_caps_the_grid()
    {
        var search = new HyperparameterSearch(
            ToySearch.Space(),
            new HyperparameterSearchOptions { Strategy = SearchStrategy.Grid, Direction = OptimizationDirection.Minimize, MaxTrials = 30 });

        var result = search.Run((t, _) => -ToySearch.Score(t));

        result.Trials.Select(t => t.Index).Should().Equal(Enumerable.Range(0, 30));
        result.Best!.Score.Should().Be(result.Trials.Min(t => t.Score!.Value));
        result.Direction.Should().Be(OptimizationDirection.Minimize);
    }

    private static double GridValue(SearchSpace space, int parameter, int point)
    {
        // A one-parameter grid search over that parameter lists its grid points in order.
        var single = new SearchSpace();
        _ = space.Parameters[parameter] switch
        {
            UniformParameter u => single.Uniform(u.Name, u.Low, u.High, u.GridPoints),
            LogUniformParameter l => single.LogUniform(l.Name, l.Low, l.High, l.GridPoints),
            IntegerParameter i => single.Integer(i.Name, i.Low, i.High, i.Log, i.GridPoints),
            _ => throw new InvalidOperationException(),
        };
        return new HyperparameterSearch(single, new HyperparameterSearchOptions { Strategy = SearchStrategy.Grid }).Trial(point).GetDouble(space.Parameters[parameter].Name);
    }
}
