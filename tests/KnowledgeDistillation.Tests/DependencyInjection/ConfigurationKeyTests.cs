using FluentAssertions;
using KnowledgeDistillation.DependencyInjection;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Models;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Xunit;

namespace KnowledgeDistillation.Tests.DependencyInjection;

/// <summary>Issue 12, problem 9: misspelled keys under a run's section are reported at start (a warning, or an error on request).</summary>
public sealed class ConfigurationKeyTests
{
    private static readonly Dictionary<string, string?> Misspelled = new()
    {
        ["Distillation:Epoch"] = "3",                          // Epochs
        ["Distillation:Optimizer:LearningRat"] = "0.1",        // LearningRate
        ["Distillation:Checkpoint:Directory"] = "/tmp/kd",     // known
        ["Distillation:checkpoint:overwrite"] = "true",        // known, case-insensitive as the binder
        ["Distillation:LearningRateSchedule:Milestones:0"] = "2", // known collection
        ["Other:Epoch"] = "1",                                 // outside the section
    };

    [Fact]
    public void Unknown_keys_are_logged_as_a_warning_at_start_by_default()
    {
        var logs = new List<(LogLevel Level, string Message)>();
        using var provider = Build(logs, run => run);
        provider.GetRequiredService<IStartupValidator>().Validate();

        logs.Should().ContainSingle(l => l.Level == LogLevel.Warning).Which.Message
            .Should().Contain("Distillation:Epoch, Distillation:Optimizer:LearningRat").And.NotContain("Other:").And.NotContain("Checkpoint");
        provider.GetRequiredService<Distiller>().Options.Checkpoint.Overwrite.Should().BeTrue();
    }

    [Fact]
    public void Unknown_keys_fail_at_start_when_the_run_asks_for_errors()
    {
        using var provider = Build(new(), run => run.WithUnknownKeys(UnknownConfigurationKeys.Error));
        var start = () => provider.GetRequiredService<IStartupValidator>().Validate();
        start.Should().Throw<OptionsValidationException>()
            .WithMessage("*Unknown configuration key(s): 'Distillation:Epoch', 'Distillation:Optimizer:LearningRat'*");
    }

    [Fact]
    public void Unknown_keys_can_be_ignored()
    {
        var logs = new List<(LogLevel Level, string Message)>();
        using var provider = Build(logs, run => run.WithUnknownKeys(UnknownConfigurationKeys.Ignore));
        provider.GetRequiredService<IStartupValidator>().Validate();
        logs.Should().NotContain(l => l.Level == LogLevel.Warning);
    }

    private static ServiceProvider Build(List<(LogLevel, string)> logs, Func<DistillationBuilder, DistillationBuilder> configure)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(Misspelled).Build();
        var net = new Mlp(8, Array.Empty<int>(), numClasses: 3);
        return new ServiceCollection()
            .AddLogging(b => b.AddProvider(new Provider(logs)).SetMinimumLevel(LogLevel.Information))
            .AddKnowledgeDistillation(configuration.GetSection("Distillation"), run => configure(run)
                .AddStudent(_ => Student.FromModule(net))
                .UseLoss(_ => new CrossEntropyLoss()))
            .BuildServiceProvider();
    }

    private sealed class Provider(List<(LogLevel, string)> logs) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Logger(logs);

        public void Dispose()
        {
        }

        private sealed class Logger(List<(LogLevel, string)> logs) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                lock (logs)
                {
                    logs.Add((logLevel, formatter(state, exception)));
                }
            }
        }
    }
}
