using System.Globalization;
using KnowledgeDistillation.Losses;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Transformers.Losses;

/// <summary>
/// A term summed over the pairs of a <see cref="LayerMap"/>, reading per-layer features of a student and a teacher
/// (<see cref="BertFeatures"/>) and the student's padding mask. Parts: the total under <see cref="DistillationLoss.Name"/>
/// and each pair under <c>Name.layer{j}</c> (j = student layer).
/// </summary>
public abstract class TransformerLayerLoss : DistillationLoss
{
    /// <summary>Creates the term.</summary>
    /// <param name="name">The term's name.</param>
    /// <param name="map">Pairs of layers.</param>
    /// <param name="student">Student participant.</param>
    /// <param name="teacher">Teacher participant.</param>
    /// <param name="detachTeacher">Whether the teacher's features are detached (the teacher is a fixed target).</param>
    protected TransformerLayerLoss(string name, LayerMap map, string student, string teacher, bool detachTeacher)
        : base(name)
    {
        Map = map ?? throw new ArgumentNullException(nameof(map));
        Student = Guard.Name(student, nameof(student));
        Teacher = Guard.Name(teacher, nameof(teacher));
        DetachTeacher = detachTeacher;
    }

    /// <summary>The pairs.</summary>
    public LayerMap Map { get; }

    /// <summary>Student participant.</summary>
    public string Student { get; }

    /// <summary>Teacher participant.</summary>
    public string Teacher { get; }

    /// <summary>Whether the teacher is detached.</summary>
    public bool DetachTeacher { get; }

    /// <inheritdoc />
    public override LossRequirements Requirements =>
        Map.Pairs.Aggregate(
            LossRequirements.None.Feature(Student, BertFeatures.AttentionMask),
            (r, p) => r.Feature(Student, FeatureName(p.Student)).Feature(Teacher, FeatureName(p.Teacher)));

    /// <inheritdoc />
    public override LossResult Compute(DistillationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var studentOutput = context.Output(Student);
        var teacherOutput = context.Output(Teacher);
        var mask = studentOutput.Feature(BertFeatures.AttentionMask, Student);
        var parts = new Dictionary<string, Tensor>();
        Tensor? total = null;
        foreach (var (s, t) in Map.Pairs)
        {
            var studentFeature = studentOutput.Feature(FeatureName(s), Student);
            var teacherFeature = teacherOutput.Feature(FeatureName(t), Teacher);
            var value = Pair(s, studentFeature, DetachTeacher ? teacherFeature.detach() : teacherFeature, mask);
            parts[Name + ".layer" + s.ToString(CultureInfo.InvariantCulture)] = value.detach();
            total = total is null ? value : total + value;
        }

        parts[Name] = total!;
        return new LossResult(total!, parts);
    }

    /// <summary>The feature this term reads for <paramref name="layer"/>.</summary>
    /// <param name="layer">A layer of the map.</param>
    /// <returns>The feature name.</returns>
    protected abstract string FeatureName(int layer);

    /// <summary>The term for one pair.</summary>
    /// <param name="studentLayer">The student layer.</param>
    /// <param name="student">The student's feature.</param>
    /// <param name="teacher">The teacher's feature (detached if <see cref="DetachTeacher"/>).</param>
    /// <param name="mask">The padding mask <c>[batch, tokens]</c>.</param>
    /// <returns>A scalar.</returns>
    protected abstract Tensor Pair(int studentLayer, Tensor student, Tensor teacher, Tensor mask);

    /// <summary>Checks that <paramref name="mask"/> is <c>[batch, tokens]</c> for a feature <c>[batch, ..., tokens, ...]</c>.</summary>
    /// <param name="mask">The mask.</param>
    /// <param name="batch">Expected rows.</param>
    /// <param name="tokens">Expected tokens.</param>
    protected static void CheckMask(Tensor mask, long batch, long tokens)
    {
        ArgumentNullException.ThrowIfNull(mask);
        if (mask.dim() != 2 || mask.shape[0] != batch || mask.shape[1] != tokens)
        {
            throw new ArgumentException($"The padding mask must be [{batch}, {tokens}] to match the features; got {Guard.Shape(mask)}.", nameof(mask));
        }
    }
}
