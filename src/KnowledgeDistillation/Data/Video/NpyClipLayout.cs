namespace KnowledgeDistillation.Data;

/// <summary>How a 4-D <c>.npy</c> clip is laid out (a 3-D one is always <c>[T, H, W]</c>).</summary>
public enum NpyClipLayout
{
    /// <summary><c>[T, H, W, C]</c>, channels last (what most video decoders and NumPy code produce).</summary>
    FramesHeightWidthChannels,

    /// <summary><c>[T, C, H, W]</c>, channels first (PyTorch's frame layout).</summary>
    FramesChannelsHeightWidth,
}
