namespace KnowledgeDistillation.Fuzz;

/// <summary>Settings of a mutation run (<c>run</c> command).</summary>
internal sealed record DriverOptions
{
    /// <summary>The targets to run (default: all).</summary>
    public IReadOnlyList<FuzzTarget> Targets { get; init; } = FuzzTargets.All;

    /// <summary>Mutated inputs per target.</summary>
    public int Inputs { get; init; } = 2000;

    /// <summary>The run's seed (inputs are a function of it).</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>The longest one input may run before it counts as a hang.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Extra time allowed for the first input of a fresh child (runtime and native library start).</summary>
    public TimeSpan Startup { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Stop a target after this long even if not all its inputs ran (null: no limit); not a failure.</summary>
    public TimeSpan? BudgetPerTarget { get; init; }

    /// <summary>A child's peak resident memory above this is a finding.</summary>
    public long MaxResidentBytes { get; init; } = 2048L << 20;

    /// <summary>The child's managed heap limit (DOTNET_GCHeapHardLimit): an allocation past it is an OutOfMemoryException, a finding.</summary>
    public long HeapLimitBytes { get; init; } = 1024L << 20;

    /// <summary>The largest input the mutator produces, as a multiple of the largest seed plus 64 KiB.</summary>
    public int GrowthFactor { get; init; } = 2;

    /// <summary>Where inputs that caused findings are saved (with a .txt describing each).</summary>
    public string FindingsDirectory { get; init; } = "fuzz-findings";

    /// <summary>A directory with a sub-directory of seed files per target to use instead of generated seeds (null: generate).</summary>
    public string? CorpusDirectory { get; init; }

    /// <summary>A file to write the summary table (Markdown) to (null: only print it).</summary>
    public string? ReportPath { get; init; }
}
