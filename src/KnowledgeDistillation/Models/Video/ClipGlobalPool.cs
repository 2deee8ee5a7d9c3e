using static TorchSharp.torch;

namespace KnowledgeDistillation.Models;

/// <summary>
/// The <c>embedding</c> layer of the video models: the mean over every dimension after the second, <c>[B, D, ...] → [B, D]</c>
/// (global average pooling over time and space for a 3D CNN, over time for per-frame features <c>[B, D, T]</c>). A module of its
/// own so that feature capture can hook it.
/// </summary>
public sealed class ClipGlobalPool : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates the layer.</summary>
    public ClipGlobalPool()
        : base(nameof(ClipGlobalPool))
    {
    }

    /// <summary>The mean over the dimensions after the second.</summary>
    /// <param name="input">A tensor <c>[B, D, ...]</c> with at least three dimensions.</param>
    /// <exception cref="ArgumentException">Fewer than three dimensions.</exception>
    public override Tensor forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.dim() < 3)
        {
            throw new ArgumentException($"The global pool expects [batch, features, ...] with at least one pooled dimension; got {Guard.Shape(input)}.", nameof(input));
        }

        return input.flatten(2).mean(new long[] { 2 });
    }
}
