using FluentAssertions;
using KnowledgeDistillation.Tuning;
using Xunit;

namespace KnowledgeDistillation.Tests.Tuning;

public sealed class RandomSearchTests
{
    private static HyperparameterSearch Search(int seed, int trials, SearchSpace? space = null) =>
        new(space ?? ToySearch.Space(), new HyperparameterSearchOptions { Strategy = SearchStrategy.Random, Seed = seed, MaxTrials = trials });

    [Fact]
    public void Same_seed_gives_the_same_configurations_and_a_different_seed_different_ones()
    {
        var first = Search(7, 20).PlannedTrials().Select(t => t.ToString()).ToArray();
        var again = Search(7, 20).PlannedTrials().Select(t => t.ToString()).ToArray();
        var other = Search(8, 20).PlannedTrials().Select(t => t.ToString()).ToArray();

        again.Should().Equal(first);
        other.Should().NotIntersectWith(first);
        first.Distinct().Should().HaveCount(20);
        Search(7, 20).PlannedTrials().Select(t => t.Seed).Should().Equal(Search(7, 20).PlannedTrials().Select(t => t.Seed));
        Search(7, 20).PlannedTrials().Select(t => t.Seed).Should().NotEqual(Search(8, 20).PlannedTrials().Select(t => t.Seed));
    }

    [Fact]
    public void A_trial_configuration_does_not_depend_on_how_many_trials_ran_before()
    {
        var long_ = Search(7, 50).PlannedTrials().Select(t => t.ToString()).ToArray();

        Search(7, 5).PlannedTrials().Select(t => t.ToString()).Should().Equal(long_.Take(5));
        Search(7, 1).Trial(37).ToString().Should().Be(long_[37]);
        Search(7, 1).Trial(37).Seed.Should().Be(Search(7, 50).PlannedTrials().ElementAt(37).Seed);
    }

    [Fact]
    public void Log_uniform_samples_stay_in_range_and_are_uniform_in_log_space()
    {
        const int n = 4000;
        var space = new SearchSpace().LogUniform("lr", 1e-4, 1).Integer("width", 1, 999, log: true).Uniform("x", -2, 3).Integer("k", -3, 3);
        var trials = Search(11, n, space).PlannedTrials().ToArray();
        var lr = trials.Select(t => t.GetDouble("lr")).ToArray();
        var width = trials.Select(t => t.GetInt("width")).ToArray();
        var x = trials.Select(t => t.GetDouble("x")).ToArray();
        var k = trials.Select(t => t.GetInt("k")).ToArray();

        lr.Should().OnlyContain(v => v >= 1e-4 && v <= 1);
        width.Should().OnlyContain(v => v >= 1 && v <= 999);
        x.Should().OnlyContain(v => v >= -2 && v <= 3);
        k.Should().OnlyContain(v => v >= -3 && v <= 3);

        // Each decade holds a quarter of the draws (expected 1000, sd ~27: a bound of 150 is over 5 sd).
        var decades = lr.GroupBy(v => Math.Clamp((int)Math.Floor(Math.Log10(v)) + 4, 0, 3)).ToDictionary(g => g.Key, g => g.Count());
        decades.Keys.Should().BeEquivalentTo(new[] { 0, 1, 2, 3 });
        decades.Values.Should().OnlyContain(c => Math.Abs(c - (n / 4)) < 150);
        lr.Count(v => v < 1e-2).Should().BeInRange(1850, 2150, "half the draws lie below the middle decade (linear sampling would put 1 % there)");

        // log-scaled integers: each decade of [1, 1000) a third; every value of a small uniform range is hit.
        width.Count(v => v < 10).Should().BeInRange(1200, 1470);
        width.Count(v => v >= 100).Should().BeInRange(1200, 1470);
        k.Distinct().Should().BeEquivalentTo(new[] { -3, -2, -1, 0, 1, 2, 3 });
        x.Average().Should().BeApproximately(0.5, 0.1);
    }

    [Fact]
    public void Random_search_with_enough_trials_gets_near_the_optimum()
    {
        var objective = new ToySearch.Counting();

        var result = Search(3, 300).Run(objective.Evaluate);

        objective.Calls.Should().Equal(Enumerable.Range(0, 300));
        result.Trials.Should().HaveCount(300);
        result.BestParameters!.GetString("c").Should().Be("b");
        result.BestScore!.Value.Should().BeGreaterThan(-0.1);
        result.BestParameters.GetDouble("x").Should().BeApproximately(0.3, 0.35);
        Math.Log10(result.BestParameters.GetDouble("lr")).Should().BeApproximately(-2, 0.35);
        result.Best!.Score.Should().Be(result.Trials.Max(t => t.Score!.Value));
    }

    [Fact]
    public void Categorical_choices_are_equally_likely()
    {
        var trials = Search(2, 3000, new SearchSpace().Categorical("c", "a", "b", "c")).PlannedTrials();

        trials.GroupBy(t => t.GetString("c")).Select(g => g.Count()).Should().HaveCount(3).And.OnlyContain(c => Math.Abs(c - 1000) < 120);
    }
}
