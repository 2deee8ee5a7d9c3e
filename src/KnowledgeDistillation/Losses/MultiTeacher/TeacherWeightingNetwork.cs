using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// The trainable module of <see cref="TeacherWeighting.Learned"/>: one linear layer from the K teachers' concatenated logits
/// <c>[batch, K · classes]</c> to K scores, whose softmax over the teachers is each sample's teacher weights. The layer starts
/// at zero, so training starts from the average of the teachers.
/// </summary>
public sealed class TeacherWeightingNetwork : nn.Module<Tensor, Tensor>
{
    private readonly Linear scores;

    /// <summary>Creates the module.</summary>
    /// <param name="teachers">The number of teachers K, &gt;= 2.</param>
    /// <param name="classes">The number of classes, &gt;= 1.</param>
    /// <exception cref="ArgumentOutOfRangeException">K &lt; 2 or classes &lt; 1.</exception>
    public TeacherWeightingNetwork(int teachers, int classes)
        : base(nameof(TeacherWeightingNetwork))
    {
        Teachers = teachers >= 2 ? teachers : throw new ArgumentOutOfRangeException(nameof(teachers), teachers, "A teacher weighting needs at least two teachers.");
        Classes = classes >= 1 ? classes : throw new ArgumentOutOfRangeException(nameof(classes), classes, "classes must be >= 1.");
        scores = nn.Linear(teachers * classes, teachers);
        using (no_grad())
        {
            scores.weight!.zero_();
            scores.bias!.zero_();
        }

        RegisterComponents();
    }

    /// <summary>The number of teachers K.</summary>
    public int Teachers { get; }

    /// <summary>The number of classes.</summary>
    public int Classes { get; }

    /// <summary>The log-weights <c>log_softmax</c> over the teachers, [batch, K], from the teachers' logits.</summary>
    /// <param name="teacherLogits">The teachers' logits stacked as [batch, K, classes].</param>
    /// <exception cref="ArgumentException">The input is not [batch, K, classes] for this module's K and classes.</exception>
    public override Tensor forward(Tensor teacherLogits)
    {
        ArgumentNullException.ThrowIfNull(teacherLogits);
        if (teacherLogits.dim() != 3 || teacherLogits.shape[1] != Teachers || teacherLogits.shape[2] != Classes)
        {
            throw new ArgumentException(
                $"The teacher weighting expects the teachers' logits as [batch, {Teachers}, {Classes}]; got {Guard.Shape(teacherLogits)}.", nameof(teacherLogits));
        }

        if (teacherLogits.dtype != scores.weight!.dtype || teacherLogits.device_type != scores.weight.device_type || teacherLogits.device_index != scores.weight.device_index)
        {
            throw new ArgumentException(
                $"The teachers' logits are {teacherLogits.dtype} on {teacherLogits.device} but the teacher weighting's parameters are " +
                $"{scores.weight.dtype} on {scores.weight.device}; move the module (the engine does) or convert the logits.", nameof(teacherLogits));
        }

        var flat = teacherLogits.reshape(teacherLogits.shape[0], Teachers * Classes);
        return nn.functional.log_softmax(scores.call(flat), 1);
    }
}
