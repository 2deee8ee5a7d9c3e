using KnowledgeDistillation.Runtime;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.KnowledgeGraphs.Multilingual;

/// <summary>
/// KEnS ensemble inference for tail queries (h, r, ?) of a target language: every language's model answers through the
/// current alignment (h mapped to that language, its scores over the entities aligned back to the target; a model whose
/// language has no alignment for h gives no candidates), each model's top-k target entities are voted with the weights
/// of KEnS_m (all 1), KEnS_mrr (each model's validation MRR) or KEnS_b (entity-specific boosting on validation,
/// <see cref="EntityBoosting"/>), and Hits@1, Hits@10 and MRR are reported per target language.
/// <para>
/// Filter (as the paper's <c>filt_hits_at_n</c>): tail prediction only; for a query (h, r) the other tails of (h, r) in
/// the target's <b>training</b> triples are removed from every model's scores before its top-k is taken. Validation and
/// test tails are not filtered, because the official evaluation filters with the training set only (its
/// <c>hr2t_from_train_set</c>); the single-model row uses the same filter, so the rows compare like with like. (The
/// official code removes train tails after voting; removing them before each model's top-k keeps k real candidates per model.)
/// </para>
/// </summary>
public sealed class KensEvaluator
{
    private readonly MultilingualKnowledgeGraph _graph;
    private readonly IReadOnlyDictionary<string, KgeModel> _models;
    private readonly AlignmentState _alignments;
    private readonly Dictionary<string, KnownTriples> _known = new();
    private readonly Dictionary<(string, string), (int Version, SupportColumns? Columns)> _maps = new();

    /// <summary>Creates the evaluator.</summary>
    /// <param name="graph">The multilingual graph.</param>
    /// <param name="models">One trained model per language.</param>
    /// <param name="alignments">The alignments to answer through (after training: the grown ones of <see cref="AlignmentLoss.Alignments"/>).</param>
    /// <param name="k">Candidates per model (official code: 10).</param>
    /// <param name="batchSize">Queries scored at once.</param>
    public KensEvaluator(MultilingualKnowledgeGraph graph, IReadOnlyDictionary<string, KgeModel> models, AlignmentState? alignments = null, int k = 10, int batchSize = 256)
    {
        ArgumentNullException.ThrowIfNull(graph);
        MultilingualParticipants.CheckModels(graph, models);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        _graph = graph;
        _models = models;
        _alignments = alignments ?? new AlignmentState(graph);
        K = k;
        BatchSize = batchSize;
    }

    /// <summary>Candidates per model.</summary>
    public int K { get; }

    /// <summary>Queries per scoring batch.</summary>
    public int BatchSize { get; }

    /// <summary>Every model's filtered top-k candidates (as target ids) and full filtered rank of the true tail.</summary>
    /// <param name="target">The target language.</param>
    /// <param name="triples">Queries (h, r, t) of the target graph.</param>
    /// <param name="cancellationToken">Checked between batches.</param>
    /// <returns>The predictions; models are in <see cref="MultilingualKnowledgeGraph.Languages"/> order.</returns>
    public KensPredictions Predict(string target, IReadOnlyList<Triple> triples, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(triples);
        var graph = _graph[target];
        if (triples.Count == 0)
        {
            throw new ArgumentException("There are no triples to evaluate.", nameof(triples));
        }
        foreach (var t in triples)
        {
            if ((uint)t.Head >= (uint)graph.EntityCount || (uint)t.Tail >= (uint)graph.EntityCount || (uint)t.Relation >= (uint)graph.RelationCount)
            {
                throw new ArgumentException($"Triple {t} is outside '{target}' ({graph.EntityCount} entities, {graph.RelationCount} relations).", nameof(triples));
            }
        }
        var known = Known(target);
        MklCpuDispatch.Apply(); // MKL's fast kernels on AMD CPUs (KnowledgeDistillation.Runtime)
        var languages = _graph.Languages;
        var candidates = new long[triples.Count * languages.Count * K];
        var ranks = languages.Select(_ => new double[triples.Count]).ToArray();
        var maps = languages.Select(l => l == target ? null : Columns(target, l, graph.EntityCount)).ToArray();
        var wasTraining = _models.Values.Select(m => m.training).ToArray();
        foreach (var model in _models.Values)
        {
            model.eval();
        }
        try
        {
            PredictInto(graph.EntityCount, languages, maps, triples, known, candidates, ranks, cancellationToken);
        }
        finally
        {
            foreach (var (model, training) in _models.Values.Zip(wasTraining))
            {
                model.train(training);
            }
        }
        return new KensPredictions(target, graph.EntityCount, languages, triples, tensor(candidates, new long[] { triples.Count, languages.Count, K }), ranks);
    }

