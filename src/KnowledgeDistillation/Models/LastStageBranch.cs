using KnowledgeDistillation.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace KnowledgeDistillation.Models;

/// <summary>
/// The last stage and head of a <see cref="ResNetCifar"/> as a module of its own (<c>stage3 -&gt; pool -&gt; fc</c>),
/// mapping a <c>stage2</c> output to logits; built by <see cref="ResNetCifar.CreateLastStageBranch"/>.
/// </summary>
internal sealed class LastStageBranch : Module<Tensor, Tensor>, IOnnxExportable
{
    private readonly Sequential stage3;
    private readonly Sequential pool;
    private readonly Linear fc;
    private readonly int inChannels;

    public LastStageBranch(int inChannels, Sequential stage3, Sequential pool, Linear fc)
        : base(nameof(LastStageBranch))
    {
        this.inChannels = inChannels;
        this.stage3 = stage3;
        this.pool = pool;
        this.fc = fc;
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        if (input.dim() != 4 || input.shape[1] != inChannels)
        {
            throw new ArgumentException(
                $"The last-stage branch expects a stage2 output [batch, {inChannels}, height, width]; got {Guard.Shape(input)}.",
                nameof(input));
        }

        using var f3 = stage3.call(input);
        using var pooled = pool.call(f3);
        return fc.call(pooled);
    }

    public OnnxValue EmitOnnx(OnnxGraphBuilder graph, OnnxValue input)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var x = graph.Emit(stage3, input, nameof(stage3));
        x = graph.Emit(pool, x, nameof(pool));
        return graph.Emit(fc, x, nameof(fc));
    }
}
