using KnowledgeDistillation.Data;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace KnowledgeDistillation.Models;

/// <summary>
/// A small 3D CNN for clip batches <c>[B, T, C, H, W]</c>: a stem <c>conv3x3x3</c> with spatial stride 2, then blocks of
/// <c>conv3x3x3 - BatchNorm3d - ReLU - maxpool(1, 2, 2)</c>, a global average over time and space (the submodule
/// <c>embedding</c>, output <c>[B, D]</c>, for feature capture) and a linear <c>classifier</c>. Time is never pooled before the
/// end, so any frame count works.
/// </summary>
public sealed class VideoCnn3d : Module<Tensor, Tensor>
{
    private readonly Sequential features;
    private readonly ClipGlobalPool embedding;
    private readonly Linear classifier;

    /// <summary>Creates the network.</summary>
    /// <param name="channels">Channels of the stem and of each block (the first entry is the stem's), at least one, each &gt;= 1.</param>
    /// <param name="numClasses">Number of classes, &gt;= 2.</param>
    /// <param name="inputChannels">Channels of the frames (1 for grey).</param>
    /// <exception cref="ArgumentException">No channels, or a width below 1.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Fewer than two classes or no input channel.</exception>
    public VideoCnn3d(IReadOnlyList<int> channels, int numClasses = 10, int inputChannels = 1)
        : base(nameof(VideoCnn3d))
    {
        ArgumentNullException.ThrowIfNull(channels);
        if (channels.Count == 0 || channels.Any(c => c < 1))
        {
            throw new ArgumentException("'channels' needs at least one entry (the stem), each >= 1.", nameof(channels));
        }

        NumClasses = numClasses >= 2 ? numClasses : throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, "numClasses must be >= 2.");
        InputChannels = inputChannels >= 1 ? inputChannels : throw new ArgumentOutOfRangeException(nameof(inputChannels), inputChannels, "inputChannels must be >= 1.");
        var layers = new List<(string, Module<Tensor, Tensor>)>
        {
            ("stem", Sequential(
                ("conv", Conv3d(inputChannels, channels[0], kernel_size: (3, 3, 3), stride: (1, 2, 2), padding: (1, 1, 1), bias: false)),
                ("bn", BatchNorm3d(channels[0])),
                ("relu", ReLU()))),
        };
        for (var i = 1; i < channels.Count; i++)
        {
            layers.Add(($"block{i}", Sequential(
                ("conv", Conv3d(channels[i - 1], channels[i], kernel_size: (3, 3, 3), padding: (1, 1, 1), bias: false)),
                ("bn", BatchNorm3d(channels[i])),
                ("relu", ReLU()),
                ("pool", MaxPool3d(kernel_size: (1, 2, 2), stride: (1, 2, 2))))));
        }

        features = Sequential(layers);
        embedding = new ClipGlobalPool();
        EmbeddingDimension = channels[^1];
        classifier = Linear(channels[^1], numClasses);
        RegisterComponents();
    }

    /// <summary>The number of classes.</summary>
    public int NumClasses { get; }

    /// <summary>Channels of the frames.</summary>
    public int InputChannels { get; }

    /// <summary>The width D of the <c>embedding</c> feature.</summary>
    public int EmbeddingDimension { get; }

    /// <summary>A teacher-sized network (channels 16, 32, 64, 128).</summary>
    /// <param name="numClasses">Number of classes.</param>
    /// <param name="inputChannels">Channels of the frames.</param>
    public static VideoCnn3d Teacher(int numClasses = 10, int inputChannels = 1) => new(new[] { 16, 32, 64, 128 }, numClasses, inputChannels);

    /// <summary>A student-sized network (channels 8, 16, 32).</summary>
    /// <param name="numClasses">Number of classes.</param>
    /// <param name="inputChannels">Channels of the frames.</param>
    public static VideoCnn3d Student(int numClasses = 10, int inputChannels = 1) => new(new[] { 8, 16, 32 }, numClasses, inputChannels);

    /// <summary>The clip embedding <c>[B, D]</c> (through <c>embedding.call</c>, so a hook on it fires).</summary>
    /// <param name="clips">Clips <c>[B, T, C, H, W]</c>.</param>
    /// <exception cref="ArgumentException">Not a clip batch with this network's channel count.</exception>
    public Tensor Embed(Tensor clips)
    {
        VideoClips.CheckBatch(clips, nameof(clips), InputChannels);
        return embedding.call(features.call(clips.permute(0, 2, 1, 3, 4)));
    }

    /// <summary>Logits <c>[B, classes]</c> of clips <c>[B, T, C, H, W]</c>.</summary>
    /// <param name="clips">The clip batch.</param>
    /// <exception cref="ArgumentException">Not a clip batch with this network's channel count.</exception>
    public override Tensor forward(Tensor clips) => classifier.call(Embed(clips));
}