    private void PredictInto(int targetEntities, IReadOnlyList<string> languages, SupportColumns?[] maps, IReadOnlyList<Triple> triples,
        KnownTriples known, long[] candidates, double[][] ranks, CancellationToken cancellationToken)
    {
        using var noGrad = no_grad();
        for (var start = 0; start < triples.Count; start += BatchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var size = Math.Min(BatchSize, triples.Count - start);
            var batch = Enumerable.Range(start, size).Select(i => triples[i]).ToArray();
            for (var j = 0; j < languages.Count; j++)
            {
                var (top, rank) = ScoreModel(targetEntities, languages[j], maps[j], batch, known);
                for (var i = 0; i < size; i++)
                {
                    Array.Copy(top, i * K, candidates, ((long)(start + i) * languages.Count + j) * K, K);
                    ranks[j][start + i] = rank[i];
                }
            }
        }
    }

    /// <summary>The target's training tails per (h, r) (the filter), built once per target.</summary>
    private KnownTriples Known(string target)
    {
        if (!_known.TryGetValue(target, out var known))
        {
            var graph = _graph[target];
            _known[target] = known = new KnownTriples(graph.EntityCount, graph.RelationCount, graph.Train);
        }
        return known;
    }

    /// <summary>The alignment target → language as score columns, rebuilt only when the alignment state changed.</summary>
    private SupportColumns? Columns(string target, string language, int targetEntities)
    {
        if (!_maps.TryGetValue((target, language), out var cached) || cached.Version != _alignments.Version)
        {
            var map = _alignments.Between(target, language);
            _maps[(target, language)] = cached = (_alignments.Version, map is null ? null : SupportColumns.Of(map, targetEntities));
        }
        return cached.Columns;
    }

