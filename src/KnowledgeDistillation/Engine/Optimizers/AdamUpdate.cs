using static TorchSharp.torch;

namespace KnowledgeDistillation.Engine.Optimizers;

/// <summary>The hyper-parameters of one Adam/AdamW parameter group.</summary>
internal readonly record struct AdamHyperParameters(double Beta1, double Beta2, double Eps, double LearningRate, bool AmsGrad, bool Maximize);

/// <summary>
/// The moment update and parameter step shared by <see cref="Adam"/> and <see cref="AdamW"/>: the operations of
/// TorchSharp's Adam/AdamW in their order (so results are bit-identical), with the denominator divided in place instead of
/// into a second temporary. Call it inside a dispose scope; it creates one temporary the size of the parameter.
/// </summary>
internal static class AdamUpdate
{
    /// <summary>Updates the moments and the parameter; returns the (possibly replaced) AMSGrad maximum, kept out of the caller's scope.</summary>
    public static Tensor? Apply(Tensor param, Tensor grad, Tensor expAvg, Tensor expAvgSq, Tensor? maxExpAvgSq, long step, AdamHyperParameters h)
    {
        var biasCorrection1 = 1 - Math.Pow(h.Beta1, step);
        var biasCorrection2 = 1 - Math.Pow(h.Beta2, step);
        expAvg.mul_(h.Beta1).add_(grad, alpha: 1 - h.Beta1);
        expAvgSq.mul_(h.Beta2).addcmul_(grad, grad.conj(), value: 1 - h.Beta2);
        Tensor second = expAvgSq;
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
