using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace KnowledgeDistillation.Tests.Serialization;

/// <summary>
/// The TorchSharp twin of <c>TinyTeacher</c> in Fixtures/generate_safetensors_fixture.py:
/// conv(1-&gt;2, 3x3, padding 1) - batch norm - relu - flatten - linear(32 -&gt; 3), on 1x4x4 inputs.
/// State names: conv.weight, conv.bias, bn.weight, bn.bias, bn.running_mean, bn.running_var,
/// bn.num_batches_tracked, fc.weight, fc.bias.
/// </summary>
internal sealed class TinyTeacher : Module<Tensor, Tensor>
{
    private readonly Conv2d conv;
    private readonly BatchNorm2d bn;
    private readonly Linear fc;

    public TinyTeacher()
        : base(nameof(TinyTeacher))
    {
        conv = Conv2d(1, 2, 3, padding: 1);
        bn = BatchNorm2d(2);
        fc = Linear(2 * 4 * 4, 3);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return fc.call(functional.relu(bn.call(conv.call(input))).flatten(1)).MoveToOuterDisposeScope();
    }
}
