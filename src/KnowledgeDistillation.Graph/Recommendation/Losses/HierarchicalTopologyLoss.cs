using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Recommendation;

/// <summary>How HTD's group-level topology is built (the official code's <c>choice</c>).</summary>
public enum GroupTopology
{
    /// <summary>Group(P, e) (the default, 'second'): cosines between every present group's prototype and every entity.</summary>
    PrototypeToEntity,

    /// <summary>Group(P, P) ('first'): cosines among the prototypes; both prototypes are detached, so this part has no gradient (as in the code).</summary>
    PrototypeToPrototype,
}

/// <summary>
/// HTD, hierarchical topology distillation (Kang et al. 2021, "Topology Distillation for Recommender System", KDD, Sec. 3.2):
/// <c>α L_TD + (1 − α) L_GA</c>. L_GA is <see cref="ExpertDistillation"/> over the batch's distinct users and items (the loss
/// owns and trains the experts; Gumbel temperature from <see cref="Annealing"/>). L_TD uses hard groups
/// <c>g(e) = argmax α_e</c> (items offset by K, no gradient), detached prototypes (group means of teacher and student rows),
/// the entity-level topology inside each group (same-group pairs whose teacher cosine is &gt; 0, as in the code, unless
/// <see cref="MaskNonPositive"/> is false) and the group-level topology (<see cref="GroupTopology"/>); all sums.
/// Reports "NAME", "NAME.entity", "NAME.group", "NAME.ga".
/// </summary>
public sealed class HierarchicalTopologyLoss : Losses.DistillationLoss
{
    private readonly nn.Module[] _modules;

