namespace KnowledgeDistillation.Detection.Losses;

/// <summary>
/// Counts of ICD's real/fake identification over some queries, per class (a query counts as identified as real when its
/// logit is positive). At the task's prior every query is called fake: <see cref="RealRecall"/> is 0 and
/// <see cref="Accuracy"/> is the share of fakes, r/(r+1).
/// </summary>
/// <param name="Real">Real queries per class.</param>
/// <param name="RealIdentified">Real queries called real, per class.</param>
/// <param name="Fake">Fake queries per class.</param>
/// <param name="FakeRejected">Fake queries called fake, per class.</param>
public sealed record IcdIdentificationReport(IReadOnlyList<long> Real, IReadOnlyList<long> RealIdentified, IReadOnlyList<long> Fake, IReadOnlyList<long> FakeRejected)
{
    /// <summary>The share of all queries classified correctly.</summary>
    public double Accuracy => Ratio(RealIdentified.Sum() + FakeRejected.Sum(), Real.Sum() + Fake.Sum());

    /// <summary>The share of real queries called real.</summary>
    public double RealRecall => Ratio(RealIdentified.Sum(), Real.Sum());

    /// <summary>The share of fake queries called fake.</summary>
    public double FakeRejection => Ratio(FakeRejected.Sum(), Fake.Sum());

    /// <summary>The share of one class's queries (real and fake) classified correctly; NaN without queries of the class.</summary>
    /// <param name="classIndex">The class.</param>
    public double ClassAccuracy(int classIndex) => Ratio(RealIdentified[classIndex] + FakeRejected[classIndex], Real[classIndex] + Fake[classIndex]);

    /// <summary>The share of one class's real queries called real; NaN without real queries of the class.</summary>
    /// <param name="classIndex">The class.</param>
    public double ClassRecall(int classIndex) => Ratio(RealIdentified[classIndex], Real[classIndex]);

    /// <summary>The share of one class's fake queries called fake; NaN without fake queries of the class.</summary>
    /// <param name="classIndex">The class.</param>
    public double ClassFakeRejection(int classIndex) => Ratio(FakeRejected[classIndex], Fake[classIndex]);

    /// <summary>Adds two reports' counts (e.g. over several batches).</summary>
    /// <param name="other">A report over the same classes.</param>
    /// <exception cref="ArgumentException">The class counts differ.</exception>
    public IcdIdentificationReport Add(IcdIdentificationReport other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.Real.Count != Real.Count)
        {
            throw new ArgumentException($"Reports over {Real.Count} and {other.Real.Count} classes cannot be added.", nameof(other));
        }

        static long[] Sum(IReadOnlyList<long> a, IReadOnlyList<long> b) => a.Zip(b, (x, y) => x + y).ToArray();
        return new IcdIdentificationReport(Sum(Real, other.Real), Sum(RealIdentified, other.RealIdentified), Sum(Fake, other.Fake), Sum(FakeRejected, other.FakeRejected));
    }

    private static double Ratio(long numerator, long denominator) => denominator == 0 ? double.NaN : (double)numerator / denominator;
}
