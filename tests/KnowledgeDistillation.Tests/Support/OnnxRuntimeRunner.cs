using FluentAssertions;
using Microsoft.ML.OnnxRuntime;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Support;

/// <summary>Runs exported ONNX models in ONNX Runtime (the independent reference) and compares with TorchSharp.</summary>
internal static class OnnxRuntimeRunner
{
    /// <summary>Absolute tolerance for values of magnitude up to 1, relative above: |onnx - torch| &lt;= 1e-5 * max(1, |torch|).</summary>
    public const double Tolerance = 1e-5;

    /// <summary>Runs <paramref name="model"/> on float32 inputs and returns the first output (values and shape).</summary>
    public static (float[] Values, long[] Shape) Run(byte[] model, params (string Name, Tensor Value)[] inputs)
    {
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL };
        using var session = new InferenceSession(model, options);
        var values = new List<OrtValue>();
        try
        {
            foreach (var (_, tensor) in inputs)
            {
                using var host = tensor.detach().cpu().contiguous();
                values.Add(host.dtype == ScalarType.Int64
                    ? OrtValue.CreateTensorValueFromMemory(host.data<long>().ToArray(), host.shape)
                    : OrtValue.CreateTensorValueFromMemory(host.to_type(ScalarType.Float32).data<float>().ToArray(), host.shape));
            }

            using var runOptions = new RunOptions();
            using var outputs = session.Run(runOptions, inputs.Select(i => i.Name).ToArray(), values, session.OutputNames.Take(1).ToArray());
            var output = outputs[0];
            return (output.GetTensorDataAsSpan<float>().ToArray(), output.GetTensorTypeAndShape().Shape);
        }
        finally
        {
            foreach (var value in values)
            {
                value.Dispose();
            }
        }
    }

    /// <summary>Asserts that ONNX Runtime's output equals <paramref name="expected"/> within <see cref="Tolerance"/> (shape included).</summary>
    public static void ShouldMatch((float[] Values, long[] Shape) actual, Tensor expected, string because = "")
    {
        using var host = expected.detach().cpu().to_type(ScalarType.Float32).contiguous();
        actual.Shape.Should().Equal(host.shape, because);
        var reference = host.data<float>().ToArray();
        var worst = 0.0;
        for (var i = 0; i < reference.Length; i++)
        {
            var error = Math.Abs(actual.Values[i] - reference[i]) / Math.Max(1.0, Math.Abs(reference[i]));
            worst = Math.Max(worst, double.IsNaN(error) ? double.PositiveInfinity : error);
        }

        worst.Should().BeLessThanOrEqualTo(Tolerance, $"ONNX Runtime must match TorchSharp's eval-mode forward {because}");
    }

    /// <summary>TorchSharp's eval-mode forward of <paramref name="model"/> on <paramref name="input"/> (mode restored).</summary>
    public static Tensor EvalForward(nn.Module<Tensor, Tensor> model, Tensor input)
    {
        var training = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            return model.call(input);
        }
        finally
        {
            model.train(training);
        }
    }

    /// <summary>Gives every BatchNorm non-trivial running statistics and affine parameters, so eval mode is really tested.</summary>
    public static void RandomiseNormalisation(nn.Module model, int seed = 1)
    {
        using var noGrad = no_grad();
        var generator = new torch.Generator((ulong)seed);
        foreach (var bn in model.modules().OfType<TorchSharp.Modules.BatchNorm>())
        {
            bn.running_mean!.copy_(randn(bn.running_mean.shape, generator: generator) * 0.1);
            bn.running_var!.copy_(rand(bn.running_var.shape, generator: generator) + 0.5);
            bn.weight?.copy_(1 + (randn(bn.weight.shape, generator: generator) * 0.1));
            bn.bias?.copy_(randn(bn.bias.shape, generator: generator) * 0.1);
        }
    }
}
