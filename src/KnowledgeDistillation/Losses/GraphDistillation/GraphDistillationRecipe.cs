using KnowledgeDistillation.Engine;

namespace KnowledgeDistillation.Losses;

public static partial class Loss
{
    /// <summary>
    /// Zhang and Peng (IJCAI 2018, arXiv 1804.10069), graph distillation from several teachers:
    /// <c>L = CE + λ_l · L_logits + λ_r · L_rep</c>. Either graph may be left out (null) for the ablations; at least one is given.
    /// Parts "ce" and the terms'.
    /// </summary>
    /// <param name="logitsGraph">The logits graph term (<see cref="LogitsGraph"/>), or null.</param>
    /// <param name="representationGraph">The representation graph term (<see cref="RepresentationGraph"/>), or null.</param>
    /// <param name="logitsWeight">λ_l &gt;= 0.</param>
    /// <param name="representationWeight">λ_r &gt;= 0.</param>
    /// <exception cref="ArgumentException">Both terms are null, or they name different students.</exception>
    public static DistillationLoss GraphDistillation(LogitsGraphLoss? logitsGraph, RepresentationGraphLoss? representationGraph, double logitsWeight = 1.0, double representationWeight = 1.0)
    {
        Guard.NonNegative(logitsWeight, nameof(logitsWeight));
        Guard.NonNegative(representationWeight, nameof(representationWeight));
        if (logitsGraph is null && representationGraph is null)
        {
            throw new ArgumentException("Graph distillation needs the logits graph, the representation graph or both.", nameof(logitsGraph));
        }

        if (logitsGraph is not null && representationGraph is not null && logitsGraph.Student != representationGraph.Student)
        {
            throw new ArgumentException($"The graphs name different students: '{logitsGraph.Student}' and '{representationGraph.Student}'.", nameof(representationGraph));
        }

        DistillationLoss total = new CrossEntropyLoss(logitsGraph?.Student ?? representationGraph!.Student);
        if (logitsGraph is not null)
        {
            total = total + (logitsWeight * logitsGraph);
        }

        if (representationGraph is not null)
        {
            total = total + (representationWeight * representationGraph);
        }

        return total;
    }
}

public static partial class Recipes
{
    /// <summary>
    /// Graph distillation (Zhang and Peng, IJCAI 2018): one stage of <see cref="Loss.GraphDistillation"/> with frozen teachers (give
    /// every teacher as a frozen participant named as in the terms). Name "graph-distillation", "graph-distillation-logits" or
    /// "graph-distillation-representation" after the graphs given. The averaged multi-teacher baseline is
    /// <see cref="MultiTeacher"/> with <see cref="TeacherWeighting.Average"/>.
    /// </summary>
    /// <param name="logitsGraph">The logits graph term, or null.</param>
    /// <param name="representationGraph">The representation graph term, or null.</param>
    /// <param name="logitsWeight">λ_l &gt;= 0.</param>
    /// <param name="representationWeight">λ_r &gt;= 0.</param>
    public static DistillationRecipe GraphDistillation(LogitsGraphLoss? logitsGraph, RepresentationGraphLoss? representationGraph, double logitsWeight = 1.0, double representationWeight = 1.0)
    {
        var loss = Loss.GraphDistillation(logitsGraph, representationGraph, logitsWeight, representationWeight);
        var name = logitsGraph is null ? "graph-distillation-representation" : representationGraph is null ? "graph-distillation-logits" : "graph-distillation";
        return DistillationRecipe.FromLoss(name, loss);
    }
}
