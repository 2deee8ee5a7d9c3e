namespace KnowledgeDistillation.Fuzz;

/// <summary>What a run found for one target.</summary>
internal sealed class TargetReport(string target)
{
    public string Target { get; } = target;

    public int Inputs { get; set; }

    public Dictionary<Outcome, int> Counts { get; } = Enum.GetValues<Outcome>().ToDictionary(o => o, _ => 0);

    /// <summary>Documented refusals by exception type.</summary>
    public Dictionary<string, int> DocumentedTypes { get; } = new();

    public double Seconds { get; set; }

    public long PeakResidentBytes { get; set; }

    public int ChildStarts { get; set; }

    public List<string> Findings { get; } = new();

    public int FindingCount => Counts[Outcome.Unexpected] + Counts[Outcome.Crash] + Counts[Outcome.Hang] + Counts[Outcome.Memory];
}
