using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Support;

/// <summary>
/// Mean, standard deviation and kurtosis of a tensor's values in float64 (population moments), for tests that check the
/// shape of an initialisation: a normal start has kurtosis 3, a uniform one 1.8. KnowledgeDistillation.Graph.Tests
/// compiles this file too.
/// </summary>
internal static class SampleMoments
{
    /// <summary>The moments of every element of <paramref name="values"/>.</summary>
    public static (double Mean, double Std, double Kurtosis) Of(Tensor values)
    {
        using var scope = NewDisposeScope();
        var w = values.detach().to_type(ScalarType.Float64).flatten();
        var mean = w.mean();
        var centred = w - mean;
        var std = centred.pow(2).mean().sqrt().item<double>();
        return (mean.item<double>(), std, centred.pow(4).mean().item<double>() / Math.Pow(std, 4));
    }
}
