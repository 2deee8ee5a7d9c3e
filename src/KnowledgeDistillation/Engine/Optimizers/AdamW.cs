using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Engine.Optimizers;

/// <summary>
/// TorchSharp's <see cref="TorchSharp.Modules.AdamW"/> (same options, state, saved format and arithmetic, bit for bit) with
/// each parameter's temporaries freed as soon as that parameter is updated; see <see cref="Adam"/> for why and for the
/// class name. The engine uses it for <see cref="OptimizerKind.AdamW"/>.
/// </summary>
public sealed class AdamW : TorchSharp.Modules.AdamW
{
    /// <summary>Creates the optimiser (arguments as TorchSharp's <see cref="TorchSharp.Modules.AdamW"/>).</summary>
    /// <param name="parameters">Parameters to optimise.</param>
    /// <param name="lr">Learning rate.</param>
    /// <param name="beta1">First-moment decay.</param>
    /// <param name="beta2">Second-moment decay.</param>
    /// <param name="eps">Denominator term.</param>
    /// <param name="weight_decay">Decoupled weight decay (the parameter shrinks by <c>lr * weight_decay</c> each step).</param>
    /// <param name="amsgrad">Use the AMSGrad variant.</param>
    /// <param name="maximize">Maximise the objective.</param>
    public AdamW(IEnumerable<TorchSharp.Modules.Parameter> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
        double weight_decay = 0, bool amsgrad = false, bool maximize = false)
        : base(parameters, lr, beta1, beta2, eps, weight_decay, amsgrad, maximize)
    {
    }

    /// <summary>Performs one update of every parameter with a gradient.</summary>
    /// <param name="closure">Re-evaluates the model and returns the loss; optional.</param>
    /// <returns>The closure's loss, or <c>null</c>.</returns>
    public override Tensor step(Func<Tensor>? closure = null) => _step<TorchSharp.Modules.AdamW.ParamGroup>(group =>
    {
        var o = (TorchSharp.Modules.AdamW.Options)group.Options;
        var h = new AdamHyperParameters(o.beta1!.Value, o.beta2!.Value, o.eps!.Value, o.LearningRate!.Value, o.weight_decay!.Value, DecoupledWeightDecay: true, o.amsgrad!.Value, o.maximize!.Value);
        foreach (var param in group.Parameters)
        {
            var s = (TorchSharp.Modules.AdamW.State)_state[param.Handle];
            s.max_exp_avg_sq = AdamUpdate.Parameter(param, ref s.step, s.exp_avg, s.exp_avg_sq, s.max_exp_avg_sq, h);
        }
    }, closure);
}
