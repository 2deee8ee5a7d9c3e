using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.KnowledgeGraphs;

/// <summary>
/// A knowledge-graph embedding model: entity and relation embeddings plus a scoring function
/// f(h, r, t), higher = more plausible. <see cref="Score"/> takes index tensors that broadcast against each other
/// (e.g. heads [B, 1] against tails [B, N]); <see cref="ScoreAllTails"/> and <see cref="ScoreAllHeads"/> score every entity
/// for a batch of queries, with matrix products where the scoring function allows it.
/// </summary>
public abstract class KgeModel : nn.Module
{
    /// <summary>Entity embeddings [entities, <see cref="EntityWidth"/>].</summary>
    protected readonly Parameter entities;

    /// <summary>Relation embeddings [relations, <see cref="RelationWidth"/>].</summary>
    protected readonly Parameter relations;

    /// <summary>Creates the embeddings, initialised uniformly in [-initRange, initRange].</summary>
    /// <param name="name">The module name.</param>
    /// <param name="entityCount">The number of entities, &gt;= 1.</param>
    /// <param name="relationCount">The number of relations, &gt;= 1.</param>
    /// <param name="dimension">The embedding dimension, &gt;= 1 (complex models store 2 x dimension reals per entity).</param>
    /// <param name="entityWidth">Reals per entity row.</param>
    /// <param name="relationWidth">Reals per relation row.</param>
    /// <param name="initRange">Half-width of the uniform initialisation, &gt; 0.</param>
    protected KgeModel(string name, int entityCount, int relationCount, int dimension, int entityWidth, int relationWidth, double initRange)
        : base(name)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(entityCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(relationCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        if (!(initRange > 0) || double.IsInfinity(initRange))
        {
            throw new ArgumentOutOfRangeException(nameof(initRange), initRange, "'initRange' must be a finite number > 0.");
        }
        EntityCount = entityCount;
        RelationCount = relationCount;
        Dimension = dimension;
        entities = new Parameter(empty(entityCount, entityWidth).uniform_(-initRange, initRange));
        relations = new Parameter(empty(relationCount, relationWidth).uniform_(-initRange, initRange));
        RegisterComponents();
    }

    /// <summary>The number of entities.</summary>
    public int EntityCount { get; }

    /// <summary>The number of relations.</summary>
    public int RelationCount { get; }

    /// <summary>The embedding dimension (complex dimensions for ComplEx and RotatE).</summary>
    public int Dimension { get; }

    /// <summary>Reals per entity row.</summary>
    public long EntityWidth => entities.shape[1];

    /// <summary>Reals per relation row.</summary>
    public long RelationWidth => relations.shape[1];

    /// <summary>The entity embedding matrix [entities, <see cref="EntityWidth"/>].</summary>
    public Tensor EntityEmbeddings => entities;

    /// <summary>The relation embedding matrix [relations, <see cref="RelationWidth"/>].</summary>
    public Tensor RelationEmbeddings => relations;

    /// <summary>The number of embedding parameters.</summary>
    public long ParameterCount => parameters().Sum(p => p.numel());

    /// <summary>Scores triples given as int64 index tensors that broadcast against each other.</summary>
    /// <param name="heads">Head ids.</param>
    /// <param name="relationIds">Relation ids.</param>
    /// <param name="tails">Tail ids.</param>
    /// <returns>Scores with the broadcast shape of the three index tensors.</returns>
    /// <exception cref="ArgumentException">An index tensor is not int64.</exception>
    public Tensor Score(Tensor heads, Tensor relationIds, Tensor tails)
    {
        CheckIndices(heads, nameof(heads));
        CheckIndices(relationIds, nameof(relationIds));
        CheckIndices(tails, nameof(tails));
        return ScoreEmbeddings(Rows(entities, heads), Rows(relations, relationIds), Rows(entities, tails));
    }

    /// <summary>
    /// Scores negatives of a batch: (h, r, n) for each replacement tail n, or (n, r, t) when <paramref name="corruptHead"/>: [B, N].
    /// Bilinear models (<see cref="TailQuery"/> not null) use one batched matrix product instead of materialising [B, N, width] products.
    /// </summary>
    /// <param name="heads">Head ids [B].</param>
    /// <param name="relationIds">Relation ids [B].</param>
    /// <param name="tails">Tail ids [B].</param>
    /// <param name="negatives">Replacement entity ids [B, N].</param>
    /// <param name="corruptHead">True to replace heads, false to replace tails.</param>
    public Tensor ScoreNegatives(Tensor heads, Tensor relationIds, Tensor tails, Tensor negatives, bool corruptHead)
    {
        CheckIndices(heads, nameof(heads));
        CheckIndices(relationIds, nameof(relationIds));
        CheckIndices(tails, nameof(tails));
        CheckIndices(negatives, nameof(negatives));
        var r = Rows(relations, relationIds);
        var query = corruptHead ? HeadQuery(r, Rows(entities, tails)) : TailQuery(Rows(entities, heads), r);
        if (query is not null)
        {
            return bmm(Rows(entities, negatives), query.unsqueeze(2)).squeeze(2);
        }
        return corruptHead
            ? Score(negatives, relationIds.unsqueeze(1), tails.unsqueeze(1))
            : Score(heads.unsqueeze(1), relationIds.unsqueeze(1), negatives);
    }

    /// <summary>
    /// Scores negatives with one side per triple: row b replaces its head when <c>corruptHead[b]</c> is non-zero, its tail
    /// otherwise ([B, N]; <see cref="CorruptionMode.Bernoulli"/>). Bilinear models pick each row's query and use one batched
    /// matrix product; the others score the corrupted triples in one pass (the same work as the one-sided form).
    /// </summary>
    /// <param name="heads">Head ids [B].</param>
    /// <param name="relationIds">Relation ids [B].</param>
    /// <param name="tails">Tail ids [B].</param>
    /// <param name="negatives">Replacement entity ids [B, N].</param>
    /// <param name="corruptHead">Sides [B] (int64 or bool): non-zero replaces the head.</param>
    /// <exception cref="ArgumentException">An index tensor is not int64, or the sides are not a vector of B values.</exception>
    public Tensor ScoreNegatives(Tensor heads, Tensor relationIds, Tensor tails, Tensor negatives, Tensor corruptHead)
    {
        CheckIndices(heads, nameof(heads));
        CheckIndices(relationIds, nameof(relationIds));
        CheckIndices(tails, nameof(tails));
        CheckIndices(negatives, nameof(negatives));
        ArgumentNullException.ThrowIfNull(corruptHead);
        if (corruptHead.dim() != 1 || corruptHead.shape[0] != heads.shape[0] || (corruptHead.dtype != ScalarType.Int64 && corruptHead.dtype != ScalarType.Bool))
        {
            throw new ArgumentException(
                $"The per-triple sides must be an int64 or bool vector of {heads.shape[0]} values (one per triple); got {corruptHead.dtype} {Guard.Shape(corruptHead)}.",
                nameof(corruptHead));
        }

        var mask = corruptHead.dtype == ScalarType.Bool ? corruptHead : corruptHead.ne(0);
        var r = Rows(relations, relationIds);
        var tailQuery = TailQuery(Rows(entities, heads), r);
        if (tailQuery is not null)
        {
            var headQuery = HeadQuery(r, Rows(entities, tails))!;
            var query = where(mask.unsqueeze(1), headQuery, tailQuery);
            return bmm(Rows(entities, negatives), query.unsqueeze(2)).squeeze(2);
        }

        var rowMask = mask.unsqueeze(1);
        var corruptedHeads = where(rowMask, negatives, heads.unsqueeze(1));
        var corruptedTails = where(rowMask, tails.unsqueeze(1), negatives);
        return Score(corruptedHeads, relationIds.unsqueeze(1), corruptedTails);
    }

    /// <summary>For bilinear models, a vector q with f(h, r, e) = ⟨q, e⟩ for every tail e; <c>null</c> for other models.</summary>
    /// <param name="h">Head rows [.., width].</param>
    /// <param name="r">Relation rows [.., width].</param>
    protected virtual Tensor? TailQuery(Tensor h, Tensor r) => null;

    /// <summary>For bilinear models, a vector q with f(e, r, t) = ⟨q, e⟩ for every head e; <c>null</c> for other models.</summary>
    /// <param name="r">Relation rows [.., width].</param>
    /// <param name="t">Tail rows [.., width].</param>
    protected virtual Tensor? HeadQuery(Tensor r, Tensor t) => null;

    /// <summary>Scores (h, r, e) for every entity e: [queries, entities].</summary>
    /// <param name="heads">Head ids [Q].</param>
    /// <param name="relationIds">Relation ids [Q].</param>
    public virtual Tensor ScoreAllTails(Tensor heads, Tensor relationIds)
    {
        CheckIndices(heads, nameof(heads));
        CheckIndices(relationIds, nameof(relationIds));
        if (TailQuery(Rows(entities, heads), Rows(relations, relationIds)) is { } query)
        {
            return matmul(query, entities.t());
        }
        return Chunked(e => ScoreEmbeddings(Rows(entities, heads).unsqueeze(1), Rows(relations, relationIds).unsqueeze(1), e.unsqueeze(0)), heads.shape[0]);
    }

    /// <summary>Scores (e, r, t) for every entity e: [queries, entities].</summary>
    /// <param name="relationIds">Relation ids [Q].</param>
    /// <param name="tails">Tail ids [Q].</param>
    public virtual Tensor ScoreAllHeads(Tensor relationIds, Tensor tails)
    {
        CheckIndices(relationIds, nameof(relationIds));
        CheckIndices(tails, nameof(tails));
        if (HeadQuery(Rows(relations, relationIds), Rows(entities, tails)) is { } query)
        {
            return matmul(query, entities.t());
        }
        return Chunked(e => ScoreEmbeddings(e.unsqueeze(0), Rows(relations, relationIds).unsqueeze(1), Rows(entities, tails).unsqueeze(1)), tails.shape[0]);
    }

    /// <summary>The entity rows of <paramref name="ids"/> (whole rows; [Re; Im] for complex models): [.., <see cref="EntityWidth"/>].</summary>
    /// <param name="ids">Entity ids.</param>
    public Tensor EntityRows(Tensor ids)
    {
        CheckIndices(ids, nameof(ids));
        return Rows(entities, ids);
    }

    /// <summary>The scoring function on embedding rows that broadcast against each other (last dimension = row width).</summary>
    /// <param name="h">Head rows.</param>
    /// <param name="r">Relation rows.</param>
    /// <param name="t">Tail rows.</param>
    /// <returns>Scores with the broadcast shape minus the last dimension.</returns>
    public abstract Tensor ScoreEmbeddings(Tensor h, Tensor r, Tensor t);

    /// <summary>Gathers rows of <paramref name="table"/> for an index tensor of any shape.</summary>
    /// <param name="table">[rows, width].</param>
    /// <param name="ids">int64 ids.</param>
    protected static Tensor Rows(Tensor table, Tensor ids)
    {
        var shape = ids.shape.Append(table.shape[1]).ToArray();
        return table.index_select(0, ids.reshape(-1)).view(shape);
    }

    /// <summary>Evaluates <paramref name="score"/> on slices of the entity table so that at most about 2^24 values are materialised at once, and concatenates along entities.</summary>
    /// <param name="score">Maps entity rows [E', width] to scores [Q, E'].</param>
    /// <param name="queries">The number of queries Q.</param>
    protected Tensor Chunked(Func<Tensor, Tensor> score, long queries)
    {
        ArgumentNullException.ThrowIfNull(score);
        var chunk = Math.Max(1, (1L << 24) / Math.Max(1, queries * EntityWidth));
        var parts = new List<Tensor>();
        for (long start = 0; start < EntityCount; start += chunk)
        {
            var length = Math.Min(chunk, EntityCount - start);
            parts.Add(score(entities.narrow(0, start, length)));
        }
        return parts.Count == 1 ? parts[0] : cat(parts, 1);
    }

    private static void CheckIndices(Tensor ids, string name)
    {
        ArgumentNullException.ThrowIfNull(ids, name);
        if (ids.dtype != ScalarType.Int64)
        {
            throw new ArgumentException($"'{name}' must be int64 ids; got {ids.dtype} of shape {Guard.Shape(ids)}.", name);
        }
    }
}
