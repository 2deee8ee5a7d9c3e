using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Internal;

/// <summary>Argument checks that run before native code sees bad input, with messages naming the argument and the expectation.</summary>
internal static class Guard
{
    public static double Positive(double value, string paramName)
    {
        if (!(value > 0) || double.IsInfinity(value))
        {
            throw new ArgumentOutOfRangeException(paramName, value, $"'{paramName}' must be a finite number > 0.");
        }

        return value;
    }

    public static double NonNegative(double value, string paramName)
    {
        if (!(value >= 0) || double.IsInfinity(value))
        {
            throw new ArgumentOutOfRangeException(paramName, value, $"'{paramName}' must be a finite number >= 0.");
        }

        return value;
    }

    public static double InRange(double value, double min, double max, string paramName)
    {
        if (!(value >= min && value <= max))
        {
            throw new ArgumentOutOfRangeException(paramName, value, $"'{paramName}' must be in [{min}, {max}].");
        }

        return value;
    }

    public static string Name(string value, string paramName)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new ArgumentException($"'{paramName}' must be a non-empty name.", paramName);
        }

        return value;
    }

    public static string Shape(Tensor t) => $"[{string.Join(", ", t.shape)}]";

    /// <summary>Logits must be [batch, classes] floating point.</summary>
    public static void Logits(Tensor logits, string what)
    {
        if (logits.dim() != 2)
        {
            throw new ArgumentException($"{what} must have shape [batch, classes]; got {Shape(logits)}.", what);
        }

        if (!is_floating_point(logits))
        {
            throw new ArgumentException($"{what} must be floating point; got {logits.dtype}.", what);
        }
    }

    /// <summary>Two logits tensors must agree in shape (same batch, same class count) and device.</summary>
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

    public static void SameDevice(Tensor a, string aWhat, Tensor b, string bWhat)
    {
        if (a.device_type != b.device_type || a.device_index != b.device_index)
        {
            throw new ArgumentException(
                $"{aWhat} is on {a.device} but {bWhat} is on {b.device}; move both participants to the same device.", aWhat);
        }
    }

    /// <summary>Class labels: int64 [batch] matching the logits, and (when on the CPU, where the check is free) in range.</summary>
    public static void Labels(Tensor targets, Tensor logits, string what)
    {
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
    }
}
