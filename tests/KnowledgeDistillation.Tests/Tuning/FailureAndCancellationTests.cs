using FluentAssertions;
using KnowledgeDistillation.Tuning;
using Microsoft.Extensions.Logging;
using Xunit;

namespace KnowledgeDistillation.Tests.Tuning;

public sealed class FailureAndCancellationTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("kd-search-").FullName;

    private string ResultsPath => Path.Combine(_directory, "search.jsonl");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private HyperparameterSearchOptions Options(int trials) => new() { MaxTrials = trials, Seed = 4, ResultsPath = ResultsPath };

    private int RecordedTrials() => File.ReadAllLines(ResultsPath).Length - 1;

    [Fact]
    public void Non_finite_scores_and_exceptions_are_recorded_as_failed_and_the_search_continues()
    {
        var logger = new RecordingLogger();
        var calls = new List<int>();
        double Objective(TrialParameters t, CancellationToken ct)
        {
            calls.Add(t.Index);
            return t.Index switch
            {
                1 => double.NaN,
                2 => throw new InvalidOperationException("diverged at epoch 3"),
                3 => double.PositiveInfinity,
                _ => ToySearch.Score(t),
            };
        }

        var result = new HyperparameterSearch(ToySearch.Space(), Options(6), logger).Run(Objective);

        calls.Should().Equal(0, 1, 2, 3, 4, 5);
        result.Trials.Select(t => t.Status).Should().Equal(
            TrialStatus.Completed, TrialStatus.Failed, TrialStatus.Failed, TrialStatus.Failed, TrialStatus.Completed, TrialStatus.Completed);
        result.Trials[1].Error.Should().Be("The objective returned NaN.");
        result.Trials[2].Error.Should().Be("InvalidOperationException: diverged at epoch 3");
        result.Trials[3].Error.Should().Be("The objective returned Infinity.");
        result.Trials.Where(t => t.Status == TrialStatus.Failed).Should().OnlyContain(t => t.Score == null);
        result.FailedTrials.Should().Be(3);
        result.CompletedTrials.Should().Be(3);
        result.Best!.Index.Should().BeOneOf(0, 4, 5);
        result.BestScore.Should().Be(new[] { 0, 4, 5 }.Max(i => result.Trials[i].Score!.Value));
        logger.Entries.Count(e => e.Level == LogLevel.Warning).Should().Be(3);
        logger.Entries.Should().Contain(e => e.Level == LogLevel.Warning && e.Message.Contains("diverged at epoch 3", StringComparison.Ordinal));
        RecordedTrials().Should().Be(6);
    }

    [Fact]
    public void Stop_on_error_records_the_failure_then_rethrows_the_original_exception()
    {
        var options = Options(6);
        options.StopOnError = true;
        var calls = 0;

        var act = () => new HyperparameterSearch(ToySearch.Space(), options).Run((t, _) =>
        {
            calls++;
            return t.Index == 2 ? throw new InvalidOperationException("bad trial") : 1.0;
        });

        act.Should().Throw<InvalidOperationException>().WithMessage("bad trial");
        calls.Should().Be(3);
        RecordedTrials().Should().Be(3);
        File.ReadAllLines(ResultsPath)[^1].Should().Contain("\"status\":\"failed\"").And.Contain("bad trial");
    }

    [Fact]
    public void No_trial_completed_means_no_best()
    {
        var result = new HyperparameterSearch(ToySearch.Space(), new HyperparameterSearchOptions { MaxTrials = 2 }).Run((_, _) => double.NaN);

        result.Best.Should().BeNull();
        result.BestParameters.Should().BeNull();
        result.BestScore.Should().BeNull();
        result.FailedTrials.Should().Be(2);
    }

    [Fact]
    public void Cancellation_inside_a_trial_propagates_and_records_nothing_of_that_trial()
    {
        using var cts = new CancellationTokenSource();
        var calls = new List<int>();

        var act = () => new HyperparameterSearch(ToySearch.Space(), Options(6)).Run(
            (t, ct) =>
            {
                calls.Add(t.Index);
                if (t.Index == 2)
                {
                    cts.Cancel();
                    ct.ThrowIfCancellationRequested();
                }

                return ToySearch.Score(t);
            },
            cts.Token);

        act.Should().Throw<OperationCanceledException>();
        calls.Should().Equal(0, 1, 2);
        RecordedTrials().Should().Be(2);

        var resumed = new ToySearch.Counting();
        new HyperparameterSearch(ToySearch.Space(), Options(6)).Run(resumed.Evaluate).Trials.Should().HaveCount(6);
        resumed.Calls.Should().Equal(2, 3, 4, 5);
    }

    [Fact]
    public void A_score_returned_after_cancellation_is_not_recorded()
    {
        using var cts = new CancellationTokenSource();

        var act = () => new HyperparameterSearch(ToySearch.Space(), Options(6)).Run(
            (t, _) =>
            {
                if (t.Index == 1)
                {
                    cts.Cancel(); // an objective that stops early and returns a partial score
                }

                return 1.0;
            },
            cts.Token);

        act.Should().Throw<OperationCanceledException>();
        RecordedTrials().Should().Be(1);
    }

    [Fact]
    public void An_exception_caused_by_cancellation_is_a_cancellation_but_an_unrelated_one_is_a_failure()
    {
        using var cts = new CancellationTokenSource();
        var search = new HyperparameterSearch(ToySearch.Space(), Options(3));

        var cancelled = () => search.Run(
            (t, _) =>
            {
                cts.Cancel();
                throw new IOException("stream closed by cancellation");
            },
            cts.Token);
        cancelled.Should().Throw<OperationCanceledException>();
        RecordedTrials().Should().Be(0);

        var result = search.Run((t, _) => t.Index == 0 ? throw new TaskCanceledException("HTTP timeout") : 1.0);
        result.Trials[0].Status.Should().Be(TrialStatus.Failed, "the search itself was not cancelled");
        result.Trials[0].Error.Should().Contain("HTTP timeout");
    }

    [Fact]
    public void An_already_cancelled_token_runs_nothing()
    {
        var calls = 0;
        var act = () => new HyperparameterSearch(ToySearch.Space(), Options(3)).Run((_, _) => ++calls, new CancellationToken(canceled: true));

        act.Should().Throw<OperationCanceledException>();
        calls.Should().Be(0);
        File.Exists(ResultsPath).Should().BeFalse();
    }

    [Fact]
    public void The_time_budget_stops_starting_new_trials()
    {
        var options = Options(100);
        options.TimeBudget = TimeSpan.FromMilliseconds(200);
        var calls = 0;

        var result = new HyperparameterSearch(ToySearch.Space(), options).Run((_, _) =>
        {
            calls++;
            Thread.Sleep(80);
            return 1.0;
        });

        result.StoppedByTimeBudget.Should().BeTrue();
        calls.Should().BeInRange(1, 10);
        result.Trials.Should().HaveCount(calls);
        result.WallTime.Should().BeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(200));
        RecordedTrials().Should().Be(calls);
    }

    [Fact]
    public async Task Async_and_interface_objectives_run_the_same_trials()
    {
        var space = ToySearch.Space();
        var options = new HyperparameterSearchOptions { MaxTrials = 10, Seed = 9 };

        var viaAsync = await new HyperparameterSearch(space, options).RunAsync(async (t, ct) =>
        {
            await Task.Yield();
            return ToySearch.Score(t);
        });
        var viaInterface = new HyperparameterSearch(space, options).Run(new ScoreObjective());

        viaAsync.Trials.Select(t => t.Score).Should().Equal(viaInterface.Trials.Select(t => t.Score));
        viaAsync.Best!.Index.Should().Be(viaInterface.Best!.Index);
    }

    private sealed class ScoreObjective : ITrialObjective
    {
        public double Evaluate(TrialParameters trial, CancellationToken cancellationToken) => ToySearch.Score(trial);
    }
}
