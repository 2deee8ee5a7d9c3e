using KnowledgeDistillation.Engine;

namespace KnowledgeDistillation.Graph.Recommendation;

/// <summary>
/// Builds the single-stage recipes of the recommender methods (<c>Recipes.Bpr</c>, <c>Recipes.Ftd</c>, <c>Recipes.Htd</c>,
/// <c>Recipes.De</c>, <c>Recipes.Rrd</c>): the student's BPR loss plus λ times the term; the student trains, the teacher
/// runs frozen (when the term reads it).
/// </summary>
public static class RecommenderDistillation
{
    /// <summary>The paper's λ for FTD and HTD.</summary>
    public const double DefaultLambda = 1e-3;

    /// <summary>One stage: <c>bpr + λ term</c> (or BPR alone when <paramref name="term"/> is null).</summary>
    /// <param name="name">Stage and recipe name.</param>
    /// <param name="term">The distillation term, or <c>null</c>.</param>
    /// <param name="lambda">λ &gt;= 0.</param>
    /// <param name="epochs">Epochs, or <c>null</c> for the run's.</param>
    /// <param name="readsTeacher">Whether the term reads the teacher's outputs.</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    public static DistillationRecipe Recipe(
        string name, Losses.DistillationLoss? term, double lambda, int? epochs, bool readsTeacher, string student = "student", string teacher = "teacher")
    {
        Guard.NonNegative(lambda, nameof(lambda));
        if (epochs is { } e)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(e, 1, nameof(epochs));
        }
        Losses.DistillationLoss loss = new BprLoss(student);
        if (term is not null)
        {
            loss = loss + lambda * term;
        }
        var stage = new DistillationStage(name, loss)
        {
            Epochs = epochs,
            Trainable = new[] { student },
            Active = term is not null && readsTeacher ? new[] { student, teacher } : new[] { student },
        };
        return new DistillationRecipe(name, new[] { stage });
    }
}
