namespace KnowledgeDistillation.DependencyInjection;

/// <summary>
/// The participants of a registered run, created once per container and disposed with it: the default run's are a plain
/// service, a named run's are keyed by its name (<c>GetRequiredKeyedService&lt;DistillationParticipants&gt;(name)</c>).
/// </summary>
public sealed class DistillationParticipants : IDisposable
{
    internal DistillationParticipants(IReadOnlyList<IDistillationModel> all)
    {
        All = all;
    }

    /// <summary>Every participant, in registration order.</summary>
    public IReadOnlyList<IDistillationModel> All { get; }

    /// <summary>The participant of that name.</summary>
    /// <param name="name">The participant's name.</param>
    /// <exception cref="KeyNotFoundException">No participant has that name.</exception>
    public IDistillationModel this[string name] =>
        All.FirstOrDefault(p => p.Name == name)
        ?? throw new KeyNotFoundException($"No participant named '{name}'; registered: {string.Join(", ", All.Select(p => p.Name))}.");

    /// <summary>Disposes the participants (their hooks; modules are not owned by the adapters).</summary>
    public void Dispose()
    {
        foreach (var participant in All)
        {
            participant.Dispose();
        }
    }
}
