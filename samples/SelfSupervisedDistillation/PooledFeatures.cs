using KnowledgeDistillation.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace SelfSupervisedDistillation;

/// <summary>
/// The backbone representation of an SSL encoder for evaluation: runs the <see cref="ResNetCifar"/> (whose final linear
/// layer is the projection head) and returns the pooled vector its <c>pool</c> module produced, captured by a forward hook.
/// </summary>
internal sealed class PooledFeatures : nn.Module<Tensor, Tensor>
{
    private readonly ResNetCifar _net;
    private Tensor? _captured;

    public PooledFeatures(ResNetCifar net)
        : base("pooled_features")
    {
        _net = net;
        var pool = net.named_modules().Single(m => m.name == "pool").module;
        ((nn.Module<Tensor, Tensor>)pool).register_forward_hook((_, _, output) =>
        {
            _captured = output.alias();
            return output;
        });
    }

    public override Tensor forward(Tensor input)
    {
        using (_net.call(input))
        {
        }

        var result = _captured ?? throw new InvalidOperationException("The pool hook did not fire.");
        _captured = null;
        return result;
    }
}
