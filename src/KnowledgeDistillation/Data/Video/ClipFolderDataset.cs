namespace KnowledgeDistillation.Data;

/// <summary>
/// Video clips on disk, one folder per class: <c>root/&lt;class&gt;/&lt;clip&gt;</c>, where a clip is either a folder of frame
/// images (PNG, JPEG, BMP, GIF, WebP; frames in ordinal order of their file names, e.g. extracted UCF101/HMDB51 frames) or a
/// <c>.npy</c> array (<see cref="NpyClip"/>). Classes are the sorted subfolder names. Samples are float32 <c>[T, C, H, W]</c>; clips
/// of different lengths batch together after a <see cref="TemporalSampling"/> transform. Files are read when a clip is read.
/// </summary>
public sealed class ClipFolderDataset : IDataset
{
    private readonly string[] _clips;
    private readonly int[] _labels;
    private readonly ImageFolderOptions _frameOptions;

    /// <summary>Lists the clips under <paramref name="root"/>.</summary>
    /// <param name="root">The root folder (a user path).</param>
    /// <param name="frameOptions">How frame images are decoded (size, grey); its extensions select the frame files.</param>
    /// <param name="layout">How 4-D <c>.npy</c> clips are laid out.</param>
    /// <exception cref="DirectoryNotFoundException">The root does not exist.</exception>
    /// <exception cref="InvalidDataException">No class folder, or no clip at all (the message names the root).</exception>
    public ClipFolderDataset(string root, ImageFolderOptions? frameOptions = null, NpyClipLayout layout = NpyClipLayout.FramesHeightWidthChannels)
    {
        ArgumentNullException.ThrowIfNull(root);
        if (!Directory.Exists(root))
        {
            throw new DirectoryNotFoundException($"Clip folder '{root}' does not exist.");
        }

        var options = frameOptions ?? new ImageFolderOptions();
        options.Validate();
        _frameOptions = options;
        Layout = layout;
        Root = root;
        var classes = Directory.GetDirectories(root).Select(Path.GetFileName).OfType<string>().OrderBy(n => n, StringComparer.Ordinal).ToArray();
        if (classes.Length == 0)
        {
            throw new InvalidDataException($"Clip folder '{root}' has no class subfolders (expected root/<class>/<clip folder or .npy>).");
        }

        var clips = new List<string>();
        var labels = new List<int>();
        for (var label = 0; label < classes.Length; label++)
        {
            var dir = Path.Combine(root, classes[label]);
            var entries = Directory.GetDirectories(dir)
                .Concat(Directory.GetFiles(dir, "*.npy"))
                .OrderBy(p => p, StringComparer.Ordinal);
            foreach (var entry in entries)
            {
                clips.Add(entry);
                labels.Add(label);
            }
        }

        if (clips.Count == 0)
        {
            throw new InvalidDataException($"Clip folder '{root}' has class folders but no clips (frame folders or .npy files) in them.");
        }

        _clips = clips.ToArray();
        _labels = labels.ToArray();
        ClassNames = Array.AsReadOnly(classes);
    }

    /// <summary>The root folder.</summary>
    public string Root { get; }

    /// <summary>How 4-D <c>.npy</c> clips are laid out.</summary>
    public NpyClipLayout Layout { get; }

    /// <summary>The class names (subfolder names), indexed by label.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The clips (frame folders or <c>.npy</c> files), indexed by sample.</summary>
    public IReadOnlyList<string> Clips => _clips;

    /// <inheritdoc />
    public long Count => _clips.Length;

    /// <inheritdoc />
    public int? ClassCount => ClassNames.Count;

    /// <inheritdoc />
    /// <exception cref="InvalidDataException">A frame folder without frames, frames of different sizes, or a bad <c>.npy</c> file (the message names it).</exception>
    public DataSample Get(long index)
    {
        if (index < 0 || index >= Count)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"Expected 0..{Count - 1}.");
        }

        var path = _clips[index];
        if (!Directory.Exists(path))
        {
            var (npyValues, npyShape) = NpyClip.Read(path, Layout);
            return new DataSample(npyValues, npyShape, _labels[index]);
        }

        var frames = Directory.GetFiles(path)
            .Where(f => _frameOptions.Extensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase))
            .OrderBy(f => f, StringComparer.Ordinal)
            .ToArray();
        if (frames.Length == 0)
        {
            throw new InvalidDataException($"Clip folder '{path}' has no frame images ({string.Join(", ", _frameOptions.Extensions)}).");
        }

        var first = ImageFolderDataset.Read(frames[0], _frameOptions, null);
        var values = new float[(long)frames.Length * first.Values.Length];
        first.Values.CopyTo(values, 0);
        for (var t = 1; t < frames.Length; t++)
        {
            var frame = ImageFolderDataset.Read(frames[t], _frameOptions, null);
            if (!frame.Shape.AsSpan().SequenceEqual(first.Shape))
            {
                throw new InvalidDataException(
                    $"Frame '{frames[t]}' has shape {DataShape.Format(frame.Shape)} but the clip's first frame has {DataShape.Format(first.Shape)}; set ImageFolderOptions.Width/Height to resize.");
            }

            frame.Values.CopyTo(values, (long)t * first.Values.Length);
        }

        return new DataSample(values, new[] { frames.Length }.Concat(first.Shape).ToArray(), _labels[index]);
    }
}
