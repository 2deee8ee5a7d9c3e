using KnowledgeDistillation.Losses;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Transformers.Losses;

/// <summary>
/// [CLS] distillation (Aguilar et al., AAAI 2020): for each pair of layers, <c>1 - cos(c^T, W c^S + b)</c> of the first
/// token's hidden state, averaged over the batch, summed over the pairs. The projection is used only when widths differ
/// (pass <see cref="LayerProjections"/>); the term is invariant to positive scaling and 2 for opposite vectors.
/// </summary>
public sealed class ClsCosineLoss : TransformerLayerLoss
{
    private readonly nn.Module[] modules;

    /// <summary>Creates the term.</summary>
    /// <param name="map">Pairs of layers (0 = embeddings).</param>
    /// <param name="projections">Student-to-teacher projections when widths differ, or null.</param>
    /// <param name="student">Student participant.</param>
    /// <param name="teacher">Teacher participant.</param>
    /// <param name="detachTeacher">Whether the teacher's states are detached.</param>
    /// <param name="name">The term's name.</param>
    public ClsCosineLoss(LayerMap map, LayerProjections? projections = null, string student = "student", string teacher = "teacher", bool detachTeacher = true, string name = "cls_cosine")
        : base(name, map, student, teacher, detachTeacher)
    {
        Projections = projections;
        modules = projections is null ? Array.Empty<nn.Module>() : new nn.Module[] { projections };
    }

    /// <summary>The projections, or null.</summary>
    public LayerProjections? Projections { get; }

    /// <inheritdoc />
    public override IReadOnlyList<nn.Module> TrainableModules => modules;

    /// <summary>The value for one pair of [CLS] vectors.</summary>
    /// <param name="student">Student vectors <c>[batch, width]</c> (projected already if widths differ).</param>
    /// <param name="teacher">Teacher vectors, same shape.</param>
    /// <returns>A scalar.</returns>
    public static Tensor Value(Tensor student, Tensor teacher)
    {
        Guard.Rank(student, 2, nameof(student), "[batch, width]");
        Guard.FloatingPoint(student, nameof(student));
        Guard.SameShape(teacher, nameof(teacher), student, nameof(student));
        using var scope = NewDisposeScope();
        return (1.0 - nn.functional.cosine_similarity(student, teacher.to(student.dtype), 1, 1e-8)).mean().MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    protected override string FeatureName(int layer) => BertFeatures.Hidden(layer);

    /// <inheritdoc />
    protected override Tensor Pair(int studentLayer, Tensor student, Tensor teacher, Tensor mask)
    {
        Guard.Rank(student, 3, $"hidden state of student layer {studentLayer}", "[batch, tokens, width]");
        Guard.Rank(teacher, 3, "teacher hidden state", "[batch, tokens, width]");
        var s = student.select(1, 0);
        if (Projections is not null)
        {
            s = Projections.Project(studentLayer, s);
        }
        else if (student.shape[2] != teacher.shape[2])
        {
            throw new ArgumentException(
                $"Student layer {studentLayer} has width {student.shape[2]} and the teacher {teacher.shape[2]}; pass LayerProjections to connect them.", nameof(student));
        }

        return Value(s, teacher.select(1, 0));
    }
}
