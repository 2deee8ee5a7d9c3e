namespace KnowledgeDistillation;

/// <summary>
/// What a loss reads in a step: participants' logits, named features per participant, and batch fields (targets, sample
/// indices, extras). <see cref="Engine.Distiller"/> checks every stage's declarations against the participants and the
/// data before the first step (a misspelled name fails there, listing what exists), registers hook capture for declared
/// features (so a feature is named in one place, the loss), and tells a cached teacher which outputs to keep.
/// Instances are immutable; each method returns a new declaration. Start from <see cref="None"/>.
/// </summary>
/// <example><code>LossRequirements.None.Logits("student", "teacher").Feature("teacher", "stage2").Targets()</code></example>
public sealed class LossRequirements
{
    private LossRequirements(
        IReadOnlyList<string> logits,
        IReadOnlyList<FeatureRequirement> features,
        bool targets,
        bool indices,
        IReadOnlyList<string> extras)
    {
        LogitsOf = logits;
        Features = features;
        NeedsTargets = targets;
        NeedsIndices = indices;
        Extras = extras;
    }

    /// <summary>Reads nothing (also what an undeclared loss reports: its reads are then checked only when it runs).</summary>
    public static LossRequirements None { get; } = new(Array.Empty<string>(), Array.Empty<FeatureRequirement>(), false, false, Array.Empty<string>());

    /// <summary>Participants whose logits the loss reads.</summary>
    public IReadOnlyList<string> LogitsOf { get; }

    /// <summary>Named features the loss reads, per participant.</summary>
    public IReadOnlyList<FeatureRequirement> Features { get; }

    /// <summary>Whether the loss reads <see cref="Data.Batch.Targets"/>.</summary>
    public bool NeedsTargets { get; }

    /// <summary>Whether the loss reads <see cref="Data.Batch.Indices"/> (per-sample state).</summary>
    public bool NeedsIndices { get; }

    /// <summary>Names of <see cref="Data.Batch.Extras"/> the loss reads.</summary>
    public IReadOnlyList<string> Extras { get; }

    /// <summary>Every participant the loss reads (logits or features), in first-declared order.</summary>
    public IReadOnlyList<string> Participants => LogitsOf.Concat(Features.Select(f => f.Participant)).Distinct(StringComparer.Ordinal).ToArray();

    /// <summary>Whether nothing is declared.</summary>
    public bool IsEmpty => LogitsOf.Count == 0 && Features.Count == 0 && !NeedsTargets && !NeedsIndices && Extras.Count == 0;

    /// <summary>Adds participants whose logits are read.</summary>
    /// <param name="participants">Participant names (non-empty).</param>
    /// <exception cref="ArgumentException">A name is empty.</exception>
    public LossRequirements Logits(params string[] participants)
    {
        ArgumentNullException.ThrowIfNull(participants);
        var names = participants.Select(p => Guard.Name(p, nameof(participants)));
        return new(Merge(LogitsOf, names), Features, NeedsTargets, NeedsIndices, Extras);
    }

    /// <summary>Adds a named feature of a participant (a submodule path for hook capture, or a name the model returns).</summary>
    /// <param name="participant">The participant's name.</param>
    /// <param name="feature">The feature's name.</param>
    /// <exception cref="ArgumentException">A name is empty.</exception>
    public LossRequirements Feature(string participant, string feature)
    {
        var requirement = new FeatureRequirement(Guard.Name(participant, nameof(participant)), Guard.Name(feature, nameof(feature)));
        return new(LogitsOf, Merge(Features, new[] { requirement }), NeedsTargets, NeedsIndices, Extras);
    }

    /// <summary>Declares that the loss reads the batch's class labels.</summary>
    public LossRequirements Targets() => new(LogitsOf, Features, true, NeedsIndices, Extras);

    /// <summary>Declares that the loss reads the batch's sample indices.</summary>
    public LossRequirements Indices() => new(LogitsOf, Features, NeedsTargets, true, Extras);

    /// <summary>Declares a named extra tensor of the batch.</summary>
    /// <param name="name">The extra's name.</param>
    /// <exception cref="ArgumentException">The name is empty.</exception>
    public LossRequirements Extra(string name) =>
        new(LogitsOf, Features, NeedsTargets, NeedsIndices, Merge(Extras, new[] { Guard.Name(name, nameof(name)) }));

    /// <summary>Everything either declaration reads (for sums and recipes).</summary>
    /// <param name="other">The other declaration.</param>
    public LossRequirements Union(LossRequirements other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return new(
            Merge(LogitsOf, other.LogitsOf),
            Merge(Features, other.Features),
            NeedsTargets || other.NeedsTargets,
            NeedsIndices || other.NeedsIndices,
            Merge(Extras, other.Extras));
    }

    /// <summary>Everything any of the declarations reads.</summary>
    /// <param name="requirements">The declarations.</param>
    public static LossRequirements Combine(IEnumerable<LossRequirements> requirements)
    {
        ArgumentNullException.ThrowIfNull(requirements);
        return requirements.Aggregate(None, (all, r) => all.Union(r));
    }

    /// <inheritdoc />
    public override string ToString()
    {
        var parts = new List<string>();
        parts.AddRange(LogitsOf.Select(p => $"logits of '{p}'"));
        parts.AddRange(Features.Select(f => f.ToString()));
        if (NeedsTargets)
        {
            parts.Add("targets");
        }

        if (NeedsIndices)
        {
            parts.Add("sample indices");
        }

        parts.AddRange(Extras.Select(e => $"extra '{e}'"));
        return parts.Count == 0 ? "nothing declared" : string.Join(", ", parts);
    }

    private static IReadOnlyList<T> Merge<T>(IReadOnlyList<T> first, IEnumerable<T> second) => first.Concat(second).Distinct().ToArray();
}

/// <summary>A named feature of a participant that a loss reads.</summary>
/// <param name="Participant">The participant's name.</param>
/// <param name="Feature">The feature's name.</param>
public readonly record struct FeatureRequirement(string Participant, string Feature)
{
    /// <inheritdoc />
    public override string ToString() => $"feature '{Feature}' of '{Participant}'";
}