    /// <summary>
    /// One model's filtered top-k (as target ids, −1 where there is no candidate) and the filtered rank of each query's true
    /// tail (mean rank among ties; +∞ when the model cannot score it). A support model's scores are kept in its own column
    /// space, one column per aligned entity (the target's unaligned entities cannot be answered by it): the same ranking as
    /// scoring all target entities with −∞ for the unaligned ones, without building that [queries, target entities] matrix.
    /// </summary>
    private (long[] Top, double[] Ranks) ScoreModel(int targetEntities, string language, SupportColumns? columns, Triple[] batch, KnownTriples known)
    {
        var model = _models[language];
        var device = model.EntityEmbeddings.device;
        var size = batch.Length;
        var top = Enumerable.Repeat(-1L, size * K).ToArray();
        var ranks = Enumerable.Repeat(double.PositiveInfinity, size).ToArray();
        var heads = new List<long>(size);
        var relations = new List<long>(size);
        var kept = new List<int>(size);
        for (var i = 0; i < size; i++)
        {
            var head = batch[i].Head;
            if (columns is null || columns.Map.TryMapForward(head, out head))
            {
                heads.Add(head);
                relations.Add(batch[i].Relation);
                kept.Add(i);
            }
        }
        var rows = kept.ToArray();
        if (rows.Length == 0 || columns is { Map.Count: 0 })
        {
            return (top, ranks);
        }
        var scores = model.ScoreAllTails(tensor(heads.ToArray(), device: device), tensor(relations.ToArray(), device: device));
        var width = (long)targetEntities;
        if (columns is not null)
        {
            scores = scores.index_select(1, tensor(columns.SupportOfColumn, device: device)); // column c scores target entity TargetOfColumn[c]
            width = columns.SupportOfColumn.Length;
        }
        int Column(int entity) => columns is null ? entity : columns.ColumnOfTarget[entity];
        var filter = new List<long>();
        var tailColumns = new long[rows.Length];
        var scorable = new bool[rows.Length];
        for (var i = 0; i < rows.Length; i++)
        {
            var t = batch[rows[i]];
            var tailColumn = Column(t.Tail);
            scorable[i] = tailColumn >= 0;
            tailColumns[i] = Math.Max(tailColumn, 0);
            foreach (var e in known.Tails(t.Head, t.Relation))
            {
                if (e != t.Tail && Column(e) is var c && c >= 0)
                {
                    filter.Add(i * width + c);
                }
            }
        }
        if (filter.Count > 0)
        {
            scores.view(-1).index_fill_(0, tensor(filter.ToArray(), device: device), float.NegativeInfinity);
        }
        var k = (int)Math.Min(K, width);
        var (values, indices) = scores.topk(k, 1);
        var found = indices.where(values.isfinite(), -1L).cpu().data<long>().ToArray();
        // Mean rank among ties, 1 + #higher + (#equal − 1) / 2 = (1 + #higher + #(higher or equal)) / 2, and
        // #higher + #(higher or equal) = width + Σ sign(score − target score): one pass over the scores instead of two.
        var targetScore = scores.gather(1, tensor(tailColumns, device: device).unsqueeze(1));
        var signs = scores.sub(targetScore).sign_().sum(1, type: ScalarType.Float64);
        var rank = signs.add_(1 + width).div_(2).where(targetScore.squeeze(1).isfinite(), double.PositiveInfinity).cpu().data<double>().ToArray();
        for (var i = 0; i < rows.Length; i++)
        {
            for (var j = 0; j < k; j++)
            {
                var c = found[i * k + j];
                top[rows[i] * K + j] = c < 0 || columns is null ? c : columns.TargetOfColumn[c];
            }
            ranks[rows[i]] = scorable[i] ? rank[i] : double.PositiveInfinity;
        }
        return (top, ranks);
    }

    /// <summary>An alignment target → support language as score columns: column c is support entity <c>SupportOfColumn[c]</c>, aligned to target entity <c>TargetOfColumn[c]</c>.</summary>
    private sealed record SupportColumns(EntityAlignment Map, long[] SupportOfColumn, long[] TargetOfColumn, int[] ColumnOfTarget)
    {
        public static SupportColumns Of(EntityAlignment map, int targetEntities)
        {
            var support = new long[map.Count];
            var target = new long[map.Count];
            var columnOf = Enumerable.Repeat(-1, targetEntities).ToArray();
            for (var c = 0; c < map.Count; c++)
            {
                var (t, s) = map.Pairs[c];
                (target[c], support[c]) = (t, s);
                if (t < targetEntities)
                {
                    columnOf[t] = c;
                }
            }
            return new SupportColumns(map, support, target, columnOf);
        }
    }

