using KnowledgeDistillation.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// Activation boundaries (AB; Heo, Lee, Yun and Choi, "Knowledge Transfer via Distillation of Activation Boundaries Formed by
/// Hidden Neurons", AAAI 2019, arXiv 1811.03233): the student's pre-ReLU responses, through a connector where the shapes
/// differ, are pushed to the same side of the activation boundary as the teacher's pre-ReLU responses with a margin m,
/// <c>ℓ(s, t) = Σ (s + m)² · 1[s &gt; −m ∧ t ≤ 0] + (s − m)² · 1[s ≤ m ∧ t &gt; 0]</c> (the paper's alternative squared-hinge loss),
/// as RepDistiller's <c>distiller_zoo/AB.py</c> computes it: layer i of K weighted <c>2^(i − K + 1)</c> (the deepest 1),
/// divided by the batch size and scaled by 3/1000, summed over layers. Declare the pre-activation outputs as features (a
/// module whose output is before the ReLU, e.g. a block's last batch norm). Reports "NAME" and, with several layers,
/// "NAME.stage1", ... (each weighted). The connectors (RepDistiller's <c>Connector</c>: a <see cref="HintRegressor"/> without
/// ReLU where the shapes differ, none where they match) are the term's trainable modules. RepDistiller trains it as an
/// initialisation stage (<see cref="Recipes.ActivationBoundaries"/>).
/// </summary>
public sealed class ActivationBoundaryLoss : DistillationLoss
{
    private readonly HintRegressor?[] _connectors;

    /// <summary>Creates the term.</summary>
    /// <param name="layers">The compared pre-activation features, shallow to deep: at least one.</param>
    /// <param name="connectors">One per layer: a <see cref="HintRegressor"/> (built with <c>relu: false</c>) from the student's map to the teacher's shape, or null where they already match; null for none at all.</param>
    /// <param name="margin">The margin m &gt; 0 (the paper: 1).</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    /// <param name="name">Reporting name (default "ab").</param>
    /// <exception cref="ArgumentException">No layers, a null layer, a connector count that differs from the layer count, or a connector with a ReLU.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The margin is not a finite number &gt; 0.</exception>
    public ActivationBoundaryLoss(
        IReadOnlyList<FeaturePair> layers, IReadOnlyList<HintRegressor?>? connectors = null, double margin = 1.0, string student = "student", string teacher = "teacher", string name = "ab")
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Count == 0 || layers.Any(l => l is null))
        {
            throw new ArgumentException("AB needs at least one (non-null) student/teacher pre-activation feature pair.", nameof(layers));
        }

        Layers = layers.ToArray();
        _connectors = connectors?.ToArray() ?? new HintRegressor?[Layers.Count];
        if (_connectors.Length != Layers.Count)
        {
            throw new ArgumentException($"connectors needs one entry per layer ({Layers.Count}; null where the shapes match); got {_connectors.Length}.", nameof(connectors));
        }

        if (_connectors.Any(c => c is { Relu: true }))
        {
            throw new ArgumentException("AB's connectors keep the sign of the response: build them with relu: false.", nameof(connectors));
        }

        Margin = Guard.Positive(margin, nameof(margin));
        Student = Guard.Name(student, nameof(student));
        Teacher = Guard.Name(teacher, nameof(teacher));
    }

    /// <summary>The compared layers, shallow to deep.</summary>
    public IReadOnlyList<FeaturePair> Layers { get; }

    /// <summary>The connectors, one per layer (null: identity).</summary>
    public IReadOnlyList<HintRegressor?> Connectors => _connectors;

    /// <summary>The margin m.</summary>
    public double Margin { get; }

    /// <summary>The student's participant name.</summary>
    public string Student { get; }

    /// <summary>The teacher's participant name.</summary>
    public string Teacher { get; }

    /// <inheritdoc />
    public override LossRequirements Requirements =>
        Layers.Aggregate(LossRequirements.None, (r, f) => r.Feature(Student, f.Student).Feature(Teacher, f.Teacher));

    /// <inheritdoc />
    public override IReadOnlyList<nn.Module> TrainableModules => _connectors.Where(c => c is not null).Select(c => (nn.Module)c!).ToArray();

    /// <summary>
    /// The summed alternative squared hinge <c>Σ (s + m)² · 1[s &gt; −m ∧ t ≤ 0] + (s − m)² · 1[s ≤ m ∧ t &gt; 0]</c> over every element
    /// (not divided by anything).
    /// </summary>
    /// <param name="student">The student's (connected) pre-activation response.</param>
    /// <param name="teacher">The teacher's pre-activation response, of the same shape.</param>
    /// <param name="margin">m &gt; 0.</param>
    /// <exception cref="ArgumentException">Shapes, dtypes or devices differ.</exception>
    public static Tensor Hinge(Tensor student, Tensor teacher, double margin)
    {
        ArgumentNullException.ThrowIfNull(student);
        ArgumentNullException.ThrowIfNull(teacher);
        Guard.Positive(margin, nameof(margin));
        FeatureDistillationLoss.CheckPair(student, nameof(student), teacher, nameof(teacher));
        Guard.SameShape(student, nameof(student), teacher, nameof(teacher));
        var teacherOff = teacher.le(0);
        var pushDown = student.gt(-margin).logical_and(teacherOff);
        var pushUp = student.le(margin).logical_and(teacherOff.logical_not());
        return ((student + margin).pow(2) * pushDown.to_type(student.dtype) + (student - margin).pow(2) * pushUp.to_type(student.dtype)).sum();
    }

    /// <inheritdoc />
    public override LossResult Compute(DistillationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var studentOutput = context.Output(Student);
        var teacherOutput = context.Output(Teacher);
        var count = Layers.Count;
        var stages = new Tensor[count];
        for (var i = 0; i < count; i++)
        {
            var studentWhat = $"feature '{Layers[i].Student}' of '{Student}'";
            var teacherWhat = $"feature '{Layers[i].Teacher}' of '{Teacher}'";
            var s = studentOutput.Feature(Layers[i].Student, Student);
            var t = teacherOutput.Feature(Layers[i].Teacher, Teacher).detach();
            FeatureDistillationLoss.CheckPair(s, studentWhat, t, teacherWhat);
            if (_connectors[i] is { } connector)
            {
                connector.CheckInput(s, studentWhat);
                s = connector.call(s);
            }

            if (!s.shape.SequenceEqual(t.shape))
            {
                throw new ArgumentException(
                    $"AB compares responses element by element: {studentWhat} {(_connectors[i] is null ? "" : "after its connector ")}is {Guard.Shape(s)} but {teacherWhat} is " +
                    $"{Guard.Shape(t)}" + (_connectors[i] is null ? "; pass a connector (HintRegressor.For(studentShape, teacherShape, relu: false)) for this layer." : "."),
                    studentWhat);
            }

            var weight = Math.Pow(2, i - count + 1);
            stages[i] = Hinge(s, t, Margin) * (weight * 3.0 / 1000.0 / s.shape[0]);
        }

        var total = stages.Skip(1).Aggregate(stages[0], (sum, x) => sum + x);
        var parts = new Dictionary<string, Tensor> { [Name] = total };
        if (count > 1)
        {
            for (var i = 0; i < count; i++)
            {
                parts[$"{Name}.stage{i + 1}"] = stages[i].detach();
            }
        }

        return new LossResult(total, parts);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var connector in _connectors)
            {
                connector?.Dispose();
            }
        }
    }
}

