using System.Globalization;

namespace KnowledgeDistillation.Transformers.Losses;

/// <summary>
/// Which teacher layer each student layer learns from: pairs (student layer, teacher layer), 1-based as in
/// <see cref="BertFeatures.Hidden"/> and <see cref="BertFeatures.Attention"/>; layer 0 is the embedding output (hidden
/// states only).
/// </summary>
public sealed class LayerMap
{
    private LayerMap(IReadOnlyList<(int Student, int Teacher)> pairs)
    {
        Pairs = pairs;
    }

    /// <summary>The pairs, in the order given (bottom-up for the built-in maps).</summary>
    public IReadOnlyList<(int Student, int Teacher)> Pairs { get; }

    /// <summary>Number of pairs.</summary>
    public int Count => Pairs.Count;

    /// <summary>
    /// Student layer j learns from teacher layer round(j * teacherLayers / studentLayers): for 6 student and 12 teacher
    /// layers, g = [2, 4, 6, 8, 10, 12] (Aguilar et al.'s every-other-layer map); the last layers always meet.
    /// </summary>
    /// <param name="studentLayers">Student depth (>= 1).</param>
    /// <param name="teacherLayers">Teacher depth (>= studentLayers).</param>
    /// <returns>The map.</returns>
    public static LayerMap Uniform(int studentLayers, int teacherLayers)
    {
        CheckDepths(studentLayers, teacherLayers);
        return new LayerMap(Enumerable.Range(1, studentLayers)
            .Select(j => (j, (int)Math.Round(j * (double)teacherLayers / studentLayers, MidpointRounding.AwayFromZero)))
            .ToArray());
    }

    /// <summary>Student layer j learns from teacher layer teacherLayers - studentLayers + j (the teacher's top layers).</summary>
    /// <param name="studentLayers">Student depth (>= 1).</param>
    /// <param name="teacherLayers">Teacher depth (>= studentLayers).</param>
    /// <returns>The map.</returns>
    public static LayerMap Last(int studentLayers, int teacherLayers)
    {
        CheckDepths(studentLayers, teacherLayers);
        return new LayerMap(Enumerable.Range(1, studentLayers).Select(j => (j, teacherLayers - studentLayers + j)).ToArray());
    }

    /// <summary>Explicit pairs.</summary>
    /// <param name="pairs">(student layer, teacher layer), each >= 0; a student layer at most once.</param>
    /// <returns>The map.</returns>
    /// <exception cref="ArgumentException">No pairs, a negative layer, or a repeated student layer.</exception>
    public static LayerMap Explicit(params (int Student, int Teacher)[] pairs)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        if (pairs.Length == 0)
        {
            throw new ArgumentException("A layer map needs at least one (student, teacher) pair.", nameof(pairs));
        }

        if (pairs.Any(p => p.Student < 0 || p.Teacher < 0))
        {
            throw new ArgumentException($"Layers are >= 0 (0 = embeddings); got {Format(pairs)}.", nameof(pairs));
        }

        if (pairs.Select(p => p.Student).Distinct().Count() != pairs.Length)
        {
            throw new ArgumentException($"Each student layer may appear once; got {Format(pairs)}.", nameof(pairs));
        }

        return new LayerMap(pairs.ToArray());
    }

    /// <summary>The map of the first <paramref name="count"/> pairs (stacked distillation).</summary>
    /// <param name="count">1 to <see cref="Count"/>.</param>
    /// <returns>The map.</returns>
    public LayerMap Take(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, Count);
        return new LayerMap(Pairs.Take(count).ToArray());
    }

    /// <summary>The map of pair <paramref name="index"/> alone (progressive distillation).</summary>
    /// <param name="index">0 to <see cref="Count"/> - 1.</param>
    /// <returns>The map.</returns>
    public LayerMap At(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return new LayerMap(new[] { Pairs[index] });
    }

    /// <summary>Throws when a pair names a layer outside the models' depths or below <paramref name="lowest"/>.</summary>
    /// <param name="studentLayers">Student depth.</param>
    /// <param name="teacherLayers">Teacher depth.</param>
    /// <param name="lowest">0 when embeddings may be paired, 1 otherwise.</param>
    /// <param name="paramName">The argument to name.</param>
    public void Check(int studentLayers, int teacherLayers, int lowest, string paramName)
    {
        var bad = Pairs.Where(p => p.Student < lowest || p.Teacher < lowest || p.Student > studentLayers || p.Teacher > teacherLayers).ToArray();
        if (bad.Length > 0)
        {
            throw new ArgumentException(
                $"Layer map pairs {Format(bad)} are outside the models: student layers {lowest}..{studentLayers}, teacher layers {lowest}..{teacherLayers}.",
                paramName);
        }
    }

    /// <inheritdoc />
    public override string ToString() => Format(Pairs);

    private static string Format(IEnumerable<(int Student, int Teacher)> pairs) =>
        "[" + string.Join(", ", pairs.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Student}<-{p.Teacher}"))) + "]";

    private static void CheckDepths(int studentLayers, int teacherLayers)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(studentLayers, 1);
        if (teacherLayers < studentLayers)
        {
            throw new ArgumentOutOfRangeException(nameof(teacherLayers), teacherLayers, $"The teacher must have at least the student's {studentLayers} layers.");
        }
    }
}
