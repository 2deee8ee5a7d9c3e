using System.Diagnostics;
using System.Runtime.ExceptionServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace KnowledgeDistillation.Tuning;

/// <summary>
/// Grid or random search over a <see cref="SearchSpace"/> for any scoring function, typically a <c>Distiller.Fit</c> run
/// scored on validation data:
/// <code>
/// var space = new SearchSpace().LogUniform("lr", 1e-3, 1).Categorical("hidden", 32, 64);
/// var search = new HyperparameterSearch(space, new HyperparameterSearchOptions { MaxTrials = 20, Seed = 1, ResultsPath = "search.jsonl" }, logger);
/// var result = search.Run((trial, ct) =>
/// {
///     Reproducibility.Seed(trial.Seed);
///     using var net = new Mlp(8, new[] { trial.GetInt("hidden") }, numClasses: 3);
///     // ... build the distiller with trial.GetDouble("lr") ...
///     return distiller.Fit(train, validation, ct).FinalMetric("student");
/// });
/// Console.WriteLine($"{result.BestParameters}: {result.BestScore}");
/// </code>
/// Every finished trial is appended to <see cref="HyperparameterSearchOptions.ResultsPath"/>; running the same search again
/// skips the trials recorded there (a longer random search continues with the same draws).
/// </summary>
public sealed class HyperparameterSearch
{
    private readonly SearchParameter[] _space;
    private readonly HyperparameterSearchOptions _options;
    private readonly ILogger _logger;

    /// <summary>Creates the search and checks the space and options for the chosen strategy (nothing runs yet).</summary>
    /// <param name="space">The parameters to explore (copied: declaring more later does not change this search).</param>
    /// <param name="options">Strategy, trials, seed, direction, budget and results file; read again by each run.</param>
    /// <param name="logger">Receives a line per trial, failures and resume warnings (default: none).</param>
    /// <exception cref="ArgumentException">The space is empty, an option is invalid, or grid search meets a parameter without a finite grid (the message names it).</exception>
    public HyperparameterSearch(SearchSpace space, HyperparameterSearchOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(space);
        ArgumentNullException.ThrowIfNull(options);
        _space = space.Parameters.ToArray();
        _options = options;
        _logger = logger ?? NullLogger.Instance;
        CreateGenerator();
    }

    /// <summary>The parameters explored, in declaration order.</summary>
    public IReadOnlyList<SearchParameter> Parameters => _space;

    /// <summary>The options (read at the start of every run).</summary>
    public HyperparameterSearchOptions Options => _options;

    /// <summary>The number of trials a run plans: <see cref="HyperparameterSearchOptions.MaxTrials"/>, or the grid's size (capped by it).</summary>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public int PlannedTrialCount => CreateGenerator().Planned(_options.MaxTrials);

    /// <summary>The configuration trial <paramref name="index"/> gets (the same in every run with the same space, strategy and seed).</summary>
    /// <param name="index">The trial's index: &gt;= 0, and below the grid's size for grid search.</param>
    /// <returns>The configuration.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is out of range.</exception>
    public TrialParameters Trial(int index) => CreateGenerator().Generate(index);

    /// <summary>The configurations a run plans, in trial order (lazily generated).</summary>
    /// <returns><see cref="PlannedTrialCount"/> configurations.</returns>
    public IEnumerable<TrialParameters> PlannedTrials()
    {
        var generator = CreateGenerator();
        var count = generator.Planned(_options.MaxTrials);
        return Enumerable.Range(0, count).Select(generator.Generate);
    }

