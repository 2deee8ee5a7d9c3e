using KnowledgeDistillation.Engine;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// The catalogue of methods: every method as a <see cref="DistillationRecipe"/> (its stages and evaluation models), ready for
/// <c>new Distiller(participants, recipe)</c>. Each method's file adds its recipe; the Graph package adds DualDE and CPF as
/// static extension members in this namespace (they resolve once the Graph package is referenced). A recipe is
/// built from the terms in <see cref="Loss"/>; single-stage methods also expose their objective there as a composable loss.
/// </summary>
public static partial class Recipes
{
    /// <summary>
    /// Hinton, Vinyals and Dean (2015), "Distilling the Knowledge in a Neural Network" (NIPS Deep Learning Workshop,
    /// arXiv 1503.02531): one stage of <see cref="Loss.Hinton"/>, <c>(1 − α) CE + α T² KL</c>, with a frozen teacher.
    /// </summary>
    /// <param name="temperature">Softmax temperature T &gt; 0.</param>
    /// <param name="alpha">Weight of the distillation term, in [0, 1].</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    public static DistillationRecipe Hinton(double temperature = 4.0, double alpha = 0.9, string student = "student", string teacher = "teacher") =>
        DistillationRecipe.FromLoss("kd", Loss.Hinton(temperature, alpha, student, teacher));

    /// <summary>
    /// Zhang, Xiang, Hospedales and Lu (2018), "Deep Mutual Learning" (CVPR): one stage of <see cref="Loss.MutualLearning"/>
    /// over a cohort of students, updated one peer after the other (the paper's Algorithm 1) by default.
    /// </summary>
    /// <param name="peers">The cohort's participant names: at least two, distinct.</param>
    /// <param name="temperature">Softmax temperature of the mutual term, T &gt; 0 (the paper: 1).</param>
    /// <param name="target">Each peer matches every other peer (default) or their mean distribution.</param>
    /// <param name="updateOrder">Sequential (Algorithm 1, default) or simultaneous updates.</param>
    public static DistillationRecipe MutualLearning(
        IReadOnlyList<string> peers,
        double temperature = 1.0,
        MutualLearningTarget target = MutualLearningTarget.PerPeer,
        ParticipantUpdateOrder updateOrder = ParticipantUpdateOrder.Sequential) =>
        DistillationRecipe.FromLoss("dml", Loss.MutualLearning(peers, temperature, target), updateOrder);

    /// <summary>A one-stage recipe of any objective (for a plain baseline: <c>Recipes.Of("ce", Loss.CrossEntropy())</c>).</summary>
    /// <param name="name">The method's name.</param>
    /// <param name="loss">The objective.</param>
    public static DistillationRecipe Of(string name, IDistillationLoss loss) => DistillationRecipe.FromLoss(name, loss);
}
