using KnowledgeDistillation.Engine;
using Microsoft.Extensions.DependencyInjection;

namespace KnowledgeDistillation.DependencyInjection;

/// <summary>
/// Describes the run that <c>services.AddKnowledgeDistillation(...)</c> resolves as a <see cref="Distiller"/>
/// (keyed by <see cref="Name"/> for a named run): its participants, its loss or stages, and its callbacks. Participants
/// are created once per container (singletons), so the trained student can be read back after <see cref="Distiller.Fit"/>.
/// </summary>
public sealed class DistillationBuilder
{
    internal DistillationBuilder(IServiceCollection services, string? name)
    {
        Services = services;
        Name = name;
    }

    /// <summary>The service collection being configured.</summary>
    public IServiceCollection Services { get; }

    /// <summary>The run's name and service key, or <c>null</c> for the default (unnamed) run.</summary>
    public string? Name { get; }

    /// <summary>What validation does with configuration keys under the run's section that no option reads (default <see cref="UnknownConfigurationKeys.Warn"/>).</summary>
    public UnknownConfigurationKeys UnknownKeys { get; private set; } = UnknownConfigurationKeys.Warn;

    internal List<Func<IServiceProvider, IDistillationModel>> Participants { get; } = new();

    internal List<Func<IServiceProvider, DistillationStage>> Stages { get; } = new();

    internal Func<IServiceProvider, IDistillationLoss>? Loss { get; private set; }

    internal Func<IServiceProvider, DistillationRecipe>? Recipe { get; private set; }

    /// <summary>
    /// Sets what validation does with configuration keys under the run's section that no option reads: log a warning
    /// (the default), fail at start (<see cref="UnknownConfigurationKeys.Error"/>), or ignore them.
    /// </summary>
    /// <param name="handling">The handling.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="handling"/> is not defined.</exception>
    public DistillationBuilder WithUnknownKeys(UnknownConfigurationKeys handling)
    {
        if (!Enum.IsDefined(handling))
        {
            throw new ArgumentOutOfRangeException(nameof(handling), handling, "Unknown handling.");
        }

        UnknownKeys = handling;
        return this;
    }

    /// <summary>Adds a teacher.</summary>
    /// <param name="factory">Creates the teacher (called once).</param>
    public DistillationBuilder AddTeacher(Func<IServiceProvider, ITeacher> factory) => AddParticipant(factory);

    /// <summary>Adds a student.</summary>
    /// <param name="factory">Creates the student (called once).</param>
    public DistillationBuilder AddStudent(Func<IServiceProvider, IStudent> factory) => AddParticipant(factory);

    /// <summary>Adds any participant.</summary>
    /// <param name="factory">Creates the participant (called once).</param>
    public DistillationBuilder AddParticipant(Func<IServiceProvider, IDistillationModel> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        Participants.Add(factory);
        return this;
    }

    /// <summary>Sets the loss of a single-stage run (exclusive with <see cref="AddStage"/>).</summary>
    /// <param name="factory">Creates the loss.</param>
    public DistillationBuilder UseLoss(Func<IServiceProvider, IDistillationLoss> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        EnsureNoObjectiveYet("a single loss");
        Loss = factory;
        return this;
    }

    /// <summary>Sets the run's method from the catalogue (<see cref="Losses.Recipes"/>): its stages and evaluation models.</summary>
    /// <param name="factory">Creates the recipe, e.g. <c>_ =&gt; Recipes.DrKd(temperature: 4, alpha: 0.9)</c>.</param>
    /// <exception cref="InvalidOperationException">The run already has a loss, stages or a recipe.</exception>
    public DistillationBuilder UseRecipe(Func<IServiceProvider, DistillationRecipe> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        EnsureNoObjectiveYet("a recipe");
        Recipe = factory;
        return this;
    }

    /// <summary>Adds a stage of a multi-stage run (exclusive with <see cref="UseLoss"/>).</summary>
    /// <param name="factory">Creates the stage.</param>
    public DistillationBuilder AddStage(Func<IServiceProvider, DistillationStage> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        if (Loss is not null || Recipe is not null)
        {
            throw new InvalidOperationException("This run already has a single loss or a recipe; a loss, stages and a recipe are exclusive.");
        }

        Stages.Add(factory);
        return this;
    }

    private void EnsureNoObjectiveYet(string adding)
    {
        if (Loss is not null || Recipe is not null || Stages.Count > 0)
        {
            throw new InvalidOperationException($"This run already has a loss, stages or a recipe; cannot add {adding}: they are exclusive.");
        }
    }

    /// <summary>
    /// Registers a callback type for this run, created afresh for each resolved <see cref="Distiller"/>. The default run's
    /// callbacks are plain <see cref="IDistillationCallback"/> services (it takes every non-keyed one in the container);
    /// a named run's are keyed by its <see cref="Name"/>, so no other run sees them.
    /// </summary>
    /// <typeparam name="TCallback">The callback type (resolved from the container).</typeparam>
    public DistillationBuilder AddCallback<TCallback>()
        where TCallback : class, IDistillationCallback
    {
        if (Name is null)
        {
            Services.AddTransient<IDistillationCallback, TCallback>();
        }
        else
        {
            Services.AddKeyedTransient<IDistillationCallback, TCallback>(Name);
        }

        return this;
    }
}