    /// <summary>Runs the search: every planned trial that the results file does not already record, one after another.</summary>
    /// <param name="objective">Evaluates a configuration and returns its validation score.</param>
    /// <param name="cancellationToken">
    /// Stops the search: before the next trial, or inside one when the objective observes it. A trial that is cancelled, or
    /// whose objective returns after cancellation was requested, is not recorded; <see cref="OperationCanceledException"/> propagates.
    /// </param>
    /// <returns>Every trial (with those read from the results file), the best one and the budget used.</returns>
    /// <exception cref="ArgumentException">An option or the space is invalid for the strategy.</exception>
    /// <exception cref="InvalidOperationException">The results file was written by a different search.</exception>
    /// <exception cref="InvalidDataException">The results file is corrupt (other than a cut-off last line).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public SearchResult Run(Func<TrialParameters, CancellationToken, double> objective, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(objective);
        return RunCoreAsync((trial, ct) => new ValueTask<double>(objective(trial, ct)), cancellationToken).GetAwaiter().GetResult();
    }

    /// <summary>Runs the search with an <see cref="ITrialObjective"/>; see <see cref="Run(Func{TrialParameters, CancellationToken, double}, CancellationToken)"/>.</summary>
    /// <param name="objective">Evaluates a configuration and returns its validation score.</param>
    /// <param name="cancellationToken">Stops the search (nothing partial is recorded).</param>
    /// <returns>Every trial, the best one and the budget used.</returns>
    /// <exception cref="ArgumentException">An option or the space is invalid for the strategy.</exception>
    /// <exception cref="InvalidOperationException">The results file was written by a different search.</exception>
    /// <exception cref="InvalidDataException">The results file is corrupt (other than a cut-off last line).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public SearchResult Run(ITrialObjective objective, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(objective);
        return Run(objective.Evaluate, cancellationToken);
    }

    /// <summary>Runs the search with an asynchronous objective; see <see cref="Run(Func{TrialParameters, CancellationToken, double}, CancellationToken)"/>. Trials still run one at a time.</summary>
    /// <param name="objective">Evaluates a configuration and returns its validation score.</param>
    /// <param name="cancellationToken">Stops the search (nothing partial is recorded).</param>
    /// <returns>Every trial, the best one and the budget used.</returns>
    /// <exception cref="ArgumentException">An option or the space is invalid for the strategy.</exception>
    /// <exception cref="InvalidOperationException">The results file was written by a different search.</exception>
    /// <exception cref="InvalidDataException">The results file is corrupt (other than a cut-off last line).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public Task<SearchResult> RunAsync(Func<TrialParameters, CancellationToken, Task<double>> objective, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(objective);
        return RunCoreAsync((trial, ct) => new ValueTask<double>(objective(trial, ct)), cancellationToken);
    }

    private TrialGenerator CreateGenerator()
    {
        _options.Validate();
        return TrialGenerator.Create(_space, _options.Strategy, _options.Seed);
    }

    private async Task<SearchResult> RunCoreAsync(Func<TrialParameters, CancellationToken, ValueTask<double>> objective, CancellationToken ct)
    {
        var generator = CreateGenerator();
        var options = _options;
        var planned = generator.Planned(options.MaxTrials);
        ct.ThrowIfCancellationRequested();
        var clock = Stopwatch.StartNew();
        var trials = new SortedDictionary<int, TrialResult>();
        using var file = options.ResultsPath is { } path
            ? SearchResultsFile.Open(path, new SearchHeader(_space, options.Strategy, options.Seed, options.Direction), _logger)
            : null;
        if (file is not null)
        {
            Load(file, generator, trials);
        }

        var pending = Enumerable.Range(0, planned)
            .Where(i => !trials.TryGetValue(i, out var done) || (options.RetryFailed && done.Status == TrialStatus.Failed))
            .ToArray();
        _logger.LogInformation(
            "Hyper-parameter search ({Strategy}, seed {Seed}, {Direction}): {Planned} trial(s) planned, {Loaded} read from {Path}, {Pending} to run",
            options.Strategy,
            options.Seed,
            options.Direction,
            planned,
            trials.Count,
            options.ResultsPath ?? "(no results file)",
            pending.Length);

        TrialResult? best = null;
        foreach (var loaded in trials.Values)
        {
            best = Better(best, loaded, options.Direction);
        }

        var stoppedByBudget = false;
        for (var k = 0; k < pending.Length; k++)
        {
            if (options.TimeBudget is { } budget && clock.Elapsed >= budget)
            {
                stoppedByBudget = true;
                _logger.LogInformation("Time budget {Budget} used after {Elapsed}; {Remaining} trial(s) not started", budget, clock.Elapsed, pending.Length - k);
                break;
            }

            ct.ThrowIfCancellationRequested();
            var (result, error) = await RunTrialAsync(objective, generator.Generate(pending[k]), ct).ConfigureAwait(false);
            file?.Append(result);
            trials[result.Index] = result;
            best = Better(best, result, options.Direction);
            Report(result, best);
            if (error is not null && options.StopOnError)
            {
                error.Throw();
            }
        }

        return new SearchResult(trials.Values.ToArray(), options.Direction, options.Strategy, options.Seed, planned, clock.Elapsed, stoppedByBudget);
    }

    private static async Task<(TrialResult Result, ExceptionDispatchInfo? Error)> RunTrialAsync(
        Func<TrialParameters, CancellationToken, ValueTask<double>> objective,
        TrialParameters trial,
        CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        double score;
        try
        {
            score = await objective(trial, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            ct.ThrowIfCancellationRequested(); // failing because the search was cancelled is a cancellation, not a result
            var failed = new TrialResult(trial, TrialStatus.Failed, null, clock.Elapsed, $"{e.GetType().Name}: {e.Message}", fromResultsFile: false);
            return (failed, ExceptionDispatchInfo.Capture(e));
        }

        ct.ThrowIfCancellationRequested(); // a score produced while the search was being cancelled may be partial: not recorded
        var duration = clock.Elapsed;
        return double.IsFinite(score)
            ? (new TrialResult(trial, TrialStatus.Completed, score, duration, null, fromResultsFile: false), null)
            : (new TrialResult(trial, TrialStatus.Failed, null, duration, $"The objective returned {ParameterValue.Format(score)}.", fromResultsFile: false), null);
    }

    private void Load(SearchResultsFile file, TrialGenerator generator, SortedDictionary<int, TrialResult> trials)
    {
        foreach (var record in file.Recorded)
        {
            if (record.Index >= generator.Capacity)
            {
                throw new InvalidOperationException(
                    $"The results file '{file.FilePath}' (line {record.Line}) records trial {record.Index}, but this search has only {generator.Capacity} configurations; "
                    + "it was written by a different search. Use another ResultsPath.");
            }

            var expected = generator.Generate(record.Index);
            if (Decode(record, expected) is not { } recorded || !recorded.SameValues(expected))
            {
                throw new InvalidOperationException(
                    $"The results file '{file.FilePath}' (line {record.Line}) records trial {record.Index} with {record.Parameters.GetRawText()}, "
                    + $"but this search generates {expected} for trial {record.Index}: the file was written by a different search or edited. "
                    + "Use another ResultsPath (or delete the file) to start a new search.");
            }

            trials[record.Index] = new TrialResult(expected, record.Status, record.Score, TimeSpan.FromSeconds(record.Seconds), record.Error, fromResultsFile: true);
        }
    }

    private TrialParameters? Decode(RecordedTrial record, TrialParameters expected)
    {
        var names = record.Parameters.EnumerateObject().Select(p => p.Name).ToArray();
        if (!names.SequenceEqual(expected.Names, StringComparer.Ordinal))
        {
            return null;
        }

        var values = new object[_space.Length];
        for (var i = 0; i < _space.Length; i++)
        {
            if (!_space[i].TryRead(record.Parameters.GetProperty(_space[i].Name), out values[i]))
            {
                return null;
            }
        }

        return new TrialParameters(record.Index, expected.Seed, expected.Names, values);
    }

    private static TrialResult? Better(TrialResult? best, TrialResult candidate, OptimizationDirection direction)
    {
        if (candidate.Score is not { } score)
        {
            return best;
        }

        if (best is null || Improves(score, best.Score!.Value, direction))
        {
            return candidate;
        }

        return score == best.Score && candidate.Index < best.Index ? candidate : best; // ties: the lowest index, as SearchResult.Best
    }

    private static bool Improves(double score, double best, OptimizationDirection direction) =>
        direction == OptimizationDirection.Maximize ? score > best : score < best;

    private void Report(TrialResult result, TrialResult? best)
    {
        if (result.Status == TrialStatus.Failed || best is null)
        {
            _logger.LogWarning("Trial {Index} ({Parameters}) failed after {Seconds:F1} s: {Error}", result.Index, result.Parameters, result.Duration.TotalSeconds, result.Error);
            return;
        }

        _logger.LogInformation(
            "Trial {Index} ({Parameters}): {Score:G6} in {Seconds:F1} s; best so far {Best:G6} (trial {BestIndex})",
            result.Index,
            result.Parameters,
            result.Score,
            result.Duration.TotalSeconds,
            best.Score,
            best.Index);
    }
}
