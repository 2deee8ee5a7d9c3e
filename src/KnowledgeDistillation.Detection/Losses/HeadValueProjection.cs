using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace KnowledgeDistillation.Detection.Losses;

/// <summary>ICD's student-side value projection W'_v (the student's own attention module in projection-only mode): <c>Linear(D_s, D)</c>, split into heads.</summary>
public sealed class HeadValueProjection : Module<Tensor, Tensor>
{
    private readonly Linear projection;

    /// <summary>Creates the projection.</summary>
    /// <param name="studentChannels">D_s, the student's FPN channels.</param>
    /// <param name="dimension">D.</param>
    /// <param name="heads">H (divides D).</param>
    public HeadValueProjection(int studentChannels, int dimension, int heads)
        : base(nameof(HeadValueProjection))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(studentChannels, 1);
        if (heads < 1 || dimension % heads != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(heads), heads, $"The head count must divide the dimension {dimension}.");
        }

        Heads = heads;
        projection = Linear(studentChannels, dimension);
        RegisterComponents();
    }

    /// <summary>H.</summary>
    public int Heads { get; }

    /// <summary>Projects <c>[B, S, D_s]</c> to <c>[B, S, H, d]</c>.</summary>
    /// <param name="features">The student's FPN positions.</param>
    public override Tensor forward(Tensor features)
    {
        ArgumentNullException.ThrowIfNull(features);
        var y = projection.call(features);
        return y.view(y.shape[0], y.shape[1], Heads, -1);
    }
}
