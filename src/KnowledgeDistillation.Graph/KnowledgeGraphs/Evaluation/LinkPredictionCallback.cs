using KnowledgeDistillation.Engine;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace KnowledgeDistillation.Graph.KnowledgeGraphs;

/// <summary>
/// Evaluates a KGE model's filtered link prediction (typically validation MRR) after every <see cref="EveryEpochs"/>-th epoch of
/// <see cref="Distiller.Fit"/>, keeps the history and the best result, and optionally stops the run when the MRR has not improved for
/// <see cref="Patience"/> evaluations (DualDE's early stopping; note that stopping ends the whole run, later stages included).
/// </summary>
public sealed class LinkPredictionCallback : IDistillationCallback
{
    private readonly KgeModel _model;
    private readonly LinkPredictionEvaluator _evaluator;
    private readonly IReadOnlyList<Triple> _triples;
    private readonly ILogger _logger;
    private readonly List<(string Stage, int Epoch, LinkPredictionResult Result)> _history = new();
    private int _sinceBest;

    /// <summary>Creates the callback.</summary>
    /// <param name="model">The model to evaluate.</param>
    /// <param name="evaluator">The evaluator.</param>
    /// <param name="triples">The triples to rank (usually the validation split).</param>
    /// <param name="everyEpochs">Evaluate every this many epochs of each stage (and after its last), &gt;= 1.</param>
    /// <param name="patience">Stop after this many evaluations without a better MRR; <c>null</c> never stops.</param>
    /// <param name="logger">Receives one line per evaluation.</param>
    public LinkPredictionCallback(KgeModel model, LinkPredictionEvaluator evaluator, IReadOnlyList<Triple> triples, int everyEpochs = 1, int? patience = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(evaluator);
        ArgumentNullException.ThrowIfNull(triples);
        ArgumentOutOfRangeException.ThrowIfLessThan(everyEpochs, 1);
        if (patience is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(patience), patience, "'patience' must be >= 1 or null.");
        }
        _model = model;
        _evaluator = evaluator;
        _triples = triples;
        EveryEpochs = everyEpochs;
        Patience = patience;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Evaluation cadence in epochs.</summary>
    public int EveryEpochs { get; }

    /// <summary>Evaluations without improvement before stopping, or <c>null</c>.</summary>
    public int? Patience { get; }

    /// <summary>Every evaluation: stage, epoch within the stage, result.</summary>
    public IReadOnlyList<(string Stage, int Epoch, LinkPredictionResult Result)> History => _history;

    /// <summary>The evaluation with the highest MRR, or <c>null</c> before the first.</summary>
    public LinkPredictionResult? Best { get; private set; }

    /// <inheritdoc />
    public void OnEpochEnd(EpochRecord record, TrainingControl control)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(control);
        if ((record.Epoch + 1) % EveryEpochs != 0)
        {
            return;
        }
        var result = _evaluator.Evaluate(_model, _triples);
        _history.Add((record.Stage, record.Epoch, result));
        _logger.LogInformation("Stage {Stage} epoch {Epoch}: {Result}", record.Stage, record.Epoch + 1, result);
        if (Best is null || result.Mrr > Best.Mrr)
        {
            Best = result;
            _sinceBest = 0;
        }
        else if (Patience is { } patience && ++_sinceBest >= patience)
        {
            control.Stop($"validation MRR has not improved for {patience} evaluations (best {Best.Mrr:F4})");
        }
    }
}
