using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.KnowledgeGraphs;

/// <summary>DualDE's learnable sigmoid <c>σ(a · (x + b))</c> (a initialised to 1, b to 0), which turns a score into a soft-label weight.</summary>
public sealed class SoftLabelSigmoid : nn.Module<Tensor, Tensor>
{
    private readonly Parameter scale;
    private readonly Parameter shift;

    /// <summary>Creates the sigmoid.</summary>
    /// <param name="name">The module name.</param>
    /// <param name="a">Initial scale a.</param>
    /// <param name="b">Initial shift b.</param>
    public SoftLabelSigmoid(string name = "soft_label_sigmoid", double a = 1, double b = 0)
        : base(name)
    {
        scale = new Parameter(tensor(new[] { (float)a }));
        shift = new Parameter(tensor(new[] { (float)b }));
        RegisterComponents();
    }

    /// <summary>The scale a (shape [1]).</summary>
    public Tensor A => scale;

    /// <summary>The shift b (shape [1]).</summary>
    public Tensor B => shift;

    /// <summary>σ(a · (x + b)), element-wise.</summary>
    /// <param name="input">Scores.</param>
    public override Tensor forward(Tensor input) => sigmoid(scale * (input + shift));
}
