namespace KnowledgeDistillation.Fuzz;

/// <summary>Checks a target's seeds: each must be accepted unchanged, or the corpus tests nothing past the first check.</summary>
internal static class Seeds
{
    /// <summary>Runs every seed through <paramref name="target"/>.</summary>
    /// <exception cref="InvalidOperationException">A seed is not accepted.</exception>
    public static void Verify(FuzzTarget target, IReadOnlyList<(string Name, byte[] Data)> seeds, string scratch)
    {
        if (seeds.Count == 0)
        {
            throw new InvalidOperationException($"Target '{target.Name}' made no seeds.");
        }

        if (!target.SeedsMustBeAccepted)
        {
            return;
        }

        var run = Path.Combine(scratch, "verify");
        Directory.CreateDirectory(run);
        foreach (var (name, data) in seeds)
        {
            var (outcome, detail) = Execution.Classify(target, data, run);
            if (outcome != Outcome.Ok)
            {
                throw new InvalidOperationException($"Seed '{name}' of target '{target.Name}' is not accepted unchanged ({outcome}: {detail}).");
            }
        }
    }
}
