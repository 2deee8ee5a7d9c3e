namespace KnowledgeDistillation.Engine;

/// <summary>Settings of <see cref="ConsoleProgress"/>.</summary>
public sealed class ConsoleProgressOptions
{
    /// <summary>
    /// Whether to redraw one live line (a terminal) or write plain lines (redirected output, CI logs). <c>null</c>
    /// (default) picks live when writing to the console and the console's output is not redirected.
    /// </summary>
    public bool? Live { get; set; }

    /// <summary>How often the live line is redrawn (default 250 ms); each redraw reads the loss from the device once.</summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How often a plain progress line is written within an epoch (default 10 s); epoch summaries are always written.</summary>
    public TimeSpan LineInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Write the epoch summary every this many epochs (default 1), and always after a stage's last epoch and when a
    /// callback stops training; &gt;= 1. Raise it for runs of hundreds of short epochs (full-graph training).
    /// </summary>
    public int SummaryEveryEpochs { get; set; } = 1;

    /// <summary>Characters of the bar (default 24), &gt;= 1.</summary>
    public int BarWidth { get; set; } = 24;

    /// <summary>The clock (default <see cref="TimeProvider.System"/>; tests pass their own).</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Checks every value; throws an exception whose parameter name is the offending property.</summary>
    /// <exception cref="ArgumentException">A value is invalid.</exception>
    public void Validate()
    {
        if (RefreshInterval < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(RefreshInterval), RefreshInterval, "RefreshInterval must be >= 0.");
        }

        if (LineInterval < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(LineInterval), LineInterval, "LineInterval must be >= 0.");
        }

        if (SummaryEveryEpochs < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(SummaryEveryEpochs), SummaryEveryEpochs, "SummaryEveryEpochs must be >= 1.");
        }

        if (BarWidth < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(BarWidth), BarWidth, "BarWidth must be >= 1.");
        }

        ArgumentNullException.ThrowIfNull(TimeProvider, nameof(TimeProvider));
    }
}
