using KnowledgeDistillation.Tuning;
using Microsoft.Extensions.Logging;

namespace KnowledgeDistillation.Tests.Tuning;

/// <summary>A toy objective with a known optimum (x = 0.3, lr = 0.01, c = "b"), its space, and a logger that keeps lines.</summary>
internal static class ToySearch
{
    /// <summary>-(x - 0.3)^2 - (log10(lr) + 2)^2, minus 1 unless c is "b": the maximum 0 is at (0.3, 0.01, "b").</summary>
    public static double Score(TrialParameters t) =>
        -Math.Pow(t.GetDouble("x") - 0.3, 2) - Math.Pow(Math.Log10(t.GetDouble("lr")) + 2, 2) - (t.GetString("c") == "b" ? 0 : 1);

    /// <summary>x uniform [0, 1] (11 grid points), lr log-uniform [1e-4, 1] (5 points), c in {a, b, c}: 165 grid configurations.</summary>
    public static SearchSpace Space() => new SearchSpace()
        .Uniform("x", 0, 1, gridPoints: 11)
        .LogUniform("lr", 1e-4, 1, gridPoints: 5)
        .Categorical("c", "a", "b", "c");

    /// <summary>A counting objective over <see cref="Score"/>.</summary>
    public sealed class Counting
    {
        public List<int> Calls { get; } = new();

        public double Evaluate(TrialParameters trial, CancellationToken ct)
        {
            Calls.Add(trial.Index);
            return Score(trial);
        }
    }
}

/// <summary>Keeps every log line with its level.</summary>
internal sealed class RecordingLogger : ILogger
{
    public List<(LogLevel Level, string Message)> Entries { get; } = new();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Entries.Add((logLevel, formatter(state, exception)));
}
