using KnowledgeDistillation.Engine;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.KnowledgeGraphs;

/// <summary>
/// Model selection for a KGE model on filtered link prediction (typically validation MRR) during <see cref="Distiller.Fit"/>:
/// evaluates after every <see cref="EveryEpochs"/>-th epoch of each stage (and after a stage's last epoch), keeps the history and
/// the best result, optionally keeps a copy of the best weights and loads them back when training ends
/// (<see cref="RestoreBest"/>), and optionally stops early when the MRR has not improved for <see cref="Patience"/> evaluations:
/// the whole run (<see cref="EarlyStopScope.Run"/>, the default) or only the current stage (<see cref="EarlyStopScope.Stage"/>,
/// so that DualDE's second stage still runs). The patience count restarts at every stage; the best result spans the run.
/// The selection is checkpointed with the run (<see cref="ILossState"/>: the best result, where it was, the patience count and
/// the copy of the best weights), so a resumed run selects exactly as the uninterrupted one; the history holds only this
/// process's evaluations.
/// </summary>
public sealed class LinkPredictionCallback : IDistillationCallback, ILossState, IDisposable
{
    private const string BestKey = "best";
    private const string BestStageKey = "best-stage";
    private const string BestEpochKey = "best-epoch";
    private const string SinceBestKey = "since-best";
    private const string WeightsPrefix = "weights/";

    private readonly KgeModel _model;
    private readonly LinkPredictionEvaluator _evaluator;
    private readonly IReadOnlyList<Triple> _triples;
    private readonly ILogger _logger;
    private readonly List<(string Stage, int Epoch, LinkPredictionResult Result)> _history = new();
    private readonly WeightSnapshot _best = new();
    private int _sinceBest;

