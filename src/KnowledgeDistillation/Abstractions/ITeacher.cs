namespace KnowledgeDistillation;

/// <summary>
/// A participant that provides knowledge. A frozen teacher (the default) runs in eval mode under
/// <c>no_grad</c> and is never optimised; a trainable teacher (a DML peer, a knowledge bridge, a
/// teacher adjusted toward the student) is optimised with the students.
/// </summary>
public interface ITeacher : IDistillationModel
{
    /// <summary>Whether the engine optimises this teacher's parameters (by default, no).</summary>
    bool IsTrainable { get; }
}
