using KnowledgeDistillation.Data;

namespace KnowledgeDistillation.Engine;

/// <summary>
/// Checks what every stage's loss declares it reads (<see cref="IDistillationLoss.Requirements"/>) against the participants
/// before the first step, registers hook capture for the declared features, and checks declared batch fields on a stage's
/// first batch. Messages name the stage, the loss and what exists.
/// </summary>
internal static class LossRequirementsCheck
{
    /// <summary>Validates participants and features of every stage, then asks each participant to produce its declared features.</summary>
    public static void ValidateAndCapture(IReadOnlyList<IDistillationModel> participants, IReadOnlyList<DistillationStage> stages)
    {
        var byName = participants.ToDictionary(p => p.Name, StringComparer.Ordinal);
        foreach (var (stage, loss) in stages.SelectMany(s => Terms(s.Loss).Select(term => (s, term))))
        {
            var requirements = loss.Requirements;
            var active = StageRun.ListedActive(stage, participants).Select(p => p.Name).ToArray();
            foreach (var name in requirements.Participants)
            {
                if (!active.Contains(name, StringComparer.Ordinal))
                {
                    var why = byName.ContainsKey(name) ? "which is not active in this stage" : "which does not exist";
                    throw new ArgumentException(
                        $"Stage '{stage.Name}': loss '{loss.Name}' reads participant '{name}', {why}. " +
                        $"Participants active in the stage: {Quoted(active)}.",
                        "stages");
                }
            }

            foreach (var feature in requirements.Features)
            {
                if (byName[feature.Participant].AvailableFeatures is { } available && !available.Contains(feature.Feature))
                {
                    throw new ArgumentException(
                        $"Stage '{stage.Name}': loss '{loss.Name}' reads feature '{feature.Feature}' of participant '{feature.Participant}', " +
                        $"which it cannot produce. Features it can produce: {Quoted(available.Take(60))}{(available.Count > 60 ? ", ..." : string.Empty)}.",
                        "stages");
                }
            }
        }

        Capture(participants, stages);
    }

    /// <summary>
    /// Asks each participant to produce the features the stages' losses declare for it (idempotent: already captured names
    /// are skipped). Called by <see cref="ValidateAndCapture"/> and before an evaluation, whose models may read them.
    /// </summary>
    public static void Capture(IReadOnlyList<IDistillationModel> participants, IReadOnlyList<DistillationStage> stages)
    {
        var declared = stages.SelectMany(s => Terms(s.Loss)).SelectMany(l => l.Requirements.Features)
            .Where(f => participants.Any(p => p.Name == f.Participant));
        foreach (var group in declared.GroupBy(f => f.Participant, StringComparer.Ordinal))
        {
            var participant = participants.First(p => p.Name == group.Key);
            participant.CaptureFeatures(group.Select(f => f.Feature).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray());
        }
    }

    /// <summary>Checks a stage's first batch for the targets, indices and extras its loss declares.</summary>
    public static void CheckBatch(DistillationStage stage, Batch batch)
    {
        foreach (var loss in Terms(stage.Loss))
        {
            CheckBatch(stage, loss, batch);
        }
    }

    /// <summary>The terms of sums and weighted losses (so messages name the term that reads, not "total").</summary>
    public static IEnumerable<IDistillationLoss> Terms(IDistillationLoss loss) => loss switch
    {
        Losses.SumLoss sum => sum.Terms.SelectMany(Terms),
        Losses.WeightedLoss weighted => Terms(weighted.Inner),
        _ => new[] { loss },
    };

    private static void CheckBatch(DistillationStage stage, IDistillationLoss loss, Batch batch)
    {
        var requirements = loss.Requirements;
        if (requirements.NeedsTargets && batch.Targets is null)
        {
            throw new ArgumentException(
                $"Stage '{stage.Name}': loss '{loss.Name}' reads the batch's targets, but the training data has none. Use data with labels.",
                "train");
        }

        foreach (var extra in requirements.Extras)
        {
            if (!batch.Extras.ContainsKey(extra))
            {
                throw new ArgumentException(
                    $"Stage '{stage.Name}': loss '{loss.Name}' reads the batch extra '{extra}', but the training batches carry " +
                    $"{(batch.Extras.Count == 0 ? "no extras" : Quoted(batch.Extras.Keys))}.",
                    "train");
            }
        }
    }

    private static string Quoted(IEnumerable<string> names)
    {
        var list = names.Select(n => $"'{n}'").ToArray();
        return list.Length == 0 ? "none" : string.Join(", ", list);
    }
}
