using KnowledgeDistillation.Engine;

namespace KnowledgeDistillation.Graph.KnowledgeGraphs;

/// <summary>
/// The names of DualDE's two stages (the recipe is <c>Recipes.DualDE</c>): stage 1 trains the student (and the soft-label
/// sigmoids) against a frozen teacher; stage 2 trains the student and the teacher together, each toward the other (the
/// paper's "dual influence").
/// </summary>
public static class DualDE
{
    /// <summary>The first stage's name.</summary>
    public const string Stage1 = "dualde-stage1";

    /// <summary>The second stage's name.</summary>
    public const string Stage2 = "dualde-stage2";

    /// <summary>Builds the stages (see <c>Recipes.DualDE</c>).</summary>
    /// <param name="weights">The soft-label sigmoids, shared by both stages.</param>
    /// <param name="stage1Epochs">Epochs of stage 1, &gt;= 1.</param>
    /// <param name="stage2Epochs">Epochs of stage 2, &gt;= 0 (0 = stage 1 only).</param>
    /// <param name="stage1Optimizer">Stage 1's optimiser, or <c>null</c> for the run's (the code: Adam, lr 1e-4).</param>
    /// <param name="stage2Optimizer">Stage 2's optimiser, or <c>null</c> for the run's (the code: Adam, lr 1e-5 for both models).</param>
    /// <param name="useStructure">Add the embedding-structure distance to d_soft.</param>
    /// <param name="adversarialTemperature">α of the self-adversarial weights, or <c>null</c>.</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    /// <returns>One or two stages.</returns>
    internal static IReadOnlyList<DistillationStage> Stages(
        DualDEWeights weights,
        int stage1Epochs,
        int stage2Epochs,
        OptimizerOptions? stage1Optimizer = null,
        OptimizerOptions? stage2Optimizer = null,
        bool useStructure = false,
        double? adversarialTemperature = 1.0,
        string student = "student",
        string teacher = "teacher")
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentOutOfRangeException.ThrowIfLessThan(stage1Epochs, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(stage2Epochs);
        var stages = new List<DistillationStage>
        {
            new(Stage1, new DualDELoss(weights, adjustTeacher: false, useStructure, adversarialTemperature, student: student, teacher: teacher))
            {
                Epochs = stage1Epochs,
                Trainable = new[] { student },
                Active = new[] { student, teacher },
                Optimizer = stage1Optimizer,
            },
        };
        if (stage2Epochs > 0)
        {
            stages.Add(new(Stage2, new DualDELoss(weights, adjustTeacher: true, useStructure, adversarialTemperature, student: student, teacher: teacher))
            {
                Epochs = stage2Epochs,
                Trainable = new[] { student, teacher },
                Active = new[] { student, teacher },
                Optimizer = stage2Optimizer,
            });
        }
        return stages;
    }
}
