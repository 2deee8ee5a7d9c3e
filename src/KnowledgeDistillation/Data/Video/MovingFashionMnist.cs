namespace KnowledgeDistillation.Data;

/// <summary>
/// Moving Fashion-MNIST: clips in the style of Moving MNIST (Srivastava, Mansimov and Salakhutdinov, ICML 2015) with one
/// Fashion-MNIST item bouncing in a square canvas; the clip's class is the item's class. Nothing is stored: clip <c>i</c> is
/// generated when it is read, from source image <c>i mod N</c> and a trajectory that is a pure function of (seed, i), so a seed
/// always gives the same clips, in any order and on any thread. Train and test clips come from the corresponding Fashion-MNIST
/// splits (<see cref="Load"/>).
/// </summary>
/// <remarks>
/// The generator, per clip: a SplitMix64 stream (<see cref="SampleRandom"/>) seeded from (seed, i) draws the start position
/// <c>(x, y)</c> uniformly in <c>[0, S − w]²</c> (S the canvas, w the item's size), a direction <c>θ</c> uniformly in [0, 2π) and a
/// speed uniformly in [<see cref="MinSpeed"/>, <see cref="MaxSpeed"/>] pixels per frame, in that order. Frame t shows the item with
/// its top-left corner at <c>(round(x), round(y))</c> on a zero canvas; then the position advances by the velocity and a
/// coordinate that leaves <c>[0, S − w]</c> is reflected back into it with its velocity component negated (a bounce). Samples are
/// float32 <c>[T, C, S, S]</c> with the source's value range (Fashion-MNIST: [0, 1]).
/// </remarks>
public sealed class MovingFashionMnist : IDataset
{
    private const int StreamTag = -0x4D4F56; // keeps the trajectories' streams apart from a pipeline's transforms at the same seed
    private readonly IDataset _source;
    private readonly int[] _itemShape;

    /// <summary>Creates the generator over a source of labelled images.</summary>
    /// <param name="source">Images <c>[C, h, w]</c> with labels (e.g. an <see cref="IdxDataset"/> over Fashion-MNIST), at most the canvas size.</param>
    /// <param name="frames">Frames per clip T, &gt;= 1 (default 10).</param>
    /// <param name="seed">The seed of the trajectories.</param>
    /// <param name="count">The number of clips (default: one per source image).</param>
    /// <param name="canvasSize">The canvas side S (default 64).</param>
    /// <param name="minSpeed">The smallest speed in pixels per frame, &gt;= 0 (default 2).</param>
    /// <param name="maxSpeed">The largest speed, &gt;= <paramref name="minSpeed"/> (default 5).</param>
    /// <exception cref="ArgumentException">The source is empty, unlabelled, or its first image is not <c>[C, h, w]</c> within the canvas.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A count, size or speed out of range.</exception>
    public MovingFashionMnist(IDataset source, int frames = 10, int seed = 0, long? count = null, int canvasSize = 64, double minSpeed = 2, double maxSpeed = 5)
    {
        _source = source ?? throw new ArgumentNullException(nameof(source));
        if (source.Count < 1 || source.ClassCount is null)
        {
            throw new ArgumentException("The source must hold at least one labelled image.", nameof(source));
        }

        Frames = frames >= 1 ? frames : throw new ArgumentOutOfRangeException(nameof(frames), frames, "'frames' must be >= 1.");
        CanvasSize = canvasSize >= 1 ? canvasSize : throw new ArgumentOutOfRangeException(nameof(canvasSize), canvasSize, "'canvasSize' must be >= 1.");
        Count = count ?? source.Count;
        if (Count < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, "'count' must be >= 1.");
        }

