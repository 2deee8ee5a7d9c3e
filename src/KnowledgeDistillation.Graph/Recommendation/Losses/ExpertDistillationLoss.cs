using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Recommendation;

/// <summary>
/// DE, distillation experts (Kang et al. 2020, "DE-RRD: A Knowledge Distillation Framework for Recommender System", CIKM):
/// the student's rows of the batch's distinct users and items, mapped by Gumbel-softmax-selected experts, reconstruct the
/// teacher's rows (<see cref="ExpertDistillation"/>; the temperature follows <see cref="Annealing"/> over the stage's
/// epochs). The loss owns and trains the <see cref="DistillationExperts"/>; the teacher is detached. The Gumbel noise comes
/// from TorchSharp's generator (seeded and checkpointed by the engine). Reports "NAME" and "NAME.users", "NAME.items".
/// </summary>
public sealed class ExpertDistillationLoss : Losses.DistillationLoss
{
    private readonly nn.Module[] _modules;

    /// <summary>Creates the term.</summary>
    /// <param name="experts">The experts (trained by the engine as this loss's module).</param>
    /// <param name="annealing">The temperature schedule.</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    /// <param name="name">Reporting name (default "de").</param>
    public ExpertDistillationLoss(DistillationExperts experts, GumbelAnnealing annealing, string student = "student", string teacher = "teacher", string name = "de")
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(experts);
        ArgumentNullException.ThrowIfNull(annealing);
        ArgumentException.ThrowIfNullOrWhiteSpace(student);
        ArgumentException.ThrowIfNullOrWhiteSpace(teacher);
        Experts = experts;
        Annealing = annealing;
        Student = student;
        Teacher = teacher;
        _modules = new nn.Module[] { experts };
    }

    /// <summary>The experts.</summary>
    public DistillationExperts Experts { get; }

    /// <summary>The temperature schedule.</summary>
    public GumbelAnnealing Annealing { get; }

    /// <summary>The student's participant name.</summary>
    public string Student { get; }

    /// <summary>The teacher's participant name.</summary>
    public string Teacher { get; }

    /// <inheritdoc />
    public override IReadOnlyList<nn.Module> TrainableModules => _modules;

    /// <inheritdoc />
    public override LossRequirements Requirements => LossRequirements.None
        .Feature(Student, RecommenderParticipant.Users).Feature(Student, RecommenderParticipant.Items)
        .Feature(Teacher, RecommenderParticipant.Users).Feature(Teacher, RecommenderParticipant.Items);

    /// <inheritdoc />
    public override LossResult Compute(DistillationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var (userLoss, itemLoss) = BatchTables.Of(context, Student, Teacher).ExpertLosses(Experts, Annealing.At(context.Epoch));
        var total = userLoss + itemLoss;
        return new LossResult(total, new Dictionary<string, Tensor>
        {
            [Name] = total.detach(),
            [Name + ".users"] = userLoss.detach(),
            [Name + ".items"] = itemLoss.detach(),
        });
    }
}
