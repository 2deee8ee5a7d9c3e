using KnowledgeDistillation.Data;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace KnowledgeDistillation.Models;

/// <summary>
/// A 2D CNN applied to every frame of a clip batch <c>[B, T, C, H, W]</c> with temporal average pooling: a stem
/// <c>conv3x3</c> with stride 2, blocks of <c>conv3x3 - BatchNorm - ReLU - maxpool2</c>, a spatial average per frame, the mean over
/// the frames (the submodule <c>embedding</c>, output <c>[B, D]</c>) and a linear <c>classifier</c>. Cheaper than
/// <see cref="VideoCnn3d"/>; it sees motion only through what the frames share.
/// </summary>
public sealed class FrameCnn : Module<Tensor, Tensor>
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
    public FrameCnn(IReadOnlyList<int> channels, int numClasses = 10, int inputChannels = 1)
        : base(nameof(FrameCnn))
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
                ("conv", Conv2d(inputChannels, channels[0], 3, stride: 2, padding: 1, bias: false)),
                ("bn", BatchNorm2d(channels[0])),
                ("relu", ReLU()))),
        };
        for (var i = 1; i < channels.Count; i++)
        {
            layers.Add(($"block{i}", Sequential(
                ("conv", Conv2d(channels[i - 1], channels[i], 3, padding: 1, bias: false)),
                ("bn", BatchNorm2d(channels[i])),
                ("relu", ReLU()),
                ("pool", MaxPool2d(2)))));
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

    /// <summary>A student-sized network (channels 8, 16, 32).</summary>
    /// <param name="numClasses">Number of classes.</param>
    /// <param name="inputChannels">Channels of the frames.</param>
    public static FrameCnn Student(int numClasses = 10, int inputChannels = 1) => new(new[] { 8, 16, 32 }, numClasses, inputChannels);

    /// <summary>The clip embedding <c>[B, D]</c> (through <c>embedding.call</c>, so a hook on it fires).</summary>
    /// <param name="clips">Clips <c>[B, T, C, H, W]</c>.</param>
    /// <exception cref="ArgumentException">Not a clip batch with this network's channel count.</exception>
    public Tensor Embed(Tensor clips)
    {
        VideoClips.CheckBatch(clips, nameof(clips), InputChannels);
        var (b, t) = (clips.shape[0], clips.shape[1]);
        var perFrame = features.call(clips.flatten(0, 1)).flatten(2).mean(new long[] { 2 }); // [B·T, D]
        return embedding.call(perFrame.reshape(b, t, -1).transpose(1, 2)); // [B, D, T] -> [B, D]
    }

    /// <summary>Logits <c>[B, classes]</c> of clips <c>[B, T, C, H, W]</c>.</summary>
    /// <param name="clips">The clip batch.</param>
    /// <exception cref="ArgumentException">Not a clip batch with this network's channel count.</exception>
    public override Tensor forward(Tensor clips) => classifier.call(Embed(clips));
}
