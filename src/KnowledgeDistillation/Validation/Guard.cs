using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation;

/// <summary>
/// Argument checks that run before native code sees bad input, with messages naming the argument and the expectation
/// (the expected shape, range or type, and what was found). The core library, the Graph package and third-party losses
/// share them, so that a bad argument reads the same everywhere.
/// </summary>
/// <remarks>
/// Scalar checks throw <see cref="ArgumentOutOfRangeException"/>, tensor checks <see cref="ArgumentException"/>; both set
/// <see cref="ArgumentException.ParamName"/> to the name they are given. Checks return the checked value, so they can be used
/// inline (<c>_scale = Guard.Positive(scale, nameof(scale));</c>). Only <see cref="AllFinite"/> and (on the CPU)
/// <see cref="Labels"/> read tensor values; every other tensor check looks at metadata only and never syncs with the device.
/// </remarks>
public static class Guard
{
    /// <summary>Checks that a number is finite and greater than 0.</summary>
    /// <param name="value">The value to check.</param>
    /// <param name="paramName">The argument's name, used as <see cref="ArgumentException.ParamName"/> and in the message.</param>
    /// <returns><paramref name="value"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The value is NaN, infinite, or &lt;= 0; the message says "must be a finite number &gt; 0".</exception>
    public static double Positive(double value, string paramName)
    {
        if (!(value > 0) || double.IsInfinity(value))
        {
            throw new ArgumentOutOfRangeException(paramName, value, $"'{paramName}' must be a finite number > 0.");
        }

        return value;
    }

    /// <summary>Checks that a number is finite and greater than or equal to 0.</summary>
    /// <param name="value">The value to check.</param>
    /// <param name="paramName">The argument's name, used as <see cref="ArgumentException.ParamName"/> and in the message.</param>
    /// <returns><paramref name="value"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The value is NaN, infinite, or &lt; 0; the message says "must be a finite number &gt;= 0".</exception>
    public static double NonNegative(double value, string paramName)
    {
        if (!(value >= 0) || double.IsInfinity(value))
        {
            throw new ArgumentOutOfRangeException(paramName, value, $"'{paramName}' must be a finite number >= 0.");
        }

        return value;
    }

    /// <summary>Checks that a number lies in the closed interval [<paramref name="min"/>, <paramref name="max"/>].</summary>
    /// <param name="value">The value to check.</param>
    /// <param name="min">The smallest allowed value.</param>
    /// <param name="max">The largest allowed value.</param>
    /// <param name="paramName">The argument's name, used as <see cref="ArgumentException.ParamName"/> and in the message.</param>
    /// <returns><paramref name="value"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The value is NaN or outside the interval; the message names the interval, e.g. "must be in [0, 1]".</exception>
    public static double InRange(double value, double min, double max, string paramName)
    {
        if (!(value >= min && value <= max))
        {
            throw new ArgumentOutOfRangeException(paramName, value, $"'{paramName}' must be in [{min}, {max}].");
        }

        return value;
    }

    /// <summary>Checks that a number is finite (neither NaN nor ±infinity).</summary>
    /// <param name="value">The value to check.</param>
    /// <param name="paramName">The argument's name, used as <see cref="ArgumentException.ParamName"/> and in the message.</param>
    /// <returns><paramref name="value"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The value is NaN or infinite; the message says "must be a finite number".</exception>
    public static double Finite(double value, string paramName)
    {
        if (!double.IsFinite(value))
        {
            throw new ArgumentOutOfRangeException(paramName, value, $"'{paramName}' must be a finite number (not NaN or infinity).");
        }

        return value;
    }

