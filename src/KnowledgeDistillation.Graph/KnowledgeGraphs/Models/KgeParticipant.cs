using KnowledgeDistillation.Data;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.KnowledgeGraphs;

/// <summary>
/// Wraps a <see cref="KgeModel"/> as a teacher or student of the engine. The forward reads a triple batch of
/// <see cref="TripleBatchSource"/> and returns features <see cref="PositiveScores"/> [B], <see cref="NegativeScores"/> [B, N],
/// and the entity rows <see cref="HeadRows"/> and <see cref="TailRows"/> [B, width] of the positive triples. For a query batch
/// of <see cref="QueryBatchSource"/> (1-N scoring) it adds <see cref="AllScores"/> [B, entities]: every entity as the
/// batch's queried slot.
/// </summary>
public static class KgeParticipant
{
    /// <summary>The feature holding the positive triples' scores [B].</summary>
    public const string PositiveScores = "pos";

    /// <summary>The feature holding the negative triples' scores [B, N].</summary>
    public const string NegativeScores = "neg";

    /// <summary>The feature holding every entity's score as the queried slot of a query batch [B, entities] (1-N scoring).</summary>
    public const string AllScores = "all";

    /// <summary>The feature holding the positive triples' head entity rows [B, width].</summary>
    public const string HeadRows = "head";

    /// <summary>The feature holding the positive triples' tail entity rows [B, width].</summary>
    public const string TailRows = "tail";

    /// <summary>Wraps a model as a student.</summary>
    /// <param name="model">The model (not owned).</param>
    /// <param name="name">The participant name (default "student").</param>
    public static Student Student(KgeModel model, string name = "student")
    {
        ArgumentNullException.ThrowIfNull(model);
        return KnowledgeDistillation.Student.Create(name, model, Forward(model));
    }

    /// <summary>Wraps a model as a teacher (frozen unless <paramref name="trainable"/>; a stage's <c>Trainable</c> list may still train it).</summary>
    /// <param name="model">The model (not owned).</param>
    /// <param name="name">The participant name (default "teacher").</param>
    /// <param name="trainable">Whether the teacher is trained in stages that do not list their trainable participants.</param>
    /// <param name="calibration">An affine map applied to every score the teacher outputs (positive, negative and 1-N
    /// scores), for example a <see cref="ScoreCalibration.Fit"/> of a teacher trained with 1-N scoring before a loss that
    /// reads its scores as sigmoid logits (DualDE); <c>null</c> = raw scores. Entity rows are unchanged.</param>
    public static Teacher Teacher(KgeModel model, string name = "teacher", bool trainable = false, ScoreCalibration? calibration = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var forward = Forward(model);
        if (calibration is { IsIdentity: false } map)
        {
            if (!double.IsFinite(map.Scale) || !double.IsFinite(map.Shift))
            {
                throw new ArgumentException($"'calibration' must be finite; got scale {map.Scale}, shift {map.Shift}.", nameof(calibration));
            }
            var raw = forward;
            forward = batch =>
            {
                var output = raw(batch);
                var features = new Dictionary<string, Tensor>(output.Features);
                foreach (var key in new[] { PositiveScores, NegativeScores, AllScores })
                {
                    if (features.TryGetValue(key, out var scores))
                    {
                        features[key] = map.Apply(scores);
                    }
                }
                return new ModelOutput(output.Logits, features);
            };
        }
        return KnowledgeDistillation.Teacher.Create(name, model, forward, trainable);
    }

    /// <summary>The forward function: scores of positive and negative triples plus the positive triples' entity rows.</summary>
    /// <param name="model">The model.</param>
    public static Func<Batch, ModelOutput> Forward(KgeModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return batch =>
        {
            var triples = batch.Inputs;
            if (triples.dim() != 2 || triples.shape[1] != 3 || triples.dtype != ScalarType.Int64)
            {
                throw new ArgumentException(
                    $"A knowledge-graph batch needs int64 inputs of shape [batch, 3] (head, relation, tail); got {triples.dtype} {Guard.Shape(triples)}.",
                    nameof(batch));
            }
            var h = triples.select(1, 0);
            var r = triples.select(1, 1);
            var t = triples.select(1, 2);
            var features = new Dictionary<string, Tensor>
            {
                [PositiveScores] = model.Score(h, r, t),
                [HeadRows] = model.EntityRows(h),
                [TailRows] = model.EntityRows(t),
            };
            if (batch.Extras.TryGetValue(TripleBatchSource.NegativesKey, out var negatives))
            {
                if (negatives.dim() != 2 || negatives.shape[0] != triples.shape[0])
                {
                    throw new ArgumentException(
                        $"Extra '{TripleBatchSource.NegativesKey}' must have shape [{triples.shape[0]}, negatives]; got {Guard.Shape(negatives)}.",
                        nameof(batch));
                }
                if (!batch.Extras.TryGetValue(TripleBatchSource.CorruptHeadKey, out var sides))
                {
                    features[NegativeScores] = model.ScoreNegatives(h, r, t, negatives, corruptHead: false);
                }
                else if (sides.numel() == 1 && triples.shape[0] != 1)
                {
                    features[NegativeScores] = model.ScoreNegatives(h, r, t, negatives, sides.item<long>() != 0); // one side for the batch
                }
                else
                {
                    features[NegativeScores] = model.ScoreNegatives(h, r, t, negatives, sides); // one side per triple (Bernoulli)
                }
            }
            if (batch.Extras.TryGetValue(QueryBatchSource.QuerySideKey, out var side))
            {
                if (side.numel() != 1)
                {
                    throw new ArgumentException($"Extra '{QueryBatchSource.QuerySideKey}' must hold one value (0 = tail queries, 1 = head queries); got shape {Guard.Shape(side)}.", nameof(batch));
                }

                features[AllScores] = side.item<long>() == 0 ? model.ScoreAllTails(h, r) : model.ScoreAllHeads(r, t);
            }

            return new ModelOutput(null, features);
        };
    }
}
