using FluentAssertions;
using KnowledgeDistillation.Data;
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

public sealed class KnowledgeDistillationServiceCollectionExtensionsTests
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

    [Fact]
    public void A_recipe_from_the_catalogue_configures_the_run_and_excludes_a_second_objective()
    {
        using var net = new Mlp(8, new[] { 8 }, numClasses: 3);
        var services = new ServiceCollection().AddLogging().AddKnowledgeDistillation("self", null, run => run
            .AddStudent(_ => Student.FromModule(net))
            .UseRecipe(_ => Recipes.DrKd(temperature: 4, alpha: 0.9)), options => options.Epochs = 1);
        using var provider = services.BuildServiceProvider();
        var distiller = provider.GetRequiredKeyedService<Distiller>("self");
        distiller.Stages.Should().ContainSingle().Which.Loss.Requirements.NeedsTargets.Should().BeTrue();
        using var data = SyntheticData.Blobs(32);
        distiller.Fit(new DataLoader(data, 16)).History.Single().LossParts.Keys.Should().Contain(new[] { "ce", "drkd" });

        var both = () => new ServiceCollection().AddKnowledgeDistillation(null, run => run
            .AddStudent(_ => Student.FromModule(net))
            .UseLoss(_ => new CrossEntropyLoss())
            .UseRecipe(_ => Recipes.DrKd()));
        both.Should().Throw<InvalidOperationException>().WithMessage("*exclusive*");
    }

    [Theory]
    [InlineData("Distillation:Epochs", "0", "Distillation:Epochs")]
    [InlineData("Distillation:Optimizer:LearningRate", "-1", "Distillation:Optimizer:LearningRate")]
    [InlineData("Distillation:LearningRateSchedule:Gamma", "3", "Distillation:LearningRateSchedule:Gamma")]
    [InlineData("Distillation:Checkpoint:EveryEpochs", "0", "Distillation:Checkpoint:EveryEpochs")]
    [InlineData("Distillation:MaxGradNorm", "-2", "Distillation:MaxGradNorm")]
    [InlineData("Distillation:Device", "cuda:7", "Distillation:Device")] // unavailable here (no CUDA, or fewer devices): was only found inside Fit
    [InlineData("Distillation:Device", "gpu", "Distillation:Device")]
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
        noLoss.Should().Throw<InvalidOperationException>().WithMessage("*UseLoss*UseRecipe*AddStage*");
    }

    [Fact]
    public void Named_runs_in_one_container_have_their_own_participants_options_and_callbacks()
    {
        var configuration = Configuration(new()
        {
            ["Teacher:Epochs"] = "2",
            ["Teacher:Optimizer:Kind"] = "Adam",
            ["Teacher:Optimizer:LearningRate"] = "0.01",
            ["Student:Epochs"] = "1",
            ["Student:Optimizer:LearningRate"] = "0.2",
            ["Distillation:Epochs"] = "4",
        });
        using var teacherNet = new Mlp(8, new[] { 16 }, numClasses: 3);
        using var studentNet = new Mlp(8, Array.Empty<int>(), numClasses: 3);
        using var otherNet = new Mlp(8, Array.Empty<int>(), numClasses: 3);
        var services = new ServiceCollection()
            .AddKnowledgeDistillation("teacher-run", configuration.GetSection("Teacher"), run => run
                .AddStudent(_ => Student.FromModule(teacherNet, "teacher"))
                .UseLoss(_ => new CrossEntropyLoss("teacher"))
                .AddCallback<CountingCallback>())
            .AddKnowledgeDistillation("student-run", configuration.GetSection("Student"), run => run
                .AddTeacher(_ => Teacher.FromModule(teacherNet))
                .AddStudent(_ => Student.FromModule(studentNet))
                .UseLoss(_ => Loss.Hinton(4, 0.9))
                .AddCallback<OtherCallback>(), options => options.Seed = 7)
            .AddKnowledgeDistillation(configuration.GetSection("Distillation"), run => run
                .AddStudent(_ => Student.FromModule(otherNet, "other"))
                .UseLoss(_ => new CrossEntropyLoss("other"))
                .AddCallback<CountingCallback>());
        using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        provider.GetRequiredService<IStartupValidator>().Validate();

        var teacherRun = provider.GetRequiredKeyedService<Distiller>("teacher-run");
        var studentRun = provider.GetRequiredKeyedService<Distiller>("student-run");
        var defaultRun = provider.GetRequiredService<Distiller>();

        teacherRun.Participants.Select(p => p.Name).Should().Equal("teacher");
        studentRun.Participants.Select(p => p.Name).Should().Equal("teacher", "student");
        defaultRun.Participants.Select(p => p.Name).Should().Equal("other");
        teacherRun.Participants.Should().Equal(provider.GetRequiredKeyedService<KnowledgeDistillation.DependencyInjection.DistillationParticipants>("teacher-run").All);
        provider.GetRequiredKeyedService<Distiller>("teacher-run").Participants[0].Should().BeSameAs(teacherRun.Participants[0], "participants are singletons per run");
        studentRun.Participants[0].Should().NotBeSameAs(teacherRun.Participants[0], "each run has its own adapters");

        (teacherRun.Options.Epochs, teacherRun.Options.Optimizer.Kind, teacherRun.Options.Optimizer.LearningRate, teacherRun.Options.Seed)
            .Should().Be((2, OptimizerKind.Adam, 0.01, (int?)null));
        (studentRun.Options.Epochs, studentRun.Options.Optimizer.Kind, studentRun.Options.Optimizer.LearningRate, studentRun.Options.Seed)
            .Should().Be((1, OptimizerKind.Sgd, 0.2, (int?)7));
        defaultRun.Options.Epochs.Should().Be(4);
        provider.GetRequiredService<IOptionsMonitor<DistillerOptions>>().Get("teacher-run").Should().BeSameAs(teacherRun.Options);

        teacherRun.Callbacks.Should().ContainSingle().Which.Should().BeOfType<CountingCallback>();
        studentRun.Callbacks.Should().ContainSingle().Which.Should().BeOfType<OtherCallback>();
        defaultRun.Callbacks.Should().ContainSingle().Which.Should().BeOfType<CountingCallback>().And.NotBeSameAs(teacherRun.Callbacks[0]);
        provider.GetKeyedService<Distiller>("nope").Should().BeNull();

        using var data = SyntheticData.Blobs(32);
        teacherRun.Fit(new DataLoader(data, 16)).History.Should().HaveCount(2);
        studentRun.Fit(new DataLoader(data, 16)).History.Should().HaveCount(1);
        ((CountingCallback)teacherRun.Callbacks[0]).Epochs.Should().Be(2);
    }

    [Fact]
    public void Bad_configuration_of_a_named_run_fails_at_start_naming_the_run_and_the_key()
    {
        var configuration = Configuration(new() { ["Teacher:Optimizer:LearningRate"] = "-1", ["Student:Optimizer:LearningRate"] = "0.1" });
        using var net = new Mlp(8, Array.Empty<int>(), numClasses: 3);
        using var provider = new ServiceCollection()
            .AddKnowledgeDistillation("teacher-run", configuration.GetSection("Teacher"), run => run
                .AddStudent(_ => Student.FromModule(net))
                .UseLoss(_ => new CrossEntropyLoss()))
            .AddKnowledgeDistillation("student-run", configuration.GetSection("Student"), run => run
                .AddStudent(_ => Student.FromModule(net))
                .UseLoss(_ => new CrossEntropyLoss()))
            .BuildServiceProvider();

        var start = () => provider.GetRequiredService<IStartupValidator>().Validate();
        start.Should().Throw<OptionsValidationException>()
            .WithMessage("*distillation run 'teacher-run' at 'Teacher:Optimizer:LearningRate'*")
            .Which.Message.Should().NotContain("student-run");
        var resolve = () => provider.GetRequiredKeyedService<Distiller>("teacher-run");
        resolve.Should().Throw<OptionsValidationException>().WithMessage("*'teacher-run'*'Teacher:Optimizer:LearningRate'*");
        provider.GetRequiredKeyedService<Distiller>("student-run").Options.Optimizer.LearningRate.Should().Be(0.1, "the other run is valid");
    }

    [Fact]
    public void A_run_name_registered_twice_is_refused()
    {
        using var net = new Mlp(8, Array.Empty<int>(), numClasses: 3);
        void Build(KnowledgeDistillation.DependencyInjection.DistillationBuilder run) => run.AddStudent(_ => Student.FromModule(net)).UseLoss(_ => new CrossEntropyLoss());

        var services = new ServiceCollection().AddKnowledgeDistillation("a", null, Build).AddKnowledgeDistillation(null, Build);
        var named = () => services.AddKnowledgeDistillation("a", null, Build);
        named.Should().Throw<InvalidOperationException>().WithMessage("*run named 'a' is already registered*");
        var unnamed = () => services.AddKnowledgeDistillation(null, Build);
        unnamed.Should().Throw<InvalidOperationException>().WithMessage("*default (unnamed) Distiller is already registered*");
        services.AddKnowledgeDistillation("b", null, Build).Should().BeSameAs(services, "another name is fine");
        var blank = () => services.AddKnowledgeDistillation(" ", null, Build);
        blank.Should().Throw<ArgumentException>();
    }

    private static IConfiguration Configuration(Dictionary<string, string?> values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values).Build();

    private sealed class CountingCallback : IDistillationCallback
    {
        public int Epochs { get; private set; }

        public void OnEpochEnd(EpochRecord record, TrainingControl control) => Epochs++;
    }

    private sealed class OtherCallback : IDistillationCallback
    {
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
