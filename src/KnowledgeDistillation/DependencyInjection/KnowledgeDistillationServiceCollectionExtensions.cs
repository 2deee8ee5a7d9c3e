using KnowledgeDistillation.DependencyInjection;
using KnowledgeDistillation.Engine;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers KnowledgeDistillation runs with Microsoft.Extensions.DependencyInjection.</summary>
public static class KnowledgeDistillationServiceCollectionExtensions
{
    /// <summary>
    /// Registers the default run: a ready <see cref="Distiller"/> (transient, over singleton participants), its
    /// <see cref="DistillerOptions"/> bound from <paramref name="configuration"/> and validated at start (a bad value,
    /// an unavailable <c>Device</c> included, fails with a message naming its key; keys no option reads are logged as a
    /// warning, or fail with <see cref="DistillationBuilder.WithUnknownKeys"/>), and logging through <c>ILogger&lt;Distiller&gt;</c>.
    /// Every non-keyed <see cref="IDistillationCallback"/> in the container is added to it.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The options section (e.g. <c>configuration.GetSection("Distillation")</c>), or <c>null</c>.</param>
    /// <param name="build">Declares participants, the loss or stages, and callbacks.</param>
    /// <param name="configure">Adjusts the options after binding.</param>
    /// <returns>The service collection.</returns>
    /// <exception cref="InvalidOperationException">The run has no participant or no loss, or the default run is already registered.</exception>
    /// <example>
    /// <code>
    /// services.AddKnowledgeDistillation(configuration.GetSection("Distillation"), run => run
    ///     .AddTeacher(_ => Teacher.FromModule(teacherNet))
    ///     .AddStudent(_ => Student.FromModule(studentNet))
    ///     .UseLoss(_ => Loss.Hinton(temperature: 4, alpha: 0.9)));
    /// var distiller = provider.GetRequiredService&lt;Distiller&gt;();
    /// </code>
    /// </example>
    public static IServiceCollection AddKnowledgeDistillation(
        this IServiceCollection services,
        IConfiguration? configuration,
        Action<DistillationBuilder> build,
        Action<DistillerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(build);
        return Register(services, null, configuration, build, configure);
    }

    /// <summary>
    /// Registers a named run beside others in the same container: a keyed <see cref="Distiller"/> (transient, resolved with
    /// <c>GetRequiredKeyedService&lt;Distiller&gt;(name)</c>), its keyed singleton <see cref="DistillationParticipants"/>,
    /// and its named <see cref="DistillerOptions"/> (<c>IOptionsMonitor&lt;DistillerOptions&gt;.Get(name)</c>) bound from
    /// <paramref name="configuration"/> and validated at start (a bad value fails naming the run and its key). Named runs
    /// share nothing: each has its own participants, loss or stages, options and callbacks (only those added with
    /// <see cref="DistillationBuilder.AddCallback{TCallback}"/> on its builder).
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="name">The run's name, the service key (e.g. <c>teacher-run</c>); unique in the collection.</param>
    /// <param name="configuration">The options section (e.g. <c>configuration.GetSection("Teacher")</c>), or <c>null</c>.</param>
    /// <param name="build">Declares participants, the loss or stages, and callbacks.</param>
    /// <param name="configure">Adjusts the options after binding.</param>
    /// <returns>The service collection.</returns>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty or white space.</exception>
    /// <exception cref="InvalidOperationException">The run has no participant or no loss, or a run of that name is already registered.</exception>
    /// <example>
    /// <code>
    /// services.AddKnowledgeDistillation("teacher-run", configuration.GetSection("Teacher"), run => run
    ///     .AddStudent(_ => Student.FromModule(teacherNet, "teacher"))
    ///     .UseLoss(_ => new CrossEntropyLoss("teacher")));
    /// var distiller = provider.GetRequiredKeyedService&lt;Distiller&gt;("teacher-run");
    /// </code>
    /// </example>
    public static IServiceCollection AddKnowledgeDistillation(
        this IServiceCollection services,
        string name,
        IConfiguration? configuration,
        Action<DistillationBuilder> build,
        Action<DistillerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(build);
        return Register(services, name, configuration, build, configure);
    }

    private static IServiceCollection Register(
        IServiceCollection services, string? name, IConfiguration? configuration, Action<DistillationBuilder> build, Action<DistillerOptions>? configure)
    {
        var run = name is null ? "the default distillation run" : $"distillation run '{name}'";
        if (services.Any(d => d.ServiceType == typeof(Distiller) && (name is null ? !d.IsKeyedService : d.IsKeyedService && Equals(d.ServiceKey, name))))
        {
            throw new InvalidOperationException(
                name is null
                    ? "A default (unnamed) Distiller is already registered; register further runs with AddKnowledgeDistillation(name, ...)."
                    : $"A distillation run named '{name}' is already registered; each named run needs its own name.");
        }

        var builder = new DistillationBuilder(services, name);
        build(builder);
        if (builder.Participants.Count == 0)
        {
            throw new InvalidOperationException($"AddKnowledgeDistillation needs at least one participant (AddTeacher/AddStudent) for {run}.");
        }

        if (builder.Loss is null && builder.Recipe is null && builder.Stages.Count == 0)
        {
            throw new InvalidOperationException($"AddKnowledgeDistillation needs a loss (UseLoss), a recipe (UseRecipe) or stages (AddStage) for {run}.");
        }

        var optionsName = name ?? Microsoft.Extensions.Options.Options.DefaultName;
        var options = services.AddOptions<DistillerOptions>(optionsName);
        if (configuration is not null)
        {
            options.Bind(configuration);
        }

        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.AddSingleton<IValidateOptions<DistillerOptions>>(sp => new DistillerOptionsValidator(
            optionsName, name, configuration, builder.UnknownKeys, (ILogger?)sp.GetService<ILogger<Distiller>>() ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance));
        if (name is null)
        {
            services.AddSingleton(sp => new DistillationParticipants(builder.Participants.Select(f => f(sp)).ToArray()));
            services.AddTransient(sp => Create(
                sp,
                builder,
                sp.GetRequiredService<DistillationParticipants>(),
                sp.GetRequiredService<IOptions<DistillerOptions>>().Value,
                sp.GetServices<IDistillationCallback>()));
        }
        else
        {
            services.AddKeyedSingleton(name, (sp, _) => new DistillationParticipants(builder.Participants.Select(f => f(sp)).ToArray()));
            services.AddKeyedTransient(name, (sp, _) => Create(
                sp,
                builder,
                sp.GetRequiredKeyedService<DistillationParticipants>(name),
                sp.GetRequiredService<IOptionsMonitor<DistillerOptions>>().Get(name),
                sp.GetKeyedServices<IDistillationCallback>(name)));
        }

        return services;
    }

    private static Distiller Create(
        IServiceProvider sp, DistillationBuilder builder, DistillationParticipants participants, DistillerOptions settings, IEnumerable<IDistillationCallback> callbacks)
    {
        var logger = sp.GetService<ILogger<Distiller>>();
        var distiller = builder.Loss is not null ? new Distiller(participants.All, builder.Loss(sp), settings, logger)
            : builder.Recipe is not null ? new Distiller(participants.All, builder.Recipe(sp), settings, logger)
            : new Distiller(participants.All, builder.Stages.Select(f => f(sp)).ToArray(), settings, logger);
        foreach (var callback in callbacks)
        {
            distiller.Callbacks.Add(callback);
        }

        return distiller;
    }
}
