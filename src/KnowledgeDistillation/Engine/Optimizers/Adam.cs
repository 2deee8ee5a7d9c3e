using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Engine.Optimizers;

/// <summary>
/// TorchSharp's <see cref="TorchSharp.Modules.Adam"/> (same options, state, saved format and arithmetic, bit for bit) with
/// each parameter's temporaries freed as soon as that parameter is updated. It has TorchSharp's class name on purpose:
/// TorchSharp's <c>save_state_dict</c>/<c>load_state_dict</c> record and check the class name, so state saved by either
/// class loads into the other.
/// </summary>
/// <remarks>
/// TorchSharp's own <c>step</c> keeps every temporary (the weight-decayed gradient, <c>sqrt(v)</c>, the denominator) of every
/// parameter alive in one dispose scope until the whole step ends, so each step allocates two to three times the model's
/// size in fresh memory, which the C library hands back to the kernel and the next step faults in again. Freeing per
/// parameter reuses one block, as PyTorch's loop does: measured in docs/benchmarks.md ("Optimiser step"). The engine uses
/// it for <see cref="OptimizerKind.Adam"/>; checkpoints made with TorchSharp's class resume with this one and back.
/// </remarks>
public sealed class Adam : TorchSharp.Modules.Adam
{
    /// <summary>Creates the optimiser (arguments as TorchSharp's <see cref="TorchSharp.Modules.Adam"/>).</summary>
    /// <param name="parameters">Parameters to optimise.</param>
    /// <param name="lr">Learning rate.</param>
    /// <param name="beta1">First-moment decay.</param>
    /// <param name="beta2">Second-moment decay.</param>
    /// <param name="eps">Denominator term.</param>
    /// <param name="weight_decay">L2 penalty added to the gradient.</param>
    /// <param name="amsgrad">Use the AMSGrad variant.</param>
    /// <param name="maximize">Maximise the objective.</param>
    public Adam(IEnumerable<TorchSharp.Modules.Parameter> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
        double weight_decay = 0, bool amsgrad = false, bool maximize = false)
        : base(parameters, lr, beta1, beta2, eps, weight_decay, amsgrad, maximize)
    {
    }

    /// <summary>Performs one update of every parameter with a gradient.</summary>
    /// <param name="closure">Re-evaluates the model and returns the loss; optional.</param>
    /// <returns>The closure's loss, or <c>null</c>.</returns>
    public override Tensor step(Func<Tensor>? closure = null) => _step<TorchSharp.Modules.Adam.ParamGroup>(group =>
    {
        var o = (TorchSharp.Modules.Adam.Options)group.Options;
        var h = new AdamHyperParameters(o.beta1!.Value, o.beta2!.Value, o.eps!.Value, o.LearningRate!.Value, o.weight_decay!.Value, DecoupledWeightDecay: false, o.amsgrad!.Value, o.maximize!.Value);
        foreach (var param in group.Parameters)
        {
            var s = (TorchSharp.Modules.Adam.State)_state[param.Handle];
            s.max_exp_avg_sq = AdamUpdate.Parameter(param, ref s.step, s.exp_avg, s.exp_avg_sq, s.max_exp_avg_sq, h);
        }
    }, closure);
}
