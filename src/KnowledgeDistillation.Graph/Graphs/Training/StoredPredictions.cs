using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Graphs;

/// <summary>
/// A frozen teacher's outputs computed once (CPF stores the teacher's predictions; they are constants during
/// distillation). As a module it returns the stored logits [N, C] whatever the input, so
/// <c>Teacher.FromModule(new StoredPredictions(logits))</c> is a zero-cost teacher for full-graph batches.
/// </summary>
public sealed class StoredPredictions : nn.Module<Tensor, Tensor>
{
    private readonly Tensor logits;

    /// <summary>Stores a copy of <paramref name="logits"/> ([N, C], detached).</summary>
    public StoredPredictions(Tensor logits)
        : base("stored_predictions")
    {
        ArgumentNullException.ThrowIfNull(logits);
        if (logits.dim() != 2)
        {
            throw new ArgumentException($"Stored predictions must have shape [nodes, classes]; got {Guard.Shape(logits)}.", nameof(logits));
        }

        this.logits = logits.detach().clone().DetachFromDisposeScope();
        RegisterComponents();
    }

    /// <summary>Computes a trained model's logits for every node once (eval mode, no gradient) and stores them.</summary>
    public static StoredPredictions From(nn.Module<Tensor, Tensor> model, Tensor features)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(features);
        var wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            return new StoredPredictions(model.call(features));
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    /// <summary>The stored logits.</summary>
    public Tensor Logits => logits;

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.shape[0] != logits.shape[0])
        {
            throw new ArgumentException($"The stored predictions cover {logits.shape[0]} nodes; the batch has {x.shape[0]}. Full-graph batches only.", nameof(x));
        }

        return logits.alias();
    }
}
