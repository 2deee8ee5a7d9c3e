using KnowledgeDistillation.Data;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Recommendation;

/// <summary>
/// Wraps a <see cref="RecommenderModel"/> as a teacher or student of the engine. The forward reads a BPR batch of
/// <see cref="BprBatchSource"/> (int64 [B, 3] user, positive, negative) and returns the final embedding tables as features
/// <see cref="Users"/> [U, d] and <see cref="Items"/> [I, d]; the terms gather the rows they need (the batch's triples,
/// its unique users and items, sampled ranking lists) from them.
/// </summary>
public static class RecommenderParticipant
{
    /// <summary>The feature holding the user table [U, d].</summary>
    public const string Users = "users";

    /// <summary>The feature holding the item table [I, d].</summary>
    public const string Items = "items";

    /// <summary>Wraps a model as a student.</summary>
    /// <param name="model">The model (not owned).</param>
    /// <param name="name">Participant name (default "student").</param>
    public static Student Student(RecommenderModel model, string name = "student")
    {
        ArgumentNullException.ThrowIfNull(model);
        return KnowledgeDistillation.Student.Create(name, model, Forward(model));
    }

    /// <summary>Wraps a model as a teacher (frozen unless <paramref name="trainable"/>).</summary>
    /// <param name="model">The model (not owned).</param>
    /// <param name="name">Participant name (default "teacher").</param>
    /// <param name="trainable">Whether the teacher is trained in stages that do not list their trainable participants.</param>
    public static Teacher Teacher(RecommenderModel model, string name = "teacher", bool trainable = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        return KnowledgeDistillation.Teacher.Create(name, model, Forward(model), trainable);
    }

    /// <summary>The forward function: checks the batch and returns the embedding tables.</summary>
    /// <param name="model">The model.</param>
    public static Func<Batch, ModelOutput> Forward(RecommenderModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return batch =>
        {
            CheckTriples(batch.Inputs, nameof(batch));
            var (users, items) = model.Embeddings();
            return new ModelOutput(null, new Dictionary<string, Tensor> { [Users] = users, [Items] = items });
        };
    }

    /// <summary>Checks that <paramref name="triples"/> is int64 [B, 3] (user, positive, negative).</summary>
    /// <param name="triples">The batch inputs.</param>
    /// <param name="paramName">Argument name for the exception.</param>
    public static Tensor CheckTriples(Tensor triples, string paramName)
    {
        ArgumentNullException.ThrowIfNull(triples);
        if (triples.dim() != 2 || triples.shape[1] != 3 || triples.dtype != ScalarType.Int64)
        {
            throw new ArgumentException(
                $"A recommendation batch needs int64 inputs of shape [batch, 3] (user, positive, negative); got {triples.dtype} {Guard.Shape(triples)}.",
                paramName);
        }
        return triples;
    }
}