        MinSpeed = Guard.NonNegative(minSpeed, nameof(minSpeed));
        MaxSpeed = maxSpeed >= minSpeed && double.IsFinite(maxSpeed) ? maxSpeed : throw new ArgumentOutOfRangeException(nameof(maxSpeed), maxSpeed, "'maxSpeed' must be finite and >= minSpeed.");
        Seed = seed;
        _itemShape = source.Get(0).Shape;
        if (_itemShape.Length != 3 || _itemShape[1] > canvasSize || _itemShape[2] > canvasSize)
        {
            throw new ArgumentException($"The source's images must be [C, h, w] with h, w <= the canvas ({canvasSize}); got {DataShape.Format(_itemShape)}.", nameof(source));
        }
    }

    /// <summary>Frames per clip.</summary>
    public int Frames { get; }

    /// <summary>The canvas side in pixels.</summary>
    public int CanvasSize { get; }

    /// <summary>The seed of the trajectories.</summary>
    public int Seed { get; }

    /// <summary>The smallest speed (pixels per frame).</summary>
    public double MinSpeed { get; }

    /// <summary>The largest speed (pixels per frame).</summary>
    public double MaxSpeed { get; }

    /// <summary>The shape of one clip, <c>[T, C, S, S]</c>.</summary>
    public IReadOnlyList<int> ClipShape => new[] { Frames, _itemShape[0], CanvasSize, CanvasSize };

    /// <inheritdoc />
    public long Count { get; }

    /// <inheritdoc />
    public int? ClassCount => _source.ClassCount;

    /// <summary>
    /// Moving Fashion-MNIST over a Fashion-MNIST split read from <paramref name="directory"/> (default: the
    /// <see cref="FashionMnist.EnvironmentVariable"/> directory if set, else <see cref="FashionMnist.SystemDirectory"/>), which
    /// holds the four IDX files (plain or <c>.gz</c>).
    /// </summary>
    /// <param name="train">The training split (60,000 images) or the test split (10,000).</param>
    /// <param name="frames">Frames per clip.</param>
    /// <param name="seed">The seed of the trajectories.</param>
    /// <param name="count">The number of clips (default: one per image of the split).</param>
    /// <param name="directory">The directory of the IDX files.</param>
    /// <exception cref="FileNotFoundException">The split's files are not there.</exception>
    public static MovingFashionMnist Load(bool train, int frames = 10, int seed = 0, long? count = null, string? directory = null)
    {
        directory ??= Environment.GetEnvironmentVariable(FashionMnist.EnvironmentVariable) is { Length: > 0 } env ? env : FashionMnist.SystemDirectory;
        var prefix = train ? "train" : "t10k";
        string Find(string name) =>
            new[] { Path.Combine(directory, name + ".gz"), Path.Combine(directory, name) }.FirstOrDefault(File.Exists)
            ?? throw new FileNotFoundException($"Fashion-MNIST file '{name}(.gz)' is not in '{directory}'.", Path.Combine(directory, name));
        var source = new IdxDataset(Find($"{prefix}-images-idx3-ubyte"), Find($"{prefix}-labels-idx1-ubyte"));
        return new MovingFashionMnist(source, frames, seed, count);
    }

    /// <summary>The item's top-left corner in each frame, [T] pairs (x = column, y = row), for clip <paramref name="index"/>.</summary>
    /// <param name="index">The clip index.</param>
    public IReadOnlyList<(int X, int Y)> Trajectory(long index)
    {
        CheckIndex(index);
        var random = SampleRandom.For(Seed ^ StreamTag, 0, index);
        var (h, w) = (_itemShape[1], _itemShape[2]);
        var (maxX, maxY) = ((double)(CanvasSize - w), (double)(CanvasSize - h));
        var x = random.NextDouble() * maxX;
        var y = random.NextDouble() * maxY;
        var angle = random.NextDouble() * 2 * Math.PI;
        var speed = MinSpeed + (random.NextDouble() * (MaxSpeed - MinSpeed));
        var (vx, vy) = (speed * Math.Cos(angle), speed * Math.Sin(angle));
        var positions = new (int, int)[Frames];
        for (var t = 0; t < Frames; t++)
        {
            positions[t] = ((int)Math.Round(x, MidpointRounding.ToEven), (int)Math.Round(y, MidpointRounding.ToEven));
            (x, vx) = Bounce(x + vx, vx, maxX);
            (y, vy) = Bounce(y + vy, vy, maxY);
        }

        return positions;
    }

    /// <inheritdoc />
    public DataSample Get(long index)
    {
        CheckIndex(index);
        var item = _source.Get(index % _source.Count);
        if (!item.Shape.AsSpan().SequenceEqual(_itemShape))
        {
            throw new InvalidDataException($"Source image {index % _source.Count} has shape {DataShape.Format(item.Shape)}; the first had {DataShape.Format(_itemShape)}.");
        }

        var (c, h, w) = (_itemShape[0], _itemShape[1], _itemShape[2]);
        var s = CanvasSize;
        var values = new float[(long)Frames * c * s * s];
        var trajectory = Trajectory(index);
        for (var t = 0; t < Frames; t++)
        {
            var (x0, y0) = trajectory[t];
            for (var ch = 0; ch < c; ch++)
            {
                for (var row = 0; row < h; row++)
                {
                    var src = ((ch * h) + row) * w;
                    var dst = ((((long)t * c) + ch) * s * s) + ((long)(y0 + row) * s) + x0;
                    item.Values.AsSpan(src, w).CopyTo(values.AsSpan((int)dst, w));
                }
            }
        }

        return new DataSample(values, new[] { Frames, c, s, s }, item.Label);
    }

    private static (double Position, double Velocity) Bounce(double position, double velocity, double max)
    {
        // Reflect until inside [0, max] (a fast item can cross the whole range in one step).
        while (position < 0 || position > max)
        {
            if (max <= 0)
            {
                return (0, 0);
            }

            (position, velocity) = position < 0 ? (-position, -velocity) : ((2 * max) - position, -velocity);
        }

        return (position, velocity);
    }

    private void CheckIndex(long index)
    {
        if (index < 0 || index >= Count)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"Expected 0..{Count - 1}.");
        }
    }
}