    /// <summary>Learns the ensemble weights on validation predictions: per-model MRR (KEnS_mrr) and per-entity boosting (KEnS_b).</summary>
    /// <param name="validation">Predictions on the target's validation triples.</param>
    /// <param name="minTriples">Entities with at most this many validation triples keep weight 1.</param>
    /// <param name="rounds">Boosting rounds.</param>
    /// <returns>The weights.</returns>
    public static KensWeights LearnWeights(KensPredictions validation, int minTriples = EntityBoosting.DefaultMinTriples, int rounds = EntityBoosting.DefaultRounds)
    {
        ArgumentNullException.ThrowIfNull(validation);
        var models = validation.Languages.Count;
        var mrr = validation.Ranks.Select(r => r.Sum(x => 1 / x) / r.Length).ToArray();
        var lists = validation.Candidates.data<long>().ToArray();
        var k = (int)validation.Candidates.shape[2];
        var byEntity = new Dictionary<int, List<int>>();
        for (var i = 0; i < validation.Triples.Count; i++)
        {
            var t = validation.Triples[i];
            foreach (var e in t.Head == t.Tail ? new[] { t.Head } : new[] { t.Head, t.Tail })
            {
                (byEntity.TryGetValue(e, out var l) ? l : byEntity[e] = new List<int>()).Add(i);
            }
        }
        var entity = new Dictionary<int, double[]>();
        foreach (var (e, queries) in byEntity)
        {
            if (queries.Count <= minTriples)
            {
                continue;
            }
            var pairs = new List<sbyte[]>();
            foreach (var q in queries)
            {
                var perModel = Enumerable.Range(0, models).Select(j => lists.AsSpan((q * models + j) * k, k).ToArray()).ToArray();
                pairs.AddRange(EntityBoosting.Pairs(perModel, validation.Triples[q].Tail));
            }
            entity[e] = EntityBoosting.Learn(pairs, models, rounds);
        }
        return new KensWeights(validation.Languages, mrr, entity);
    }

    /// <summary>Single-model, KEnS_m, KEnS_mrr and KEnS_b metrics on test predictions.</summary>
    /// <param name="test">Predictions on the target's test triples.</param>
    /// <param name="weights">Weights learned on validation.</param>
    /// <returns>The report.</returns>
    public static KensReport Report(KensPredictions test, KensWeights weights)
    {
        ArgumentNullException.ThrowIfNull(test);
        ArgumentNullException.ThrowIfNull(weights);
        var models = test.Languages.Count;
        var targetIndex = test.Languages.ToList().IndexOf(test.Target);
        var entityCount = test.EntityCount;
        using var scope = NewDisposeScope();
        var targets = tensor(test.Triples.Select(t => (long)t.Tail).ToArray());
        // The target's own model first: it wins ties of equal votes (EnsembleScoring).
        var order = new[] { targetIndex }.Concat(Enumerable.Range(0, models).Where(j => j != targetIndex)).ToArray();
        var orderT = tensor(order.Select(j => (long)j).ToArray());
        var candidates = test.Candidates.index_select(1, orderT);
        double[] Vote(Tensor w) => EnsembleScoring.Ranks(candidates, w.index_select(w.dim() - 1, orderT), targets, entityCount).data<double>().ToArray();
        var perQuery = new double[test.Triples.Count * models];
        for (var i = 0; i < test.Triples.Count; i++)
        {
            var w = weights.ForEntity(test.Triples[i].Head);
            Array.Copy(w, 0, perQuery, i * models, models);
        }
        return new KensReport(
            test.Target,
            EnsembleScoring.Summarise(test.Ranks[targetIndex]),
            EnsembleScoring.Summarise(Vote(ones(models, ScalarType.Float64))),
            EnsembleScoring.Summarise(Vote(tensor(weights.Mrr.ToArray()))),
            EnsembleScoring.Summarise(Vote(tensor(perQuery, new long[] { test.Triples.Count, models }))));
    }

    /// <summary>Predicts validation and test, learns the weights and reports (the whole KEnS evaluation of one target).</summary>
    /// <param name="target">The target language.</param>
    /// <param name="cancellationToken">Checked between batches.</param>
    /// <returns>The report.</returns>
    public KensReport Evaluate(string target, CancellationToken cancellationToken = default)
    {
        var graph = _graph[target];
        KensWeights weights;
        using (var valid = Predict(target, graph.Valid, cancellationToken))
        {
            weights = LearnWeights(valid);
        }
        using var test = Predict(target, graph.Test, cancellationToken);
        return Report(test, weights);
    }
}
