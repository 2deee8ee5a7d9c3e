using System.Text;
using System.Text.Json;
using FluentAssertions;
using KnowledgeDistillation.Tuning;
using Microsoft.Extensions.Logging;
using Xunit;

namespace KnowledgeDistillation.Tests.Tuning;

public sealed class ResumeTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("kd-search-").FullName;

    private string ResultsPath => Path.Combine(_directory, "runs", "search.jsonl");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private HyperparameterSearchOptions Options(int trials, int seed = 1, SearchStrategy strategy = SearchStrategy.Random) =>
        new() { Strategy = strategy, MaxTrials = trials, Seed = seed, ResultsPath = ResultsPath };

    [Fact]
    public void Resumed_search_runs_only_the_missing_trials_and_reports_the_best_over_all()
    {
        var first = new ToySearch.Counting();
        var five = new HyperparameterSearch(ToySearch.Space(), Options(5)).Run(first.Evaluate);
        first.Calls.Should().Equal(0, 1, 2, 3, 4);
        File.ReadAllLines(ResultsPath).Should().HaveCount(6, "a header and one line per trial");

        var second = new ToySearch.Counting();
        var eight = new HyperparameterSearch(ToySearch.Space(), Options(8)).Run(second.Evaluate);

        second.Calls.Should().Equal(5, 6, 7);
        eight.Trials.Select(t => t.Index).Should().Equal(Enumerable.Range(0, 8));
        eight.TrialsLoaded.Should().Be(5);
        eight.TrialsRun.Should().Be(3);
        eight.Trials.Take(5).Should().OnlyContain(t => t.FromResultsFile);
        var all = new HyperparameterSearch(ToySearch.Space(), new HyperparameterSearchOptions { MaxTrials = 8, Seed = 1 }).PlannedTrials().ToArray();
        eight.Trials.Select(t => t.Parameters.ToString()).Should().Equal(all.Select(t => t.ToString()), "loaded trials carry the same configurations");
        eight.Trials.Select(t => t.Score).Should().Equal(all.Select(t => (double?)ToySearch.Score(t)), "scores round-trip exactly");
        eight.Best!.Index.Should().Be(all.MaxBy(ToySearch.Score)!.Index);
        eight.Trials.Take(5).Select(t => t.Score).Should().Equal(five.Trials.Select(t => t.Score));
        eight.Trials.Take(5).Select(t => t.Duration).Should().Equal(five.Trials.Select(t => TimeSpan.FromSeconds(t.Duration.TotalSeconds)));

        var third = new ToySearch.Counting();
        var again = new HyperparameterSearch(ToySearch.Space(), Options(8)).Run(third.Evaluate);
        third.Calls.Should().BeEmpty("every trial is recorded");
        again.Best!.Index.Should().Be(eight.Best.Index);
        File.ReadAllLines(ResultsPath).Should().HaveCount(9);
    }

    [Fact]
    public void Every_line_is_one_json_object_with_the_documented_fields()
    {
        new HyperparameterSearch(ToySearch.Space(), Options(2, strategy: SearchStrategy.Grid)).Run((t, _) => t.Index == 1 ? double.NaN : ToySearch.Score(t));

        var lines = File.ReadAllLines(ResultsPath).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        lines[0].GetProperty("kind").GetString().Should().Be("hyperparameter-search");
        lines[0].GetProperty("strategy").GetString().Should().Be("grid");
        lines[0].GetProperty("seed").GetInt32().Should().Be(1);
        lines[0].GetProperty("direction").GetString().Should().Be("maximize");
        lines[0].GetProperty("space").EnumerateArray().Select(p => p.GetProperty("name").GetString()).Should().Equal("x", "lr", "c");
        lines[1].GetProperty("index").GetInt32().Should().Be(0);
        lines[1].GetProperty("parameters").GetProperty("c").GetString().Should().Be("a");
        lines[1].GetProperty("status").GetString().Should().Be("completed");
        lines[1].GetProperty("score").GetDouble().Should().BeApproximately(-5.09, 1e-12, "x=0, lr=1e-4, c=a");
        lines[1].GetProperty("seconds").GetDouble().Should().BeGreaterThanOrEqualTo(0);
        lines[1].GetProperty("error").ValueKind.Should().Be(JsonValueKind.Null);
        lines[2].GetProperty("status").GetString().Should().Be("failed");
        lines[2].GetProperty("score").ValueKind.Should().Be(JsonValueKind.Null);
        lines[2].GetProperty("error").GetString().Should().Contain("NaN");
    }

    [Fact]
    public void A_changed_seed_space_strategy_or_direction_is_refused_with_what_differs()
    {
        new HyperparameterSearch(ToySearch.Space(), Options(3)).Run(new ToySearch.Counting().Evaluate);
        var before = File.ReadAllText(ResultsPath);
        var calls = 0;
        double Objective(TrialParameters t, CancellationToken ct) => ++calls;

        FluentActions.Invoking(() => new HyperparameterSearch(ToySearch.Space(), Options(3, seed: 2)).Run(Objective))
            .Should().Throw<InvalidOperationException>().WithMessage("*different search*seed is 1, this search's is 2*another ResultsPath*");
        var wider = new SearchSpace().Uniform("x", 0, 2, gridPoints: 11).LogUniform("lr", 1e-4, 1, gridPoints: 5).Categorical("c", "a", "b", "c");
        FluentActions.Invoking(() => new HyperparameterSearch(wider, Options(3)).Run(Objective))
            .Should().Throw<InvalidOperationException>().WithMessage("*parameter 'x'*\"high\":1*\"high\":2*");
        var renamed = new SearchSpace().Uniform("x", 0, 1, gridPoints: 11).LogUniform("lr", 1e-4, 1, gridPoints: 5).Categorical("cat", "a", "b", "c");
        FluentActions.Invoking(() => new HyperparameterSearch(renamed, Options(3)).Run(Objective))
            .Should().Throw<InvalidOperationException>().WithMessage("*[x, lr, c]*[x, lr, cat]*");
        FluentActions.Invoking(() => new HyperparameterSearch(ToySearch.Space(), Options(3, strategy: SearchStrategy.Grid)).Run(Objective))
            .Should().Throw<InvalidOperationException>().WithMessage("*strategy is random, this search's is grid*");
        var minimize = Options(3);
        minimize.Direction = OptimizationDirection.Minimize;
        FluentActions.Invoking(() => new HyperparameterSearch(ToySearch.Space(), minimize).Run(Objective))
            .Should().Throw<InvalidOperationException>().WithMessage("*direction is maximize, this search's is minimize*");

        calls.Should().Be(0);
        File.ReadAllText(ResultsPath).Should().Be(before, "a refused search writes nothing");
    }

    [Fact]
    public void A_recorded_trial_that_this_search_would_not_generate_is_refused()
    {
        new HyperparameterSearch(ToySearch.Space(), Options(3)).Run(new ToySearch.Counting().Evaluate);
        var lines = File.ReadAllLines(ResultsPath);
        var edited = JsonDocument.Parse(lines[2]).RootElement;
        var x = edited.GetProperty("parameters").GetProperty("x").GetRawText();
        lines[2] = lines[2].Replace($"\"x\":{x}", "\"x\":0.123", StringComparison.Ordinal);
        File.WriteAllLines(ResultsPath, lines);

        var calls = 0;
        FluentActions.Invoking(() => new HyperparameterSearch(ToySearch.Space(), Options(5)).Run((_, _) => ++calls))
            .Should().Throw<InvalidOperationException>().WithMessage("*line 3*trial 1*0.123*generates x=*different search or edited*");
        calls.Should().Be(0);
    }

    [Fact]
    public void A_grid_index_beyond_the_grid_is_refused()
    {
        var options = Options(4, strategy: SearchStrategy.Grid);
        var small = new SearchSpace().Categorical("c", "a", "b", "c", "d");
        new HyperparameterSearch(small, options).Run((_, _) => 1);
        var lines = File.ReadAllLines(ResultsPath).ToList();
        lines.Add(lines[^1].Replace("\"index\":3", "\"index\":9", StringComparison.Ordinal));
        File.WriteAllLines(ResultsPath, lines);

        FluentActions.Invoking(() => new HyperparameterSearch(small, options).Run((_, _) => 1))
            .Should().Throw<InvalidOperationException>().WithMessage("*trial 9*only 4 configurations*");
    }

    [Fact]
    public void A_cut_off_last_line_is_ignored_with_a_warning_and_its_trial_runs_again()
    {
        new HyperparameterSearch(ToySearch.Space(), Options(3)).Run(new ToySearch.Counting().Evaluate);
        var complete = File.ReadAllLines(ResultsPath);
        File.AppendAllText(ResultsPath, "{\"index\":3,\"seed\":12,\"parameters\":{\"x\":0." + new string('1', 2000)); // longer than what follows
        var logger = new RecordingLogger();
        var objective = new ToySearch.Counting();

        var result = new HyperparameterSearch(ToySearch.Space(), Options(5), logger).Run(objective.Evaluate);

        objective.Calls.Should().Equal(3, 4);
        result.TrialsLoaded.Should().Be(3);
        logger.Entries.Should().Contain(e => e.Level == LogLevel.Warning && e.Message.Contains("line (5) is cut off", StringComparison.Ordinal));
        var lines = File.ReadAllLines(ResultsPath);
        lines.Should().HaveCount(6);
        lines.Take(4).Should().Equal(complete, "earlier lines are untouched");
        lines.Skip(1).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("index").GetInt32()).Should().Equal(0, 1, 2, 3, 4);
    }

    [Fact]
    public void A_complete_last_line_without_its_newline_is_kept()
    {
        new HyperparameterSearch(ToySearch.Space(), Options(2)).Run(new ToySearch.Counting().Evaluate);
        var text = File.ReadAllText(ResultsPath);
        File.WriteAllText(ResultsPath, text.TrimEnd('\n'));
        var objective = new ToySearch.Counting();

        new HyperparameterSearch(ToySearch.Space(), Options(3)).Run(objective.Evaluate).TrialsLoaded.Should().Be(2);

        objective.Calls.Should().Equal(2);
        File.ReadAllLines(ResultsPath).Skip(1).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("index").GetInt32()).Should().Equal(0, 1, 2);
    }

    [Fact]
    public void A_cut_off_header_starts_the_file_over_but_a_corrupt_earlier_line_is_an_error()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(ResultsPath)!);
        File.WriteAllText(ResultsPath, "{\"kind\":\"hyperparameter-se");
        new HyperparameterSearch(ToySearch.Space(), Options(2), new RecordingLogger()).Run(new ToySearch.Counting().Evaluate).TrialsRun.Should().Be(2);
        File.ReadAllLines(ResultsPath).Should().HaveCount(3);

        var lines = File.ReadAllLines(ResultsPath);
        lines[1] = lines[1][..10];
        File.WriteAllLines(ResultsPath, lines);
        FluentActions.Invoking(() => new HyperparameterSearch(ToySearch.Space(), Options(3)).Run(new ToySearch.Counting().Evaluate))
            .Should().Throw<InvalidDataException>().WithMessage("*line 2 is not a valid trial record*");

        File.WriteAllText(ResultsPath, "epoch,loss\n1,0.5\n");
        FluentActions.Invoking(() => new HyperparameterSearch(ToySearch.Space(), Options(3)).Run(new ToySearch.Counting().Evaluate))
            .Should().Throw<InvalidDataException>().WithMessage("*not a hyper-parameter search results file*");
        File.ReadAllText(ResultsPath).Should().Be("epoch,loss\n1,0.5\n", "a file that is not a search's is never overwritten");
    }

    [Fact]
    public void Failed_trials_are_kept_on_resume_unless_retry_failed_is_set()
    {
        new HyperparameterSearch(ToySearch.Space(), Options(4)).Run((t, _) => t.Index == 2 ? throw new InvalidOperationException("out of memory") : ToySearch.Score(t));

        var kept = new ToySearch.Counting();
        var resumed = new HyperparameterSearch(ToySearch.Space(), Options(4)).Run(kept.Evaluate);
        kept.Calls.Should().BeEmpty();
        resumed.Trials[2].Status.Should().Be(TrialStatus.Failed);
        resumed.Trials[2].Error.Should().Be("InvalidOperationException: out of memory");

        var retry = Options(4);
        retry.RetryFailed = true;
        var retried = new ToySearch.Counting();
        var result = new HyperparameterSearch(ToySearch.Space(), retry).Run(retried.Evaluate);
        retried.Calls.Should().Equal(2);
        result.Trials.Should().HaveCount(4).And.OnlyContain(t => t.Status == TrialStatus.Completed);

        var final = new HyperparameterSearch(ToySearch.Space(), Options(4)).Run(new ToySearch.Counting().Evaluate);
        final.Trials[2].Status.Should().Be(TrialStatus.Completed, "the later line supersedes the failed one");
        final.TrialsRun.Should().Be(0);
    }

    [Fact]
    public void Unicode_and_special_characters_in_values_round_trip()
    {
        var space = new SearchSpace().Categorical("name", "café \"quoted\"\n", "b\\c").Categorical("flag", true, false).Categorical("n", 1, 2);
        var options = Options(6, strategy: SearchStrategy.Grid);
        var first = new HyperparameterSearch(space, options).Run((t, _) => t.GetInt("n"));

        var calls = 0;
        var again = new HyperparameterSearch(space, options).Run((_, _) => ++calls);

        calls.Should().Be(0);
        again.Trials.Select(t => t.Parameters.ToString()).Should().Equal(first.Trials.Select(t => t.Parameters.ToString()));
        Encoding.UTF8.GetString(File.ReadAllBytes(ResultsPath)).Split('\n').Should().HaveCount(1 + 6 + 1, "escaped newlines stay inside their line");
    }
}
