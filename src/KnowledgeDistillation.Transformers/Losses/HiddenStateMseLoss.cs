using KnowledgeDistillation.Losses;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Transformers.Losses;

/// <summary>
/// Hidden-state matching: for each pair of layers, the mean squared error between <c>W h^S + b</c> (or <c>h^S</c> when
/// widths are equal and no projection is given) and <c>h^T</c> over the real (unpadded) tokens and the teacher's width,
/// summed over the pairs. With the pair (0, 0) it matches the embedding outputs (<see cref="TransformerLosses.EmbeddingMatch"/>).
/// </summary>
public sealed class HiddenStateMseLoss : TransformerLayerLoss
{
    private readonly nn.Module[] modules;

    /// <summary>Creates the term.</summary>
    /// <param name="map">Pairs of layers (0 = embeddings).</param>
    /// <param name="projections">Student-to-teacher projections when widths differ, or null.</param>
    /// <param name="student">Student participant.</param>
    /// <param name="teacher">Teacher participant.</param>
    /// <param name="detachTeacher">Whether the teacher's states are detached.</param>
    /// <param name="name">The term's name.</param>
    public HiddenStateMseLoss(LayerMap map, LayerProjections? projections = null, string student = "student", string teacher = "teacher", bool detachTeacher = true, string name = "hidden_mse")
        : base(name, map, student, teacher, detachTeacher)
    {
        Projections = projections;
        modules = projections is null ? Array.Empty<nn.Module>() : new nn.Module[] { projections };
    }

    /// <summary>The projections, or null.</summary>
    public LayerProjections? Projections { get; }

    /// <inheritdoc />
    public override IReadOnlyList<nn.Module> TrainableModules => modules;

    /// <summary>The value for one pair of hidden states.</summary>
    /// <param name="student">Student states <c>[batch, tokens, width]</c> (projected already if widths differ).</param>
    /// <param name="teacher">Teacher states, same shape.</param>
    /// <param name="mask">1 for real tokens, 0 for padding, <c>[batch, tokens]</c>.</param>
    /// <returns>A scalar.</returns>
    public static Tensor Value(Tensor student, Tensor teacher, Tensor mask)
    {
        Guard.Rank(student, 3, nameof(student), "[batch, tokens, width]");
        Guard.FloatingPoint(student, nameof(student));
        Guard.SameShape(teacher, nameof(teacher), student, nameof(student));
        CheckMask(mask, student.shape[0], student.shape[1]);
        using var scope = NewDisposeScope();
        var m = mask.to(student.dtype);
        var squared = (student - teacher.to(student.dtype)).square().sum(-1);
        return ((squared * m).sum() / (m.sum() * student.shape[2])).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    protected override string FeatureName(int layer) => BertFeatures.Hidden(layer);

    /// <inheritdoc />
    protected override Tensor Pair(int studentLayer, Tensor student, Tensor teacher, Tensor mask)
    {
        var s = student;
        if (Projections is not null)
        {
            s = Projections.Project(studentLayer, student);
        }
        else if (student.dim() == 3 && teacher.dim() == 3 && student.shape[2] != teacher.shape[2])
        {
            throw new ArgumentException(
                $"Student layer {studentLayer} has width {student.shape[2]} and the teacher {teacher.shape[2]}; pass LayerProjections to connect them.", nameof(student));
        }

        return Value(s, teacher, mask);
    }
}