    /// <summary>Creates the callback.</summary>
    /// <param name="model">The model to evaluate.</param>
    /// <param name="evaluator">The evaluator.</param>
    /// <param name="triples">The triples to rank (usually the validation split).</param>
    /// <param name="everyEpochs">Evaluate every this many epochs of each stage (and after its last), &gt;= 1.</param>
    /// <param name="patience">Stop after this many evaluations without a better MRR; <c>null</c> never stops.</param>
    /// <param name="logger">Receives one line per evaluation.</param>
    /// <param name="stopScope">What an early stop ends: the run (default) or the current stage.</param>
    /// <param name="restoreBest">Keep a copy of the weights at the best MRR and load it into the model when training ends.</param>
    /// <param name="name">The checkpoint key of the selection state, unique among the run's states (default "link-prediction").</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="everyEpochs"/> or <paramref name="patience"/> is below 1, or the scope is unknown.</exception>
    public LinkPredictionCallback(
        KgeModel model,
        LinkPredictionEvaluator evaluator,
        IReadOnlyList<Triple> triples,
        int everyEpochs = 1,
        int? patience = null,
        ILogger? logger = null,
        EarlyStopScope stopScope = EarlyStopScope.Run,
        bool restoreBest = false,
        string name = "link-prediction")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(evaluator);
        ArgumentNullException.ThrowIfNull(triples);
        ArgumentOutOfRangeException.ThrowIfLessThan(everyEpochs, 1);
        if (patience is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(patience), patience, "'patience' must be >= 1 or null.");
        }

        if (!Enum.IsDefined(stopScope))
        {
            throw new ArgumentOutOfRangeException(nameof(stopScope), stopScope, "Use EarlyStopScope.Run or EarlyStopScope.Stage.");
        }

        _model = model;
        _evaluator = evaluator;
        _triples = triples;
        EveryEpochs = everyEpochs;
        Patience = patience;
        StopScope = stopScope;
        RestoresBest = restoreBest;
        Name = name;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Evaluation cadence in epochs.</summary>
    public int EveryEpochs { get; }

    /// <summary>Evaluations without improvement before stopping, or <c>null</c>.</summary>
    public int? Patience { get; }

    /// <summary>What an early stop ends.</summary>
    public EarlyStopScope StopScope { get; }

    /// <summary>Whether the best weights are kept and loaded back when training ends.</summary>
    public bool RestoresBest { get; }

    /// <summary>Every evaluation: stage, epoch within the stage, result.</summary>
    public IReadOnlyList<(string Stage, int Epoch, LinkPredictionResult Result)> History => _history;

    /// <summary>The evaluation with the highest MRR (the first of equal ones), or <c>null</c> before the first.</summary>
    public LinkPredictionResult? Best { get; private set; }

    /// <summary>The stage and epoch (within the stage, from 0) of <see cref="Best"/>, or <c>null</c>.</summary>
    public (string Stage, int Epoch)? BestAt { get; private set; }

    /// <inheritdoc />
    public void OnStageStart(DistillationStage stage)
    {
        ArgumentNullException.ThrowIfNull(stage);
        _sinceBest = 0;
    }

    /// <summary>Keeps the patience count restored from the checkpoint (the stage had begun before the stop).</summary>
    /// <param name="stage">The stage.</param>
    public void OnStageResumed(DistillationStage stage)
    {
    }

    /// <inheritdoc />
    public void OnEpochEnd(EpochRecord record, TrainingControl control)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(control);
        var lastOfStage = record.StageEpochs > 0 && record.Epoch == record.StageEpochs - 1;
        if ((record.Epoch + 1) % EveryEpochs != 0 && !lastOfStage)
        {
            return;
        }

        var result = _evaluator.Evaluate(_model, _triples);
        _history.Add((record.Stage, record.Epoch, result));
        _logger.LogInformation("Stage {Stage} epoch {Epoch}: {Result}", record.Stage, record.Epoch + 1, result);
        if (Best is null || result.Mrr > Best.Mrr)
        {
            Best = result;
            BestAt = (record.Stage, record.Epoch);
            _sinceBest = 0;
            if (RestoresBest)
            {
                _best.Capture(_model);
            }
        }
        else if (Patience is { } patience && ++_sinceBest >= patience)
        {
            var reason = $"validation MRR has not improved for {patience} evaluations (best {Best.Mrr:F4})";
            if (StopScope == EarlyStopScope.Stage)
            {
                control.StopStage(reason);
            }
            else
            {
                control.Stop(reason);
            }
        }
    }

    /// <inheritdoc />
    public void OnFitEnd(FitResult result)
    {
        if (RestoresBest)
        {
            RestoreBest();
        }
    }

    /// <summary>Loads the kept best weights into the model (no-op when none were kept).</summary>
    public void RestoreBest()
    {
        if (_best.Restore(_model))
        {
            _logger.LogInformation("Restored the weights of {Stage} epoch {Epoch} (validation MRR {Mrr:F4})", BestAt!.Value.Stage, BestAt.Value.Epoch + 1, Best!.Mrr);
        }
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, Tensor> Export()
    {
        var state = new Dictionary<string, Tensor> { [SinceBestKey] = tensor(new long[] { _sinceBest }) };
        if (Best is { } best && BestAt is { } at)
        {
            state[BestKey] = tensor(new[] { best.Mrr, best.MeanRank, best.Hits1, best.Hits3, best.Hits10, best.Queries });
            state[BestStageKey] = tensor(System.Text.Encoding.UTF8.GetBytes(at.Stage));
            state[BestEpochKey] = tensor(new long[] { at.Epoch });
        }

        _best.ExportTo(state, WeightsPrefix);

        return state;
    }

    /// <inheritdoc />
    public void Import(IReadOnlyDictionary<string, Tensor> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (!state.TryGetValue(SinceBestKey, out var since) || since.numel() != 1)
        {
            throw new InvalidDataException($"The link-prediction state '{Name}' has no '{SinceBestKey}' count.");
        }

        var hasBest = state.TryGetValue(BestKey, out var best);
        if (hasBest != (state.ContainsKey(BestStageKey) && state.ContainsKey(BestEpochKey)) || (hasBest && best!.numel() != 6))
        {
            throw new InvalidDataException($"The link-prediction state '{Name}' has an incomplete best result.");
        }

        _best.ImportFrom(state, WeightsPrefix, _model, Name); // checks every tensor before replacing the copy
        _sinceBest = (int)since.to_type(ScalarType.Int64).item<long>();
        if (hasBest)
        {
            var v = best!.to_type(ScalarType.Float64).data<double>().ToArray();
            Best = new LinkPredictionResult(v[0], v[1], v[2], v[3], v[4], (long)v[5]);
            BestAt = (System.Text.Encoding.UTF8.GetString(state[BestStageKey].data<byte>().ToArray()), (int)state[BestEpochKey].item<long>());
        }
        else
        {
            Best = null;
            BestAt = null;
        }
    }

    /// <summary>Frees the kept copy of the best weights.</summary>
    public void Dispose() => _best.Dispose();
}
