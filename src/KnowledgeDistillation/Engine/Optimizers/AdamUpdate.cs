using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Engine.Optimizers;

/// <summary>
/// The hyper-parameters of one Adam/AdamW parameter group; <c>DecoupledWeightDecay</c> selects AdamW's decay (the
/// parameter shrinks by lr · decay) instead of Adam's L2 term added to the gradient.
/// </summary>
internal readonly record struct AdamHyperParameters(
    double Beta1, double Beta2, double Eps, double LearningRate, double WeightDecay, bool DecoupledWeightDecay, bool AmsGrad, bool Maximize);

/// <summary>
/// One parameter's update for <see cref="Adam"/> and <see cref="AdamW"/>: TorchSharp's operations in their order (so results
/// are bit-identical), inside a dispose scope of its own so the temporaries are freed before the next parameter, and the
/// denominator divided in place instead of into a second temporary.
/// </summary>
internal static class AdamUpdate
{
    /// <summary>Updates the parameter and its moments when it has a gradient; returns the (possibly replaced) AMSGrad maximum.</summary>
    public static Tensor? Parameter(Parameter param, ref long step, Tensor expAvg, Tensor expAvgSq, Tensor? maxExpAvgSq, AdamHyperParameters h)
    {
        using var scope = NewDisposeScope();
        var grad = param.grad;
        if (grad is null)
        {
            return maxExpAvgSq;
        }

        grad = h.Maximize ? -grad : grad;
        step += 1;
        if (h.DecoupledWeightDecay)
        {
            param.mul_(1 - h.LearningRate * h.WeightDecay);
        }
        else if (h.WeightDecay != 0)
        {
            grad = grad.add(param, alpha: h.WeightDecay);
        }

        var biasCorrection1 = 1 - Math.Pow(h.Beta1, step);
        var biasCorrection2 = 1 - Math.Pow(h.Beta2, step);
        expAvg.mul_(h.Beta1).add_(grad, alpha: 1 - h.Beta1);
        expAvgSq.mul_(h.Beta2).addcmul_(grad, grad.conj(), value: 1 - h.Beta2);
        var second = expAvgSq;
        if (h.AmsGrad)
        {
            var previous = maxExpAvgSq!;
            maxExpAvgSq = maximum(previous, expAvgSq).DetachFromDisposeScope();
            previous.Dispose();
            second = maxExpAvgSq;
        }

        var denominator = second.sqrt().div_(Math.Sqrt(biasCorrection2)).add_(h.Eps);
        param.addcdiv_(expAvg, denominator, value: -(h.LearningRate / biasCorrection1));
        return maxExpAvgSq;
    }
}
