using KnowledgeDistillation.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Models;

/// <summary>
/// Runs a clip encoder on both clips of the pairs <see cref="ClipPairs"/> makes: a batch <c>[B, 2T, C, H, W]</c> is split into its
/// first and second clips along time, the two halves are stacked along the batch, <c>[2B, T, C, H, W]</c>, and encoded in one call,
/// so the output is <c>[2B, D]</c> with row <c>b</c> the first clip of pair <c>b</c> and row <c>B + b</c> its second clip (the layout
/// <see cref="Losses.ClipContrastiveLoss"/> reads). The encoder is typically a <see cref="VideoCnn3d"/> whose classifier has D outputs
/// (the projection head); after the pretext task, <see cref="VideoPretext.TransferBackbone"/> from <see cref="Encoder"/> moves its
/// backbone into a classifier for fine-tuning.
/// </summary>
public sealed class ClipPairEncoder : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> encoder;

    /// <summary>Wraps (and owns) a clip encoder.</summary>
    /// <param name="encoder">Maps clips <c>[N, T, C, H, W]</c> to embeddings <c>[N, D]</c>.</param>
    public ClipPairEncoder(nn.Module<Tensor, Tensor> encoder)
        : base(nameof(ClipPairEncoder))
    {
        this.encoder = encoder ?? throw new ArgumentNullException(nameof(encoder));
        RegisterComponents();
    }

    /// <summary>The wrapped encoder (its weights are this module's, under the name "encoder").</summary>
    public nn.Module<Tensor, Tensor> Encoder => encoder;

    /// <summary>Embeds both clips of every pair.</summary>
    /// <param name="pairs">Clip pairs <c>[B, 2T, C, H, W]</c>: frames <c>0..T-1</c> the first clip, <c>T..2T-1</c> the second.</param>
    /// <returns>Embeddings <c>[2B, D]</c>: the first clips, then the second clips.</returns>
    /// <exception cref="ArgumentException">Not a clip batch, or an odd frame count.</exception>
    public override Tensor forward(Tensor pairs)
    {
        VideoClips.CheckBatch(pairs, nameof(pairs));
        if (pairs.shape[1] % 2 != 0)
        {
            throw new ArgumentException($"{nameof(pairs)} must hold two clips of T frames each, shape [batch, 2T, channels, height, width]; got an odd frame count, {Guard.Shape(pairs)}.", nameof(pairs));
        }

        var frames = pairs.shape[1] / 2;
        using var both = cat(new[] { pairs.narrow(1, 0, frames), pairs.narrow(1, frames, frames) }, 0);
        return encoder.call(both);
    }
}
