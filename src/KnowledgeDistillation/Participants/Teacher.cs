using KnowledgeDistillation.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation;

/// <summary>
/// A participant that provides knowledge. Frozen by default: the engine runs it in eval mode under
/// <c>no_grad</c> and never optimises it. Pass <c>trainable: true</c> for a teacher that learns too.
/// </summary>
public sealed class Teacher : DistillationModel, ITeacher
{
    private Teacher(string name, nn.Module module, Func<Batch, ModelOutput> forward, IReadOnlyCollection<string>? captureFeatures, bool trainable, bool returnsOwnFeatures = true)
        : base(name, module, forward, captureFeatures, ownsModule: false, returnsOwnFeatures)
    {
        IsTrainable = trainable;
    }

    /// <inheritdoc />
    public bool IsTrainable { get; }

    /// <summary>Wraps a module that maps inputs to logits; the outputs of <paramref name="captureFeatures"/> become features.</summary>
    /// <param name="module">The model (not owned: dispose it yourself).</param>
    /// <param name="name">The participant's name (default "teacher").</param>
    /// <param name="trainable">Whether the engine optimises it.</param>
    /// <param name="captureFeatures">Submodule paths whose outputs to capture.</param>
    public static Teacher FromModule(nn.Module<Tensor, Tensor> module, string name = "teacher", bool trainable = false, params string[] captureFeatures)
    {
        ArgumentNullException.ThrowIfNull(module);
        return new Teacher(name, module, LogitsForward(module), captureFeatures, trainable, returnsOwnFeatures: false);
    }

    /// <summary>Wraps a module that returns logits and features itself.</summary>
    /// <param name="module">The model (not owned).</param>
    /// <param name="name">The participant's name (default "teacher").</param>
    /// <param name="trainable">Whether the engine optimises it.</param>
    /// <param name="captureFeatures">Additional submodule paths to capture through hooks.</param>
    public static Teacher FromModule(nn.Module<Tensor, ModelOutput> module, string name = "teacher", bool trainable = false, params string[] captureFeatures)
    {
        ArgumentNullException.ThrowIfNull(module);
        return new Teacher(name, module, OutputForward(module), captureFeatures, trainable);
    }

    /// <summary>Wraps any module with a custom forward over the whole batch.</summary>
    /// <param name="name">The participant's name.</param>
    /// <param name="module">The module holding the parameters (not owned).</param>
    /// <param name="forward">Runs the model on a batch.</param>
    /// <param name="trainable">Whether the engine optimises it.</param>
    /// <param name="captureFeatures">Submodule paths to capture through hooks.</param>
    public static Teacher Create(string name, nn.Module module, Func<Batch, ModelOutput> forward, bool trainable = false, params string[] captureFeatures) =>
        new(name, module, forward, captureFeatures, trainable);
}
