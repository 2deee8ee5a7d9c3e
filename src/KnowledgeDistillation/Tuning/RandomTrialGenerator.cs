namespace KnowledgeDistillation.Tuning;

/// <summary>Independent draws: trial <c>i</c> draws its parameters, in declaration order, from the stream of (seed, <c>i</c>).</summary>
internal sealed class RandomTrialGenerator : TrialGenerator
{
    public RandomTrialGenerator(IReadOnlyList<SearchParameter> parameters, int seed)
        : base(parameters, seed)
    {
    }

    /// <inheritdoc />
    public override int Capacity => int.MaxValue;

    /// <inheritdoc />
    protected override object[] Values(int index)
    {
        var random = TrialRandom.For(Seed, index);
        var values = new object[Parameters.Count];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = Parameters[i].Sample(random);
        }

        return values;
    }
}
