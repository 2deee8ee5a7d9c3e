using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// One attention-based fusion (ABF) module of ReviewKD (Chen, Liu, Zhao and Jia, "Distilling Knowledge via Knowledge
/// Review", CVPR 2021, arXiv 2104.09044; mdistiller <c>distillers/ReviewKD.py</c>, <c>ABF</c>). It maps a student feature
/// [B, C_in, H, W] to C_mid channels (1×1 convolution without bias, batch normalisation); unless it is the deepest module,
/// it fuses the result with the residual of the next deeper module (nearest-upsampled to H×W) through a 1×1 attention
/// convolution and a sigmoid giving two maps <c>a</c>, <c>b</c>: <c>x·a + r·b</c>; it resizes (nearest) to the teacher
/// feature's size and outputs a 3×3 convolution (padding 1, no bias) with batch normalisation to C_out channels. The fused
/// map before the output convolution is the residual handed to the next shallower module. State-dict names are
/// <c>conv1.0.weight</c>, <c>conv1.1.*</c>, <c>conv2.0.weight</c>, <c>conv2.1.*</c>, <c>att_conv.0.*</c> as in the
/// reference.
/// </summary>
public sealed class ReviewFusion : nn.Module
{
    private readonly nn.Module<Tensor, Tensor> conv1;
    private readonly nn.Module<Tensor, Tensor> conv2;
    private readonly nn.Module<Tensor, Tensor>? att_conv;

    /// <summary>Creates the module (convolution weights Kaiming-uniform with a = 1, as the reference; TorchSharp's global generator).</summary>
    /// <param name="inChannels">C_in &gt;= 1, the student feature's channels.</param>
    /// <param name="midChannels">C_mid &gt;= 1, the fused width (the reference: min(512, the deepest student channels)).</param>
    /// <param name="outChannels">C_out &gt;= 1, the teacher feature's channels.</param>
    /// <param name="fuse">Whether it fuses a deeper module's residual (all but the deepest module).</param>
    /// <param name="name">Module name.</param>
    /// <exception cref="ArgumentOutOfRangeException">A channel count is below 1.</exception>
    public ReviewFusion(long inChannels, long midChannels, long outChannels, bool fuse, string name = "review_fusion")
        : base(name)
    {
        InChannels = AtLeastOne(inChannels, nameof(inChannels));
        MidChannels = AtLeastOne(midChannels, nameof(midChannels));
        OutChannels = AtLeastOne(outChannels, nameof(outChannels));
        Fuses = fuse;
        var c1 = nn.Conv2d(inChannels, midChannels, 1, bias: false);
        var c2 = nn.Conv2d(midChannels, outChannels, 3, padding: 1, bias: false);
        nn.init.kaiming_uniform_(c1.weight!, a: 1);
        nn.init.kaiming_uniform_(c2.weight!, a: 1);
        conv1 = nn.Sequential(("0", c1), ("1", nn.BatchNorm2d(midChannels)));
        conv2 = nn.Sequential(("0", c2), ("1", nn.BatchNorm2d(outChannels)));
        if (fuse)
        {
            att_conv = nn.Sequential(("0", nn.Conv2d(midChannels * 2, 2, 1)), ("1", nn.Sigmoid()));
        }

        RegisterComponents();
    }

    /// <summary>C_in, the student feature's channels.</summary>
    public long InChannels { get; }

    /// <summary>C_mid, the fused width.</summary>
    public long MidChannels { get; }

    /// <summary>C_out, the teacher feature's channels.</summary>
    public long OutChannels { get; }

    /// <summary>Whether the module fuses a deeper module's residual.</summary>
    public bool Fuses { get; }

    /// <summary>
    /// A chain of modules for student features of <paramref name="studentChannels"/> and teacher features of
    /// <paramref name="teacherChannels"/> (both ordered shallow to deep), as the reference builds it: C_mid =
    /// min(<paramref name="maxMidChannels"/>, the deepest student channels), every module but the deepest fuses.
    /// </summary>
    /// <param name="studentChannels">The student features' channels, shallow to deep.</param>
    /// <param name="teacherChannels">The teacher features' channels, shallow to deep.</param>
    /// <param name="maxMidChannels">The cap on C_mid (the reference: 512).</param>
    /// <exception cref="ArgumentException">The lists are empty or of different lengths.</exception>
    public static IReadOnlyList<ReviewFusion> Chain(IReadOnlyList<long> studentChannels, IReadOnlyList<long> teacherChannels, long maxMidChannels = 512)
    {
        ArgumentNullException.ThrowIfNull(studentChannels);
        ArgumentNullException.ThrowIfNull(teacherChannels);
        if (studentChannels.Count == 0 || studentChannels.Count != teacherChannels.Count)
        {
            throw new ArgumentException(
                $"ReviewKD needs one teacher feature per student feature (at least one); got {studentChannels.Count} student and {teacherChannels.Count} teacher channel counts.",
                nameof(teacherChannels));
        }

        var mid = Math.Min(AtLeastOne(maxMidChannels, nameof(maxMidChannels)), studentChannels[^1]);
        return studentChannels.Select((c, i) => new ReviewFusion(c, mid, teacherChannels[i], fuse: i < studentChannels.Count - 1, name: $"review_fusion{i + 1}")).ToArray();
    }

    /// <summary>Runs the module.</summary>
    /// <param name="feature">The student feature [B, C_in, H, W].</param>
    /// <param name="residual">The deeper module's residual [B, C_mid, h, w] (required exactly when <see cref="Fuses"/>).</param>
    /// <param name="outputSize">The teacher feature's (H, W).</param>
    /// <returns>The output [B, C_out, outputSize] and the residual [B, C_mid, outputSize] for the next shallower module.</returns>
    public (Tensor Output, Tensor Residual) Forward(Tensor feature, Tensor? residual, (long Height, long Width) outputSize)
    {
        ArgumentNullException.ThrowIfNull(feature);
        var x = conv1.call(feature);
        if (att_conv is not null)
        {
            ArgumentNullException.ThrowIfNull(residual);
            var (h, w) = (feature.shape[2], feature.shape[3]);
            var y = nn.functional.interpolate(residual, new[] { h, w }, mode: InterpolationMode.Nearest);
            var z = att_conv.call(cat(new[] { x, y }, 1));
            x = (x * z.narrow(1, 0, 1)) + (y * z.narrow(1, 1, 1));
        }

        if (x.shape[2] != outputSize.Height || x.shape[3] != outputSize.Width)
        {
            x = nn.functional.interpolate(x, new[] { outputSize.Height, outputSize.Width }, mode: InterpolationMode.Nearest);
        }

        return (conv2.call(x), x);
    }

    private static long AtLeastOne(long value, string name) =>
        value >= 1 ? value : throw new ArgumentOutOfRangeException(name, value, $"{name} must be >= 1.");
}
