using KnowledgeDistillation.Losses;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Recommendation;

/// <summary>
/// The rows of a batch's distinct users and items (<see cref="TopologyMath.BatchEntities"/>) in the teacher's (detached)
/// and the student's tables: what DE and HTD's group-assignment part read.
/// </summary>
/// <param name="TeacherUsers">Teacher rows of the batch's users [u, d_t], detached.</param>
/// <param name="TeacherItems">Teacher rows of the batch's items [i, d_t], detached.</param>
/// <param name="StudentUsers">Student rows of the batch's users [u, d_s].</param>
/// <param name="StudentItems">Student rows of the batch's items [i, d_s].</param>
internal readonly record struct BatchTables(Tensor TeacherUsers, Tensor TeacherItems, Tensor StudentUsers, Tensor StudentItems)
{
    /// <summary>Reads the rows from the step's outputs.</summary>
    public static BatchTables Of(DistillationContext context, string student, string teacher)
    {
        ArgumentNullException.ThrowIfNull(context);
        var (users, items) = TopologyMath.BatchEntities(context.Batch.Inputs);
        var s = context.Output(student);
        var t = context.Output(teacher);
        return new BatchTables(
            t.Feature(RecommenderParticipant.Users, teacher).index_select(0, users).detach(),
            t.Feature(RecommenderParticipant.Items, teacher).index_select(0, items).detach(),
            s.Feature(RecommenderParticipant.Users, student).index_select(0, users),
            s.Feature(RecommenderParticipant.Items, student).index_select(0, items));
    }

    /// <summary>The expert-distillation loss of the users' and of the items' rows (users first: the Gumbel noise order).</summary>
    public (Tensor Users, Tensor Items) ExpertLosses(DistillationExperts experts, double temperature) => (
        ExpertDistillation.Loss(experts, TeacherUsers, StudentUsers, users: true, temperature),
        ExpertDistillation.Loss(experts, TeacherItems, StudentItems, users: false, temperature));
}
