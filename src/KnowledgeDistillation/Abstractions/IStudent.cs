namespace KnowledgeDistillation;

/// <summary>A participant that learns: its parameters are optimised in every stage that lists it as trainable.</summary>
public interface IStudent : IDistillationModel
{
}
