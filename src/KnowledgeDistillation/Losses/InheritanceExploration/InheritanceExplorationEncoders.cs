using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// The student side of IE-KD (official <c>embedTI</c>, <c>embedTE</c>, <c>divide_features</c>): the fixed channel split and
/// one <see cref="FactorCoder"/> per half (C/2 → C'). The split's indices are int64 buffers (<c>inheritance_index</c>,
/// <c>exploration_index</c>), so they move with the module to its device and are saved with it in checkpoints.
/// </summary>
public sealed class InheritanceExplorationEncoders : nn.Module
{
    private readonly FactorCoder inheritance;
    private readonly FactorCoder exploration;
    private readonly Tensor inheritance_index;
    private readonly Tensor exploration_index;

    /// <summary>Creates the two encoders with freshly initialised weights (TorchSharp's global random generator).</summary>
    /// <param name="split">The student's channel split.</param>
    /// <param name="factorChannels">Channels C' of the factors (the teacher autoencoder's).</param>
    /// <param name="name">Module name.</param>
    public InheritanceExplorationEncoders(ChannelSplit split, int factorChannels, string name = "ie_encoders")
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(split);
        Channels = split.Channels;
        inheritance = new FactorCoder(split.Channels / 2, factorChannels, "inheritance");
        exploration = new FactorCoder(split.Channels / 2, factorChannels, "exploration");
        inheritance_index = tensor(split.Inheritance.ToArray(), ScalarType.Int64).DetachFromDisposeScope();
        exploration_index = tensor(split.Exploration.ToArray(), ScalarType.Int64).DetachFromDisposeScope();
        RegisterComponents();
    }

    /// <summary>The student's channel count C.</summary>
    public int Channels { get; }

    /// <summary>Enc_I: encodes the inheritance half.</summary>
    public FactorCoder Inheritance => inheritance;

    /// <summary>Enc_E: encodes the exploration half.</summary>
    public FactorCoder Exploration => exploration;

    /// <summary>The split in effect (read from the buffers, so it reflects a loaded checkpoint; one host copy per call).</summary>
    public ChannelSplit Split => ChannelSplit.FromIndices(HostIndices(inheritance_index), HostIndices(exploration_index));

    /// <summary>The two halves <c>F^I, F^E</c> of a student map <c>[B, C, H, W]</c> (channels in split order).</summary>
    /// <param name="studentFeature">The student's map with <see cref="Channels"/> channels.</param>
    /// <exception cref="ArgumentException">The map is not a floating-point <c>[B, C, H, W]</c> tensor.</exception>
    public (Tensor Inheritance, Tensor Exploration) Divide(Tensor studentFeature)
    {
        FactorCoder.CheckMap(studentFeature, Channels, nameof(studentFeature));
        return (studentFeature.index_select(1, inheritance_index), studentFeature.index_select(1, exploration_index));
    }

    /// <summary>The factors <c>Enc_I(F^I), Enc_E(F^E)</c>, each <c>[B, C', H, W]</c>.</summary>
    /// <param name="studentFeature">The student's map with <see cref="Channels"/> channels.</param>
    public (Tensor Inheritance, Tensor Exploration) Encode(Tensor studentFeature)
    {
        var (i, e) = Divide(studentFeature);
        return (inheritance.call(i), exploration.call(e));
    }

    private static long[] HostIndices(Tensor index) => index.cpu().data<long>().ToArray();
}
