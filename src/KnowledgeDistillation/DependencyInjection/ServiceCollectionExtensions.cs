using KnowledgeDistillation.Engine;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace KnowledgeDistillation.DependencyInjection;

/// <summary>Registers KnowledgeDistillation with Microsoft.Extensions.DependencyInjection.</summary>
public static class ServiceCollectionExtensions
{
    /// <summary>
    /// Registers a ready <see cref="Distiller"/> (transient, over singleton participants), its
    /// <see cref="DistillerOptions"/> bound from <paramref name="configuration"/> and validated at start
    /// (a bad value fails with a message naming its key), and logging through <c>ILogger&lt;Distiller&gt;</c>.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The options section (e.g. <c>configuration.GetSection("Distillation")</c>), or <c>null</c>.</param>
    /// <param name="build">Declares participants, the loss or stages, and callbacks.</param>
    /// <param name="configure">Adjusts the options after binding.</param>
    /// <returns>The service collection.</returns>
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
        var builder = new DistillationBuilder(services);
        build(builder);
        if (builder.Participants.Count == 0)
        {
            throw new InvalidOperationException("AddKnowledgeDistillation needs at least one participant (AddTeacher/AddStudent).");
        }

        if (builder.Loss is null && builder.Stages.Count == 0)
        {
            throw new InvalidOperationException("AddKnowledgeDistillation needs a loss (UseLoss) or stages (AddStage).");
        }

        var options = services.AddOptions<DistillerOptions>();
        if (configuration is not null)
        {
            options.Bind(configuration);
        }

        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        var sectionPath = (configuration as IConfigurationSection)?.Path ?? string.Empty;
        services.AddSingleton<IValidateOptions<DistillerOptions>>(new DistillerOptionsValidator(sectionPath));
        services.AddSingleton(sp => new DistillationParticipants(builder.Participants.Select(f => f(sp)).ToArray()));
        services.AddTransient(sp =>
        {
            var participants = sp.GetRequiredService<DistillationParticipants>().All;
            var settings = sp.GetRequiredService<IOptions<DistillerOptions>>().Value;
            var logger = sp.GetService<ILogger<Distiller>>();
            var distiller = builder.Loss is not null
                ? new Distiller(participants, builder.Loss(sp), settings, logger)
                : new Distiller(participants, builder.Stages.Select(f => f(sp)).ToArray(), settings, logger);
            foreach (var callback in sp.GetServices<IDistillationCallback>())
            {
                distiller.Callbacks.Add(callback);
            }

            return distiller;
        });
        return services;
    }
}
