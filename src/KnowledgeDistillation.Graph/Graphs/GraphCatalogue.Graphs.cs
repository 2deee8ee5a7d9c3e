using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Graph.Graphs;

namespace KnowledgeDistillation.Losses;

public static partial class GraphLosses
{
    extension(Loss)
    {
        /// <summary>
        /// CPF's distillation term (Yang, Liu and Shi 2021, "Extract the Knowledge of Graph Neural Networks and Go Beyond it:
        /// An Effective Knowledge Distillation Framework", WWW, arXiv 2103.02885). Reports "cpf".
        /// </summary>
        /// <param name="student">The student's participant name.</param>
        /// <param name="teacher">The teacher's participant name.</param>
        /// <param name="labeledMask">The extras mask of the labelled nodes.</param>
        public static CpfLoss Cpf(string student = "student", string teacher = "teacher", string labeledMask = GraphBatchSource.TrainMask) =>
            new(student, teacher, labeledMask);

        /// <summary>
        /// Cross-entropy on the nodes of a mask, for training GNN teachers (the semi-supervised node classification of Kipf
        /// and Welling 2017, "Semi-Supervised Classification with Graph Convolutional Networks", ICLR). Reports "ce".
        /// </summary>
        /// <param name="participant">Whose logits to train.</param>
        /// <param name="mask">The extras mask of the trained nodes.</param>
        public static MaskedCrossEntropyLoss MaskedCrossEntropy(string participant = "teacher", string mask = GraphBatchSource.TrainMask) =>
            new(participant, mask);
    }
}

public static partial class GraphRecipes
{
    extension(Recipes)
    {
        /// <summary>
        /// CPF (Yang, Liu and Shi 2021, "Extract the Knowledge of Graph Neural Networks and Go Beyond it: An Effective
        /// Knowledge Distillation Framework", WWW, arXiv 2103.02885): one stage of <see cref="CpfLoss"/> distilling a frozen
        /// teacher's (stored) predictions into a <see cref="CpfStudent"/>. <see cref="GraphTraining.FitCpf"/> runs it with
        /// Adam, graph metrics and early stopping.
        /// </summary>
        /// <param name="student">The student's participant name.</param>
        /// <param name="teacher">The teacher's participant name.</param>
        /// <param name="labeledMask">The extras mask of the labelled nodes.</param>
        public static DistillationRecipe Cpf(string student = "student", string teacher = "teacher", string labeledMask = GraphBatchSource.TrainMask) =>
            DistillationRecipe.FromLoss("cpf", new CpfLoss(student, teacher, labeledMask));

        /// <summary>
        /// Trains a GNN teacher alone with masked cross-entropy (Kipf and Welling 2017, "Semi-Supervised Classification with
        /// Graph Convolutional Networks", ICLR).
        /// </summary>
        /// <param name="participant">The teacher's participant name.</param>
        /// <param name="mask">The extras mask of the trained nodes.</param>
        public static DistillationRecipe GnnTeacher(string participant = "teacher", string mask = GraphBatchSource.TrainMask) =>
            DistillationRecipe.FromLoss("gnn-teacher", new MaskedCrossEntropyLoss(participant, mask));
    }
}