    /// <summary>Checks that a name is neither <c>null</c>, empty nor white space.</summary>
    /// <param name="value">The name to check.</param>
    /// <param name="paramName">The argument's name, used as <see cref="ArgumentException.ParamName"/> and in the message.</param>
    /// <returns><paramref name="value"/>.</returns>
    /// <exception cref="ArgumentException">The name is null, empty or white space.</exception>
    public static string Name(string value, string paramName)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new ArgumentException($"'{paramName}' must be a non-empty name.", paramName);
        }

        return value;
    }

    /// <summary>Formats a tensor's shape for a message, such as <c>[2, 3]</c> (<c>[]</c> for a scalar).</summary>
    /// <param name="t">The tensor.</param>
    /// <returns>The shape as text.</returns>
    public static string Shape(Tensor t)
    {
        ArgumentNullException.ThrowIfNull(t);
        return FormatShape(t.shape);
    }

    /// <summary>
    /// Formats a shape given as its dimension sizes, such as <c>[2, 3]</c> (<c>[]</c> for no dimensions), the way
    /// <see cref="Shape(Tensor)"/> formats a tensor's shape: for shapes that are not (yet) a tensor, such as a file header's.
    /// </summary>
    /// <param name="dimensions">The size of each dimension.</param>
    /// <returns>The shape as text.</returns>
    public static string FormatShape(IEnumerable<long> dimensions)
    {
        ArgumentNullException.ThrowIfNull(dimensions);
        return "[" + string.Join(", ", dimensions.Select(d => d.ToString(CultureInfo.InvariantCulture))) + "]";
    }

    /// <summary>Checks that a tensor has a given number of dimensions.</summary>
    /// <param name="t">The tensor to check.</param>
    /// <param name="rank">The required number of dimensions (0 for a scalar).</param>
    /// <param name="what">The argument's name or description, used as <see cref="ArgumentException.ParamName"/> and in the message.</param>
    /// <param name="layout">The expected layout for the message, such as <c>[batch, channels, height, width]</c>.</param>
    /// <returns><paramref name="t"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="t"/> is null.</exception>
    /// <exception cref="ArgumentException">
    /// The tensor has another rank; the message reads "<c>{what} must have shape {layout}; got [actual shape].</c>".
    /// </exception>
    public static Tensor Rank(Tensor t, int rank, string what, string layout)
    {
        ArgumentNullException.ThrowIfNull(t, what);
        if (t.dim() != rank)
        {
            throw new ArgumentException($"{what} must have shape {layout}; got {Shape(t)}.", what);
        }

        return t;
    }

    /// <summary>Checks that a tensor has a floating-point element type (float16, bfloat16, float32 or float64).</summary>
    /// <param name="t">The tensor to check.</param>
    /// <param name="what">The argument's name or description, used as <see cref="ArgumentException.ParamName"/> and in the message.</param>
    /// <returns><paramref name="t"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="t"/> is null.</exception>
    /// <exception cref="ArgumentException">The tensor is not floating point; the message names the element type found.</exception>
    public static Tensor FloatingPoint(Tensor t, string what)
    {
        ArgumentNullException.ThrowIfNull(t, what);
        if (!is_floating_point(t))
        {
            throw new ArgumentException($"{what} must be floating point; got {t.dtype}.", what);
        }

        return t;
    }

    /// <summary>Checks that two tensors have exactly the same shape.</summary>
    /// <param name="a">The tensor to check.</param>
    /// <param name="aWhat">Its name or description, used as <see cref="ArgumentException.ParamName"/> and in the message.</param>
    /// <param name="b">The tensor whose shape <paramref name="a"/> must have.</param>
    /// <param name="bWhat">Its name or description, used in the message.</param>
    /// <returns><paramref name="a"/>.</returns>
    /// <exception cref="ArgumentNullException">A tensor is null.</exception>
    /// <exception cref="ArgumentException">The shapes differ; the message names both tensors with their shapes.</exception>
    public static Tensor SameShape(Tensor a, string aWhat, Tensor b, string bWhat)
    {
        ArgumentNullException.ThrowIfNull(a, aWhat);
        ArgumentNullException.ThrowIfNull(b, bWhat);
        if (!a.shape.SequenceEqual(b.shape))
        {
            throw new ArgumentException($"{aWhat} {Shape(a)} must have the same shape as {bWhat} {Shape(b)}.", aWhat);
        }

        return a;
    }

    /// <summary>
    /// Checks that logits have <paramref name="expectedClasses"/> classes along dimension 1 (<c>[batch, classes]</c>, or
    /// <c>[batch, classes, ...]</c> for dense predictions).
    /// </summary>
    /// <param name="logits">The logits to check.</param>
    /// <param name="expectedClasses">The required class count, &gt;= 1.</param>
    /// <param name="what">The argument's name or description, used as <see cref="ArgumentException.ParamName"/> and in the message.</param>
    /// <returns><paramref name="logits"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="logits"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="expectedClasses"/> is &lt; 1.</exception>
    /// <exception cref="ArgumentException">
    /// The logits have no class dimension or another class count; the message reads "Class counts differ" and gives the
    /// expected shape, such as <c>[batch, 10]</c>, and the actual one.
    /// </exception>
    public static Tensor ClassCount(Tensor logits, long expectedClasses, string what)
    {
        ArgumentNullException.ThrowIfNull(logits, what);
        if (expectedClasses < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(expectedClasses), expectedClasses, $"'{nameof(expectedClasses)}' must be >= 1.");
        }

        if (logits.dim() < 2 || logits.shape[1] != expectedClasses)
        {
            var found = logits.dim() < 2 ? "no class dimension" : $"{logits.shape[1]} classes";
            var layout = logits.dim() > 2 ? $"[batch, {expectedClasses}, ...]" : $"[batch, {expectedClasses}]";
            throw new ArgumentException(
                $"Class counts differ: {what} has {found} {Shape(logits)}; expected {expectedClasses} classes, shape {layout}.", what);
        }

        return logits;
    }

    /// <summary>Checks that a tensor's first dimension (the batch) has <paramref name="expected"/> rows.</summary>
    /// <param name="t">The tensor to check.</param>
    /// <param name="expected">The required batch size.</param>
    /// <param name="what">The argument's name or description, used as <see cref="ArgumentException.ParamName"/> and in the message.</param>
    /// <returns><paramref name="t"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="t"/> is null.</exception>
    /// <exception cref="ArgumentException">
    /// The tensor is a scalar or has another batch size; the message reads "Batch sizes differ" and gives the expected
    /// shape, such as <c>[8, ...]</c>, and the actual one.
    /// </exception>
    public static Tensor BatchSize(Tensor t, long expected, string what)
    {
        ArgumentNullException.ThrowIfNull(t, what);
        if (t.dim() == 0 || t.shape[0] != expected)
        {
            throw new ArgumentException(
                $"Batch sizes differ: {what} has shape {Shape(t)}; expected batch size {expected}, shape [{expected}, ...].", what);
        }

        return t;
    }

    /// <summary>
    /// Checks that every element of a tensor is finite (no NaN, no ±infinity). Integer and bool tensors always pass without
    /// any work.
    /// </summary>
    /// <remarks>
    /// This reads one bool back from the tensor's device, so on an accelerator it waits for all queued work on the tensor
    /// (a device sync). Use it in debugging paths, in tests, or once per step at most; do not put it in a hot loop.
    /// </remarks>
    /// <param name="t">The tensor to check.</param>
    /// <param name="what">The argument's name or description, used as <see cref="ArgumentException.ParamName"/> and in the message.</param>
    /// <returns><paramref name="t"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="t"/> is null.</exception>
    /// <exception cref="ArgumentException">Some element is NaN or infinite; the message names the tensor and its shape.</exception>
    public static Tensor AllFinite(Tensor t, string what)
    {
        ArgumentNullException.ThrowIfNull(t, what);
        if (!is_floating_point(t) && !is_complex(t))
        {
            return t;
        }

        bool finite;
        using (var scope = NewDisposeScope())
        {
            finite = isfinite(t).all().item<bool>();
        }

        if (!finite)
        {
            throw new ArgumentException($"{what} {Shape(t)} must hold only finite values; it contains NaN or infinity.", what);
        }

        return t;
    }

    /// <summary>Checks that logits are floating point with shape <c>[batch, classes]</c>.</summary>
    /// <param name="logits">The logits to check.</param>
    /// <param name="what">The argument's name or description, used as <see cref="ArgumentException.ParamName"/> and in the message.</param>
    /// <returns><paramref name="logits"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="logits"/> is null.</exception>
    /// <exception cref="ArgumentException">
    /// The logits are not 2-D ("<c>{what} must have shape [batch, classes]; got [actual shape].</c>") or not floating point.
    /// </exception>
    public static Tensor Logits(Tensor logits, string what)
    {
        Rank(logits, 2, what, "[batch, classes]");
        return FloatingPoint(logits, what);
    }

    /// <summary>
    /// Checks that two logits tensors are each valid <see cref="Logits"/> and agree in class count, batch size and device
    /// (a student and a teacher, or two peers).
    /// </summary>
    /// <param name="student">The first logits.</param>
    /// <param name="studentWhat">Their name or description, used as <see cref="ArgumentException.ParamName"/> and in the message.</param>
    /// <param name="teacher">The logits they must match.</param>
    /// <param name="teacherWhat">Their name or description, used in the message.</param>
    /// <exception cref="ArgumentNullException">A tensor is null.</exception>
    /// <exception cref="ArgumentException">
    /// Either is not valid logits, or the class counts ("Class counts differ"), batch sizes ("Batch sizes differ") or devices
    /// differ; the message gives both shapes.
    /// </exception>
    public static void MatchingLogits(Tensor student, string studentWhat, Tensor teacher, string teacherWhat)
    {
        Logits(student, studentWhat);
        Logits(teacher, teacherWhat);
        if (student.shape[1] != teacher.shape[1])
        {
            throw new ArgumentException(
                $"Class counts differ: {studentWhat} has {student.shape[1]} classes {Shape(student)}, " +
                $"{teacherWhat} has {teacher.shape[1]} {Shape(teacher)}. Teacher and student must predict the same classes.",
                studentWhat);
        }

        if (student.shape[0] != teacher.shape[0])
        {
            throw new ArgumentException(
                $"Batch sizes differ: {studentWhat} {Shape(student)} vs {teacherWhat} {Shape(teacher)}.", studentWhat);
        }

        SameDevice(student, studentWhat, teacher, teacherWhat);
    }

    /// <summary>Checks that two tensors are on the same device (type and index).</summary>
    /// <param name="a">The tensor to check.</param>
    /// <param name="aWhat">Its name or description, used as <see cref="ArgumentException.ParamName"/> and in the message.</param>
    /// <param name="b">The tensor whose device <paramref name="a"/> must be on.</param>
    /// <param name="bWhat">Its name or description, used in the message.</param>
    /// <returns><paramref name="a"/>.</returns>
    /// <exception cref="ArgumentNullException">A tensor is null.</exception>
    /// <exception cref="ArgumentException">The devices differ; the message names both.</exception>
    public static Tensor SameDevice(Tensor a, string aWhat, Tensor b, string bWhat)
    {
        ArgumentNullException.ThrowIfNull(a, aWhat);
        ArgumentNullException.ThrowIfNull(b, bWhat);
        if (a.device_type != b.device_type || a.device_index != b.device_index)
        {
            throw new ArgumentException(
                $"{aWhat} is on {a.device} but {bWhat} is on {b.device}; move both participants to the same device.", aWhat);
        }

        return a;
    }

    /// <summary>
    /// Checks class labels against <c>[batch, classes]</c> logits: int64 of shape <c>[batch]</c> on the logits' device, and
    /// (when on the CPU, where the check is free) every label in <c>[0, classes - 1]</c>.
    /// </summary>
    /// <param name="targets">The labels to check.</param>
    /// <param name="logits">The logits they label, already checked with <see cref="Logits"/>.</param>
    /// <param name="what">The labels' name or description, used as <see cref="ArgumentException.ParamName"/> and in the message.</param>
    /// <returns><paramref name="targets"/>.</returns>
    /// <exception cref="ArgumentNullException">A tensor is null.</exception>
    /// <exception cref="ArgumentException">
    /// The labels have the wrong shape (the message gives the expected <c>[batch]</c>), are not int64, are on another device,
    /// or (on the CPU) hold a value outside <c>[0, classes - 1]</c> (the message gives that range).
    /// </exception>
    public static Tensor Labels(Tensor targets, Tensor logits, string what)
    {
        ArgumentNullException.ThrowIfNull(targets, what);
        ArgumentNullException.ThrowIfNull(logits);
        if (targets.dim() != 1 || targets.shape[0] != logits.shape[0])
        {
            throw new ArgumentException(
                $"{what} must be class indices of shape [{logits.shape[0]}]; got {Shape(targets)}.", what);
        }

        if (targets.dtype != ScalarType.Int64)
        {
            throw new ArgumentException($"{what} must be int64 class indices; got {targets.dtype}.", what);
        }

        SameDevice(targets, what, logits, "the logits");
        if (targets.device_type == DeviceType.CPU && targets.numel() > 0)
        {
            var min = targets.min().item<long>();
            var max = targets.max().item<long>();
            var classes = logits.shape[1];
            if (min < 0 || max >= classes)
            {
                throw new ArgumentException(
                    $"{what} must be in [0, {classes - 1}] for {classes} classes; found values in [{min}, {max}].", what);
            }
        }

        return targets;
    }
}
