using KnowledgeDistillation.Models;

namespace FashionMnistDistillation;

/// <summary>The student architectures the sample can distil into (the teacher, SmallCnn.Teacher, has about 421 K parameters).</summary>
internal static class Students
{
    public static readonly string[] Names = { "tiny", "small", "medium" };

    public static SmallCnn Create(string name) => name switch
    {
        // ~4.5 K parameters (1% of the teacher): blocks of 4 and 8 channels, linear head.
        "tiny" => SmallCnn.Student(),

        // ~9.3 K parameters (2%): blocks of 8 and 16 channels, linear head.
        "small" => new SmallCnn(new[] { 8, 16 }),

        // ~106 K parameters (25%): blocks of 16 and 32 channels, a 64-unit hidden layer.
        "medium" => new SmallCnn(new[] { 16, 32 }, hidden: 64),
        _ => throw new ArgumentException($"Unknown student '{name}'; use one of: {string.Join(", ", Names)}.", nameof(name)),
    };
}
