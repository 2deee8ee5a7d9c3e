namespace KnowledgeDistillation.Graph.KnowledgeGraphs;

/// <summary>Options of <see cref="TripleFileReader"/> and <see cref="KnowledgeGraph.Load(string, bool, TripleFileReaderOptions?)"/>.</summary>
public sealed class TripleFileReaderOptions
{
    /// <summary>The default <see cref="MaxLineBytes"/>: 64 KiB.</summary>
    public const int DefaultMaxLineBytes = 64 * 1024;

    /// <summary>The defaults.</summary>
    public static TripleFileReaderOptions Default { get; } = new();

    /// <summary>
    /// The longest line accepted, in UTF-8 bytes without the line break; default <see cref="DefaultMaxLineBytes"/>. It is
    /// enforced while reading, so a file without line breaks cannot make the reader buffer more than this.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    public int MaxLineBytes
    {
        get => _maxLineBytes;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            _maxLineBytes = value;
        }
    }

    private readonly int _maxLineBytes = DefaultMaxLineBytes;
}
