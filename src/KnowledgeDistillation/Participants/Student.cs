using KnowledgeDistillation.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation;

/// <summary>A trainable participant. Create one with <see cref="FromModule(nn.Module{Tensor, Tensor}, string, string[])"/> or a sibling factory.</summary>
public sealed class Student : DistillationModel, IStudent
{
    private Student(string name, nn.Module module, Func<Batch, ModelOutput> forward, IReadOnlyCollection<string>? captureFeatures, bool ownsModule, bool returnsOwnFeatures = true)
        : base(name, module, forward, captureFeatures, ownsModule, returnsOwnFeatures)
    {
    }

    /// <summary>Wraps a module that maps inputs to logits; the outputs of <paramref name="captureFeatures"/> become features.</summary>
    /// <param name="module">The model (not owned: dispose it yourself).</param>
    /// <param name="name">The participant's name (default "student").</param>
    /// <param name="captureFeatures">Submodule paths whose outputs to capture.</param>
    public static Student FromModule(nn.Module<Tensor, Tensor> module, string name = "student", params string[] captureFeatures)
    {
        ArgumentNullException.ThrowIfNull(module);
        return new Student(name, module, LogitsForward(module), captureFeatures, ownsModule: false, returnsOwnFeatures: false);
    }

    /// <summary>Wraps a module that returns logits and features itself.</summary>
    /// <param name="module">The model (not owned).</param>
    /// <param name="name">The participant's name (default "student").</param>
    /// <param name="captureFeatures">Additional submodule paths to capture through hooks.</param>
    public static Student FromModule(nn.Module<Tensor, ModelOutput> module, string name = "student", params string[] captureFeatures)
    {
        ArgumentNullException.ThrowIfNull(module);
        return new Student(name, module, OutputForward(module), captureFeatures, ownsModule: false);
    }

    /// <summary>Wraps any module with a custom forward over the whole batch (graphs, triples, extras).</summary>
    /// <param name="name">The participant's name.</param>
    /// <param name="module">The module holding the parameters (not owned).</param>
    /// <param name="forward">Runs the model on a batch.</param>
    /// <param name="captureFeatures">Submodule paths to capture through hooks.</param>
    public static Student Create(string name, nn.Module module, Func<Batch, ModelOutput> forward, params string[] captureFeatures) =>
        new(name, module, forward, captureFeatures, ownsModule: false);
}
