using KnowledgeDistillation.Engine;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// Flow of solution procedure (FSP; Yim, Joo, Bae and Kim, "A Gift from Knowledge Distillation: Fast Optimization, Network
/// Minimization and Transfer Learning", CVPR 2017): for each pair of consecutive layers (l, l + 1) of a participant, the FSP
/// matrix <c>G[b, j, i] = mean_hw F_{l+1}[b, j, hw] · F_l[b, i, hw]</c> (the larger map adaptively average-pooled to the
/// smaller), and the student matches the teacher's matrices: <c>Σ_l mean((G_s,l − G_t,l)²)</c>, as RepDistiller's
/// <c>distiller_zoo/FSP.py</c> computes it (its layout <c>[batch, C_{l+1}, C_l]</c>, the paper's transposed). Student and
/// teacher need equal channel counts layer by layer (there is no connector). Reports "NAME" and, with more than two
/// layers, "NAME.stage1", ... per layer pair (unweighted). RepDistiller trains it as an initialisation stage
/// (<see cref="Recipes.Fsp"/>).
/// </summary>
public sealed class FlowOfSolutionProcedureLoss : DistillationLoss
{
    /// <summary>Creates the term.</summary>
    /// <param name="layers">The layers, in network order, as student/teacher feature pairs: at least two.</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    /// <param name="detachTeacher">Whether no gradient flows into the teacher's features.</param>
    /// <param name="name">Reporting name (default "fsp").</param>
    /// <exception cref="ArgumentException">Fewer than two layers, a null layer, or a bad participant name.</exception>
    public FlowOfSolutionProcedureLoss(IReadOnlyList<FeaturePair> layers, string student = "student", string teacher = "teacher", bool detachTeacher = true, string name = "fsp")
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Count < 2 || layers.Any(l => l is null))
        {
            throw new ArgumentException($"FSP relates consecutive layers: it needs at least two (non-null) layers; got {layers.Count}.", nameof(layers));
        }

        Layers = layers.ToArray();
        Student = Guard.Name(student, nameof(student));
        Teacher = Guard.Name(teacher, nameof(teacher));
        DetachTeacher = detachTeacher;
    }

    /// <summary>The layers, in network order.</summary>
    public IReadOnlyList<FeaturePair> Layers { get; }

    /// <summary>The student's participant name.</summary>
    public string Student { get; }

    /// <summary>The teacher's participant name.</summary>
    public string Teacher { get; }

    /// <summary>Whether the teacher's features are detached.</summary>
    public bool DetachTeacher { get; }

    /// <inheritdoc />
    public override LossRequirements Requirements =>
        Layers.Aggregate(LossRequirements.None, (r, f) => r.Feature(Student, f.Student).Feature(Teacher, f.Teacher));

    /// <summary>
    /// The FSP matrix of two maps [batch, C_l, H, W] and [batch, C_{l+1}, H', W']: the larger map is adaptively average-pooled
    /// to the smaller's spatial size, then <c>G[b, j, i] = mean_hw top[b, j, hw] · bottom[b, i, hw]</c>, shape [batch, C_{l+1}, C_l].
    /// </summary>
    /// <param name="bottom">The earlier layer's map (rank 4).</param>
    /// <param name="top">The later layer's map (rank 4).</param>
    /// <exception cref="ArgumentException">A map is not rank 4, or batch sizes, dtypes or devices differ.</exception>
    public static Tensor Matrix(Tensor bottom, Tensor top)
    {
        ArgumentNullException.ThrowIfNull(bottom);
        ArgumentNullException.ThrowIfNull(top);
        Guard.Rank(bottom, 4, nameof(bottom), "[batch, channels, H, W]");
        Guard.Rank(top, 4, nameof(top), "[batch, channels, H, W]");
        FeatureDistillationLoss.CheckPair(bottom, nameof(bottom), top, nameof(top));
        var (b, t) = FeatureDistillationLoss.MatchSpatialSize(bottom, top);
        var batch = b.shape[0];
        var flatBottom = b.reshape(batch, b.shape[1], -1);
        var flatTop = t.reshape(batch, t.shape[1], -1);
        return matmul(flatTop, flatBottom.transpose(1, 2)) / flatBottom.shape[2];
    }

    /// <inheritdoc />
    public override LossResult Compute(DistillationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var studentOutput = context.Output(Student);
        var teacherOutput = context.Output(Teacher);
        var maps = Layers.Select(l =>
        {
            var studentWhat = $"feature '{l.Student}' of '{Student}'";
            var teacherWhat = $"feature '{l.Teacher}' of '{Teacher}'";
            var s = studentOutput.Feature(l.Student, Student);
            var t = teacherOutput.Feature(l.Teacher, Teacher);
            Guard.Rank(s, 4, studentWhat, "[batch, channels, H, W]");
            Guard.Rank(t, 4, teacherWhat, "[batch, channels, H, W]");
            FeatureDistillationLoss.CheckPair(s, studentWhat, t, teacherWhat);
            if (s.shape[1] != t.shape[1])
            {
                throw new ArgumentException(
                    $"FSP compares matrices of equal size, so each layer needs the same channel count on both sides (there is no connector): " +
                    $"{studentWhat} {Guard.Shape(s)} has {s.shape[1]} channels, {teacherWhat} {Guard.Shape(t)} has {t.shape[1]}.", studentWhat);
            }

            return (Student: s, Teacher: DetachTeacher ? t.detach() : t);
        }).ToArray();

        var stages = Enumerable.Range(0, maps.Length - 1)
            .Select(i => (Matrix(maps[i].Student, maps[i + 1].Student) - Matrix(maps[i].Teacher, maps[i + 1].Teacher)).pow(2).mean())
            .ToArray();
        var total = stages.Skip(1).Aggregate(stages[0], (sum, s) => sum + s);
        var parts = new Dictionary<string, Tensor> { [Name] = total };
        if (stages.Length > 1)
        {
            for (var i = 0; i < stages.Length; i++)
            {
                parts[$"{Name}.stage{i + 1}"] = stages[i].detach();
            }
        }

        return new LossResult(total, parts);
    }
}

