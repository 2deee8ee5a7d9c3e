using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>The argument checks the graph distillation terms share (teacher names, teacher logits, features).</summary>
internal static class GraphDistillationChecks
{
    /// <summary>At least two distinct teacher names, none the student's.</summary>
    public static IReadOnlyList<string> TeacherNames(IReadOnlyList<string> teachers, string student)
    {
        ArgumentNullException.ThrowIfNull(teachers);
        var names = teachers.Select(t => Guard.Name(t, nameof(teachers))).ToArray();
        if (names.Length < 2)
        {
            throw new ArgumentException($"Graph distillation needs at least two teachers; got {names.Length}. For one teacher use Loss.KD.", nameof(teachers));
        }

        if (names.Distinct(StringComparer.Ordinal).Count() != names.Length || names.Contains(student, StringComparer.Ordinal))
        {
            throw new ArgumentException(
                $"The teachers must be distinct and differ from the student '{student}'; got {string.Join(", ", names.Select(t => $"'{t}'"))}.", nameof(teachers));
        }

        return names;
    }

    /// <summary>At least two teachers' logits, each matching the student's (classes, batch, device), named in the message.</summary>
    public static void TeacherLogits(Tensor studentLogits, IReadOnlyList<Tensor> teacherLogits, IReadOnlyList<string>? names = null)
    {
        ArgumentNullException.ThrowIfNull(studentLogits);
        ArgumentNullException.ThrowIfNull(teacherLogits);
        if (teacherLogits.Count < 2)
        {
            throw new ArgumentException($"Graph distillation needs at least two teachers' logits; got {teacherLogits.Count}.", nameof(teacherLogits));
        }

        for (var k = 0; k < teacherLogits.Count; k++)
        {
            ArgumentNullException.ThrowIfNull(teacherLogits[k], nameof(teacherLogits));
            var what = names is null ? $"teacher {k} logits" : $"teacher '{names[k]}' logits";
            Guard.MatchingLogits(studentLogits, "student logits", teacherLogits[k], what);
        }
    }

    /// <summary>A feature as [batch, dim] (flattening any trailing dimensions), floating point, with the expected batch size and device.</summary>
    public static Tensor Feature(Tensor feature, long batch, Device device, string what)
    {
        ArgumentNullException.ThrowIfNull(feature, what);
        if (feature.dim() < 2)
        {
            throw new ArgumentException($"{what} must have shape [batch, ...]; got {Guard.Shape(feature)}.", what);
        }

        Guard.FloatingPoint(feature, what);
        Guard.BatchSize(feature, batch, what);
        if (feature.device_type != device.type || feature.device_index != device.index)
        {
            throw new ArgumentException($"{what} is on {feature.device}; expected {device}.", what);
        }

        return feature.dim() == 2 ? feature : feature.flatten(1);
    }
}
