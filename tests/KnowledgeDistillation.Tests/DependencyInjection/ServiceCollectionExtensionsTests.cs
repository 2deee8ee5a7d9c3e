using FluentAssertions;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.DependencyInjection;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Models;
using KnowledgeDistillation.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TorchSharp;
using Xunit;

namespace KnowledgeDistillation.Tests.DependencyInjection;

public sealed class ServiceCollectionExtensionsTests
{
    [Fact]
    public void Resolves_a_ready_distiller_with_options_bound_from_configuration_and_logs()
    {
        var configuration = Configuration(new()
        {
            ["Distillation:Epochs"] = "3",
            ["Distillation:Seed"] = "4",
            ["Distillation:Optimizer:Kind"] = "Adam",
            ["Distillation:Optimizer:LearningRate"] = "0.01",
            ["Distillation:LearningRateSchedule:Kind"] = "MultiStep",
            ["Distillation:LearningRateSchedule:Milestones:0"] = "1",
            ["Distillation:LearningRateSchedule:Gamma"] = "0.5",
        });
        var logs = new ListLoggerProvider();
        using var teacherNet = new Mlp(8, new[] { 16 }, numClasses: 3);
        using var studentNet = new Mlp(8, Array.Empty<int>(), numClasses: 3);
        var services = new ServiceCollection()
            .AddLogging(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Information))
            .AddKnowledgeDistillation(configuration.GetSection("Distillation"), run => run
                .AddTeacher(_ => Teacher.FromModule(teacherNet))
                .AddStudent(_ => Student.FromModule(studentNet))
                .UseLoss(_ => Loss.Hinton(4, 0.9))
                .AddCallback<CountingCallback>());
        using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        provider.GetRequiredService<IStartupValidator>().Validate();

        var distiller = provider.GetRequiredService<Distiller>();
        distiller.Options.Epochs.Should().Be(3);
        distiller.Options.Optimizer.Kind.Should().Be(OptimizerKind.Adam);
        distiller.Callbacks.Should().ContainSingle().Which.Should().BeOfType<CountingCallback>();
        distiller.Participants.Select(p => p.Name).Should().Equal("teacher", "student");
        provider.GetRequiredService<Distiller>().Participants[1].Should().BeSameAs(distiller.Participants[1], "participants are singletons");

        using var data = SyntheticData.Blobs(32);
        var result = distiller.Fit(new DataLoader(data, 16));
        result.History.Select(h => h.LearningRate).Should().Equal(0.01, 0.005, 0.005);
        logs.Messages.Should().Contain(m => m.Contains("Stage distill epoch 3/3", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Distillation:Epochs", "0", "Distillation:Epochs")]
    [InlineData("Distillation:Optimizer:LearningRate", "-1", "Distillation:Optimizer:LearningRate")]
    [InlineData("Distillation:LearningRateSchedule:Gamma", "3", "Distillation:LearningRateSchedule:Gamma")]
    [InlineData("Distillation:Checkpoint:EveryEpochs", "0", "Distillation:Checkpoint:EveryEpochs")]
    [InlineData("Distillation:MaxGradNorm", "-2", "Distillation:MaxGradNorm")]
    public void Bad_configuration_fails_at_start_naming_the_key(string key, string value, string expectedKey)
    {
        var configuration = Configuration(new() { [key] = value });
        using var net = new Mlp(8, Array.Empty<int>(), numClasses: 3);
        using var provider = new ServiceCollection()
            .AddKnowledgeDistillation(configuration.GetSection("Distillation"), run => run
                .AddStudent(_ => Student.FromModule(net))
                .UseLoss(_ => new CrossEntropyLoss()))
            .BuildServiceProvider();

        var start = () => provider.GetRequiredService<IStartupValidator>().Validate();
        start.Should().Throw<OptionsValidationException>().WithMessage($"*'{expectedKey}'*");
        var resolve = () => provider.GetRequiredService<Distiller>();
        resolve.Should().Throw<OptionsValidationException>().WithMessage($"*'{expectedKey}'*");
    }

    [Fact]
    public void Incomplete_registration_is_reported()
    {
        var noParticipants = () => new ServiceCollection().AddKnowledgeDistillation(null, run => run.UseLoss(_ => new CrossEntropyLoss()));
        noParticipants.Should().Throw<InvalidOperationException>().WithMessage("*at least one participant*");
        using var net = new Mlp(8, Array.Empty<int>(), numClasses: 3);
        var noLoss = () => new ServiceCollection().AddKnowledgeDistillation(null, run => run.AddStudent(_ => Student.FromModule(net)));
        noLoss.Should().Throw<InvalidOperationException>().WithMessage("*UseLoss*AddStage*");
    }

    private static IConfiguration Configuration(Dictionary<string, string?> values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values).Build();

    private sealed class CountingCallback : IDistillationCallback
    {
        public int Epochs { get; private set; }

        public void OnEpochEnd(EpochRecord record, TrainingControl control) => Epochs++;
    }

    private sealed class ListLoggerProvider : ILoggerProvider
    {
        public List<string> Messages { get; } = new();

        public ILogger CreateLogger(string categoryName) => new ListLogger(Messages);

        public void Dispose()
        {
        }

        private sealed class ListLogger(List<string> messages) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                lock (messages)
                {
                    messages.Add(formatter(state, exception));
                }
            }
        }
    }
}