public static partial class Loss
{
    /// <summary>
    /// Yim et al. (2017), "A Gift from Knowledge Distillation" (CVPR): the FSP term over consecutive layer pairs,
    /// <c>Σ_l mean((G_s,l − G_t,l)²)</c>. See <see cref="FlowOfSolutionProcedureLoss"/>; the method is <see cref="Recipes.Fsp"/>.
    /// </summary>
    /// <param name="layers">The layers in network order (at least two), as feature pairs.</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    /// <param name="name">Reporting name.</param>
    public static FlowOfSolutionProcedureLoss FlowOfSolutionProcedure(IReadOnlyList<FeaturePair> layers, string student = "student", string teacher = "teacher", string name = "fsp") =>
        new(layers, student, teacher, name: name);
}

public static partial class Recipes
{
    /// <summary>
    /// FSP as RepDistiller trains it: stage "fsp" trains the student on the FSP term alone (its layers up to the last compared
    /// one receive the gradient) for <paramref name="fspEpochs"/> epochs (RepDistiller's init stage: 30), then stage
    /// "distill" trains the student with <see cref="Loss.Hinton"/>. The teacher is frozen in both.
    /// </summary>
    /// <param name="layers">The layers in network order (at least two), as feature pairs.</param>
    /// <param name="fspEpochs">Epochs of the FSP stage, &gt;= 1.</param>
    /// <param name="temperature">KD temperature of the second stage.</param>
    /// <param name="alpha">Weight of the KD term in the second stage, in [0, 1].</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fspEpochs"/> is below 1.</exception>
    public static DistillationRecipe Fsp(
        IReadOnlyList<FeaturePair> layers, int fspEpochs = 30, double temperature = 4.0, double alpha = 0.9, string student = "student", string teacher = "teacher")
    {
        if (fspEpochs < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(fspEpochs), fspEpochs, "fspEpochs must be >= 1.");
        }

        return new DistillationRecipe("fsp", new[]
        {
            new DistillationStage("fsp", new FlowOfSolutionProcedureLoss(layers, student, teacher)) { Epochs = fspEpochs, Trainable = new[] { student } },
            new DistillationStage(DistillationRecipe.SingleStage, Loss.Hinton(temperature, alpha, student, teacher)),
        });
    }
}
