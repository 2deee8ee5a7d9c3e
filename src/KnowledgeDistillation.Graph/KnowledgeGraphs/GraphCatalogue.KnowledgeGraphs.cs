using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Graph.KnowledgeGraphs;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// The Graph package's terms in the catalogue, as C# 14 static extension members of <see cref="Loss"/> (its methods are in
/// <see cref="GraphRecipes"/>): a partial class of another assembly cannot be extended, an extension block can. They
/// live in the core's <c>KnowledgeDistillation.Losses</c> namespace, so <c>Loss.Cpf()</c> or <c>Recipes.DualDE(...)</c>
/// resolve wherever <c>Loss</c> does once this package is referenced.
/// </summary>
public static partial class GraphLosses
{
    extension(Loss)
    {
        /// <summary>
        /// DualDE's objective (Zhu et al. 2022, "DualDE: Dually Distilling Knowledge Graph Embedding for Faster and Cheaper
        /// Reasoning", WSDM, arXiv 2009.05912), stage 1 or 2. Reports "NAME" and "NAME.&lt;sub&gt;".
        /// </summary>
        /// <param name="weights">The soft-label sigmoids.</param>
        /// <param name="adjustTeacher">False for stage 1 (L_S only); true for stage 2 (L_S + L_T).</param>
        /// <param name="useStructure">Add the embedding-structure distance to d_soft.</param>
        /// <param name="adversarialTemperature">α &gt; 0 of the self-adversarial weights, or <c>null</c>.</param>
        /// <param name="trainWeights">Whether the engine trains the sigmoids.</param>
        /// <param name="student">The student's participant name.</param>
        /// <param name="teacher">The teacher's participant name.</param>
        /// <param name="name">Reporting name.</param>
        public static DualDELoss DualDE(
            DualDEWeights weights,
            bool adjustTeacher = false,
            bool useStructure = false,
            double? adversarialTemperature = 1.0,
            bool trainWeights = true,
            string student = "student",
            string teacher = "teacher",
            string name = "dualde") =>
            new(weights, adjustTeacher, useStructure, adversarialTemperature, trainWeights, student, teacher, name);

        /// <summary>
        /// Score distillation for KGE students (DualDE's d_score with constant weights; Zhu et al. 2022, "DualDE: Dually
        /// Distilling Knowledge Graph Embedding for Faster and Cheaper Reasoning", WSDM). Reports "NAME".
        /// </summary>
        /// <param name="student">The student's participant name.</param>
        /// <param name="teacher">The teacher's participant name.</param>
        /// <param name="adversarialTemperature">α &gt; 0 for pooling negatives, or <c>null</c>.</param>
        /// <param name="detachTeacher">Whether no gradient reaches the teacher.</param>
        /// <param name="name">Reporting name.</param>
        public static ScoreDistillationLoss ScoreDistillation(
            string student = "student", string teacher = "teacher", double? adversarialTemperature = 1.0, bool detachTeacher = true, string name = "score-kd") =>
            new(student, teacher, adversarialTemperature, detachTeacher, name);

        /// <summary>
        /// The self-adversarial negative-sampling loss (Sun et al. 2019, "RotatE: Knowledge Graph Embedding by Relational
        /// Rotation in Complex Space", ICLR): a KGE model's hard-label loss. Reports "NAME".
        /// </summary>
        /// <param name="participant">The participant whose scores are trained.</param>
        /// <param name="adversarialTemperature">α &gt; 0, or <c>null</c> for uniform weights.</param>
        /// <param name="name">Reporting name.</param>
        public static SelfAdversarialLoss SelfAdversarial(string participant = "student", double? adversarialTemperature = 1.0, string name = "hard") =>
            new(participant, adversarialTemperature, name);

        /// <summary>
        /// L3 regularisation of a KGE model's whole embedding tables, <c>λ(Σ|E|³ + Σ|R|³)</c>, as NeuralKG (and the DualDE code)
        /// adds it for ComplEx and DistMult. Reports "NAME".
        /// </summary>
        /// <param name="model">The regularised model.</param>
        /// <param name="weight">λ &gt; 0.</param>
        /// <param name="name">Reporting name.</param>
        public static EmbeddingL3Regularization EmbeddingL3(KgeModel model, double weight, string name = "l3") => new(model, weight, name);
    }
}

/// <summary>
/// The Graph package's methods in the catalogue, as C# 14 static extension members of <see cref="Recipes"/> (see
/// <see cref="GraphLosses"/>).
/// </summary>
public static partial class GraphRecipes
{
    extension(Recipes)
    {
        /// <summary>
        /// DualDE (Zhu et al. 2022, "DualDE: Dually Distilling Knowledge Graph Embedding for Faster and Cheaper Reasoning",
        /// WSDM, arXiv 2009.05912): stage <see cref="Graph.KnowledgeGraphs.DualDE.Stage1"/> trains the student (and the soft-label
        /// sigmoids) against the frozen teacher; stage <see cref="Graph.KnowledgeGraphs.DualDE.Stage2"/> trains both, each toward the other.
        /// </summary>
        /// <param name="weights">The soft-label sigmoids, shared by both stages.</param>
        /// <param name="stage1Epochs">Epochs of stage 1, &gt;= 1.</param>
        /// <param name="stage2Epochs">Epochs of stage 2, &gt;= 0 (0 = stage 1 only).</param>
        /// <param name="stage1Optimizer">Stage 1's optimiser, or <c>null</c> for the run's (the code: Adam, lr 1e-4).</param>
        /// <param name="stage2Optimizer">Stage 2's optimiser, or <c>null</c> for the run's (the code: Adam, lr 1e-5 for both models).</param>
        /// <param name="useStructure">Add the embedding-structure distance to d_soft.</param>
        /// <param name="adversarialTemperature">α of the self-adversarial weights, or <c>null</c>.</param>
        /// <param name="student">The student's participant name.</param>
        /// <param name="teacher">The teacher's participant name.</param>
        public static DistillationRecipe DualDE(
            DualDEWeights weights,
            int stage1Epochs,
            int stage2Epochs,
            OptimizerOptions? stage1Optimizer = null,
            OptimizerOptions? stage2Optimizer = null,
            bool useStructure = false,
            double? adversarialTemperature = 1.0,
            string student = "student",
            string teacher = "teacher") =>
            new("dualde", Graph.KnowledgeGraphs.DualDE.Stages(
                weights, stage1Epochs, stage2Epochs, stage1Optimizer, stage2Optimizer, useStructure, adversarialTemperature, student, teacher));
    }
}