    /// <summary>Creates the term.</summary>
    /// <param name="experts">The experts and selection networks (K = groups per entity type).</param>
    /// <param name="annealing">The Gumbel temperature schedule (the paper: 1 → 1e-10 over the run).</param>
    /// <param name="alpha">α in [0, 1] (the paper: 0.5).</param>
    /// <param name="groupTopology">Group(P, e) (default) or Group(P, P).</param>
    /// <param name="maskNonPositive">Drop same-group pairs whose teacher cosine is &lt;= 0 (the code's behaviour; default true).</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    /// <param name="name">Reporting name (default "htd").</param>
    public HierarchicalTopologyLoss(
        DistillationExperts experts,
        GumbelAnnealing annealing,
        double alpha = 0.5,
        GroupTopology groupTopology = GroupTopology.PrototypeToEntity,
        bool maskNonPositive = true,
        string student = "student",
        string teacher = "teacher",
        string name = "htd")
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(experts);
        ArgumentNullException.ThrowIfNull(annealing);
        Guard.InRange(alpha, 0, 1, nameof(alpha));
        if (!Enum.IsDefined(groupTopology))
        {
            throw new ArgumentOutOfRangeException(nameof(groupTopology), groupTopology, "Unknown group topology.");
        }
        ArgumentException.ThrowIfNullOrWhiteSpace(student);
        ArgumentException.ThrowIfNullOrWhiteSpace(teacher);
        Experts = experts;
        Annealing = annealing;
        Alpha = alpha;
        GroupLevel = groupTopology;
        MaskNonPositive = maskNonPositive;
        Student = student;
        Teacher = teacher;
        _modules = new nn.Module[] { experts };
    }

    /// <summary>The experts (K groups per entity type).</summary>
    public DistillationExperts Experts { get; }

    /// <summary>The temperature schedule.</summary>
    public GumbelAnnealing Annealing { get; }

    /// <summary>α.</summary>
    public double Alpha { get; }

    /// <summary>The group-level topology.</summary>
    public GroupTopology GroupLevel { get; }

    /// <summary>Whether same-group pairs with a teacher cosine &lt;= 0 are dropped.</summary>
    public bool MaskNonPositive { get; }

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

    /// <summary>L_TD's two parts for explicit rows and hard groups.</summary>
    /// <param name="teacher">Teacher rows [n, d_t].</param>
    /// <param name="student">Student rows [n, d_s].</param>
    /// <param name="groups">int64 group id of every row [n], in [0, groupCount).</param>
    /// <param name="groupCount">Number of possible groups (HTD: 2K).</param>
    /// <param name="groupTopology">Group(P, e) or Group(P, P).</param>
    /// <param name="maskNonPositive">Drop same-group pairs whose teacher cosine is &lt;= 0.</param>
    /// <returns>The entity-level and group-level sums.</returns>
    public static (Tensor Entity, Tensor Group) TopologyValue(
        Tensor teacher, Tensor student, Tensor groups, long groupCount, GroupTopology groupTopology = GroupTopology.PrototypeToEntity, bool maskNonPositive = true)
    {
        ArgumentNullException.ThrowIfNull(teacher);
        ArgumentNullException.ThrowIfNull(student);
        ArgumentNullException.ThrowIfNull(groups);
        Guard.BatchSize(student, teacher.shape[0], nameof(student));
        Guard.Rank(groups, 1, nameof(groups), "[n]");
        Guard.BatchSize(groups, teacher.shape[0], nameof(groups));
        ArgumentOutOfRangeException.ThrowIfLessThan(groupCount, 1);
        using var scope = NewDisposeScope();
        var z = nn.functional.one_hot(groups, groupCount).to_type(teacher.dtype);
        var sameGroup = z.matmul(z.t());
        var tSim = TopologyMath.Cosine(teacher, teacher);
        var sSim = TopologyMath.Cosine(student, student);
        var keep = maskNonPositive ? (tSim * sameGroup).gt(0).to_type(teacher.dtype) : sameGroup;
        var entity = ((sSim - tSim).pow(2) * keep).sum();

        Tensor pT, pS;
        using (no_grad())
        {
            var present = z.sum(dim: 0).gt(0).nonzero().reshape(-1);
            var weights = z.t();
            weights = weights / (weights.sum(1, keepdim: true) + 1e-10);
            pT = weights.matmul(teacher).index_select(0, present);
            pS = weights.matmul(student.detach()).index_select(0, present);
        }
        var group = groupTopology == GroupTopology.PrototypeToEntity
            ? (TopologyMath.Cosine(pS, student) - TopologyMath.Cosine(pT, teacher)).pow(2).sum()
            : (TopologyMath.Cosine(pS, pS) - TopologyMath.Cosine(pT, pT)).pow(2).sum();
        return (entity.MoveToOuterDisposeScope(), group.MoveToOuterDisposeScope());
    }

    /// <summary>The hard groups of the batch's entities: argmax of the selection networks, items offset by K.</summary>
    /// <param name="experts">The experts.</param>
    /// <param name="teacherUsers">Teacher rows of the users.</param>
    /// <param name="teacherItems">Teacher rows of the items.</param>
    public static Tensor Groups(DistillationExperts experts, Tensor teacherUsers, Tensor teacherItems)
    {
        ArgumentNullException.ThrowIfNull(experts);
        using var noGrad = no_grad();
        var u = experts.SelectionLogits(teacherUsers, users: true).argmax(1);
        var i = experts.SelectionLogits(teacherItems, users: false).argmax(1) + experts.Experts;
        return cat(new[] { u, i });
    }

    /// <inheritdoc />
    public override LossResult Compute(DistillationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var rows = BatchTables.Of(context, Student, Teacher);
        var (tUsers, tItems, sUsers, sItems) = rows;
        var (gaUsers, gaItems) = rows.ExpertLosses(Experts, Annealing.At(context.Epoch));
        var ga = gaUsers + gaItems;
        var (entity, group) = TopologyValue(
            cat(new[] { tUsers, tItems }), cat(new[] { sUsers, sItems }), Groups(Experts, tUsers, tItems), 2L * Experts.Experts, GroupLevel, MaskNonPositive);
        var total = Alpha * (entity + group) + (1 - Alpha) * ga;
        return new LossResult(total, new Dictionary<string, Tensor>
        {
            [Name] = total.detach(),
            [Name + ".entity"] = entity.detach(),
            [Name + ".group"] = group.detach(),
            [Name + ".ga"] = ga.detach(),
        });
    }
}