public static partial class Loss
{
    /// <summary>
    /// Heo et al. (2019), "Knowledge Transfer via Distillation of Activation Boundaries Formed by Hidden Neurons" (AAAI, arXiv
    /// 1811.03233): the AB term on pre-activation features, with connectors where the shapes differ. See <see cref="ActivationBoundaryLoss"/>.
    /// </summary>
    /// <param name="layers">Pre-activation feature pairs, shallow to deep.</param>
    /// <param name="connectors">One per layer (null where the shapes match), or null for none.</param>
    /// <param name="margin">The margin m &gt; 0.</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    /// <param name="name">Reporting name.</param>
    public static ActivationBoundaryLoss ActivationBoundaries(
        IReadOnlyList<FeaturePair> layers, IReadOnlyList<HintRegressor?>? connectors = null, double margin = 1.0, string student = "student", string teacher = "teacher", string name = "ab") =>
        new(layers, connectors, margin, student, teacher, name);
}

public static partial class Recipes
{
    /// <summary>
    /// AB as RepDistiller trains it: stage "ab" trains the student and the connectors on the AB term alone for
    /// <paramref name="abEpochs"/> epochs (RepDistiller's init stage: 30), then stage "distill" trains the student with
    /// <see cref="Loss.Hinton"/>. The teacher is frozen in both.
    /// </summary>
    /// <param name="term">The AB term (with its connectors).</param>
    /// <param name="abEpochs">Epochs of the AB stage, &gt;= 1.</param>
    /// <param name="temperature">KD temperature of the second stage.</param>
    /// <param name="alpha">Weight of the KD term in the second stage, in [0, 1].</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="abEpochs"/> is below 1.</exception>
    public static DistillationRecipe ActivationBoundaries(ActivationBoundaryLoss term, int abEpochs = 30, double temperature = 4.0, double alpha = 0.9)
    {
        ArgumentNullException.ThrowIfNull(term);
        if (abEpochs < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(abEpochs), abEpochs, "abEpochs must be >= 1.");
        }

        return new DistillationRecipe("ab", new[]
        {
            new DistillationStage("ab", term) { Epochs = abEpochs, Trainable = new[] { term.Student } },
            new DistillationStage(DistillationRecipe.SingleStage, Loss.Hinton(temperature, alpha, term.Student, term.Teacher)),
        });
    }
}
