using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace KnowledgeDistillation.Detection.Losses;

/// <summary>ICD's auxiliary heads on the decoded queries: a 3-layer MLP D → D → D → 5, output 0 the real/fake logit, 1-4 the localisation logits (left, top, right, bottom).</summary>
public sealed class IcdAuxiliaryHead : Module<Tensor, Tensor>
{
    private readonly Sequential mlp;

    /// <summary>Creates the head.</summary>
    /// <param name="dimension">D.</param>
    public IcdAuxiliaryHead(int dimension)
        : base(nameof(IcdAuxiliaryHead))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        mlp = Sequential(("0", Linear(dimension, dimension)), ("1", ReLU()), ("2", Linear(dimension, dimension)), ("3", ReLU()), ("4", Linear(dimension, 5)));
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor queries) => mlp.call(queries);
}
