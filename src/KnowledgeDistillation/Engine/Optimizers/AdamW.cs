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
        var options = (TorchSharp.Modules.AdamW.Options)group.Options;
        var hyper = new AdamHyperParameters(options.beta1!.Value, options.beta2!.Value, options.eps!.Value, options.LearningRate!.Value,
            options.amsgrad!.Value, options.maximize!.Value);
        foreach (var param in group.Parameters)
        {
            using var scope = NewDisposeScope();
            var state = (TorchSharp.Modules.AdamW.State)_state[param.Handle];
            var grad = param.grad;
            if (grad is null)
            {
                continue;
            }

            grad = hyper.Maximize ? -grad : grad;
            state.step += 1;
            param.mul_(1 - hyper.LearningRate * options.weight_decay!.Value);
            state.max_exp_avg_sq = AdamUpdate.Apply(param, grad, state.exp_avg, state.exp_avg_sq, state.max_exp_avg_sq, state.step, hyper);
        }
    }, closure);
}
