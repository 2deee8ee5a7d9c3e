using System.Text;
using TorchSharp;
using Xunit.Sdk;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Support;

/// <summary>
/// The one gradient check of the test projects (KnowledgeDistillation.Graph.Tests compiles this file too): autograd's
/// gradient of a scalar against central finite differences in float64. The inputs are float64 leaves (tensors that
/// require grad, or module parameters) which the check perturbs <em>in place</em> one element at a time, so the
/// function may read them from anywhere (a context, a module) and is evaluated as it is.
/// </summary>
internal static class GradientCheck
{
    /// <summary>Default step h of the central difference (f(x + h) − f(x − h)) / 2h.</summary>
    public const double DefaultStep = 1e-6;

    /// <summary>Default tolerance: |analytic − numeric| &lt;= tolerance · max(1, |numeric|).</summary>
    public const double DefaultTolerance = 1e-7;

    /// <summary>
    /// Runs <c>value().backward()</c> once, then compares each element's gradient of every input with the central
    /// difference of <paramref name="numeric"/> (default: <paramref name="value"/> itself), evaluated without grad.
    /// Throws one failure listing every mismatch: input, element index, analytic and numeric values, tolerance.
    /// </summary>
    /// <param name="value">The scalar whose autograd gradient is checked.</param>
    /// <param name="inputs">Named float64 leaves (contiguous, requiring grad); restored exactly after each perturbation.</param>
    /// <param name="tolerance">Absolute tolerance, relative above |numeric| = 1.</param>
    /// <param name="step">The step h.</param>
    /// <param name="maxElementsPerInput">Check only the first elements of each input (large parameters).</param>
    /// <param name="numeric">
    /// The scalar to difference for a given input, when it is not <paramref name="value"/>: a loss that detaches one
    /// trainable input from another's term by design (mutual learning) has the gradient of that term, not of its total.
    /// </param>
    public static void AssertMatchesFiniteDifferences(
        Func<Tensor> value,
        IEnumerable<(string Name, Tensor Leaf)> inputs,
        double tolerance = DefaultTolerance,
        double step = DefaultStep,
        int maxElementsPerInput = int.MaxValue,
        Func<string, Tensor>? numeric = null)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(inputs);
        var leaves = inputs.ToArray();
        if (leaves.Length == 0)
        {
            throw new ArgumentException("A gradient check needs at least one input.", nameof(inputs));
        }

        foreach (var (name, leaf) in leaves)
        {
            if (leaf.dtype != ScalarType.Float64 || !leaf.requires_grad || !leaf.is_contiguous())
            {
                throw new ArgumentException(
                    $"Input '{name}' must be a contiguous float64 tensor that requires grad (finite differences need float64); " +
                    $"got {leaf.dtype}, requires_grad = {leaf.requires_grad}, contiguous = {leaf.is_contiguous()}.", nameof(inputs));
            }

            leaf.grad?.zero_();
        }

        var total = value();
        if (total.numel() != 1)
        {
            throw new ArgumentException($"The checked value must be a scalar; got shape [{string.Join(", ", total.shape)}].", nameof(value));
        }

        total.backward();
        numeric ??= _ => value();
        var failures = new List<string>();
        var checkedCount = 0;
        foreach (var (name, leaf) in leaves)
        {
            var analytic = leaf.grad is null ? null : Values(leaf.grad);
            var flat = leaf.detach().view(-1);
            var count = (int)Math.Min(flat.shape[0], maxElementsPerInput);
            for (var i = 0; i < count; i++)
            {
                var original = flat[i].item<double>();
                var (plus, minus) = (original + step, original - step);
                double At(double x)
                {
                    using var noGrad = no_grad();
                    flat[i].fill_(x);
                    return numeric(name).to_type(ScalarType.Float64).item<double>();
                }

                double estimate;
                try
                {
                    estimate = (At(plus) - At(minus)) / (plus - minus);
                }
                finally
                {
                    using var noGrad = no_grad();
                    flat[i].fill_(original);
                }

                var grad = analytic?[i] ?? 0.0;
                var bound = tolerance * Math.Max(1.0, Math.Abs(estimate));
                checkedCount++;
                if (!(Math.Abs(grad - estimate) <= bound))
                {
                    failures.Add(
                        $"input '{name}' element {Index(leaf.shape, i)}: analytic {grad:R}{(analytic is null ? " (no gradient reached the input)" : "")}, " +
                        $"numeric {estimate:R}, |difference| {Math.Abs(grad - estimate):G3} > {bound:G3}");
                }
            }
        }

        if (failures.Count > 0)
        {
            var message = new StringBuilder()
                .Append($"Gradient check failed for {failures.Count} of {checkedCount} elements ")
                .Append($"(central differences in float64, step {step:G3}, tolerance {tolerance:G3} relative above |numeric| = 1):");
            foreach (var failure in failures.Take(20))
            {
                message.Append("\n  ").Append(failure);
            }

            if (failures.Count > 20)
            {
                message.Append($"\n  ... and {failures.Count - 20} more");
            }

            throw new XunitException(message.ToString());
        }
    }

    /// <summary>Checks a function of fresh float64 leaf copies of <paramref name="values"/>, named "input[0]", "input[1]", ...</summary>
    /// <param name="function">The scalar function; it receives the leaves in order.</param>
    /// <param name="values">The point at which to check (any dtype and device; copied to float64 leaves).</param>
    /// <param name="tolerance">See <see cref="AssertMatchesFiniteDifferences(Func{Tensor}, IEnumerable{ValueTuple{string, Tensor}}, double, double, int, Func{string, Tensor}?)"/>.</param>
    /// <param name="step">The step h.</param>
    public static void AssertMatchesFiniteDifferences(Func<Tensor[], Tensor> function, Tensor[] values, double tolerance = DefaultTolerance, double step = DefaultStep)
    {
        ArgumentNullException.ThrowIfNull(function);
        var leaves = values.Select(v => v.detach().to_type(ScalarType.Float64).contiguous().clone().requires_grad_()).ToArray();
        AssertMatchesFiniteDifferences(() => function(leaves), leaves.Select((l, i) => ($"input[{i}]", l)), tolerance, step);
    }

    /// <summary>Checks the gradient of <paramref name="value"/> w.r.t. a module's (float64) parameters, named as in <c>named_parameters()</c>.</summary>
    /// <param name="value">The scalar, computed through <paramref name="module"/>.</param>
    /// <param name="module">The module whose parameters are perturbed.</param>
    /// <param name="tolerance">See <see cref="AssertMatchesFiniteDifferences(Func{Tensor}, IEnumerable{ValueTuple{string, Tensor}}, double, double, int, Func{string, Tensor}?)"/>.</param>
    /// <param name="maxElementsPerParameter">Check only the first elements of each parameter.</param>
    /// <param name="prefix">Prepended to the parameter names in failure messages (e.g. the variant under test).</param>
    public static void AssertParametersMatchFiniteDifferences(
        Func<Tensor> value, nn.Module module, double tolerance = DefaultTolerance, int maxElementsPerParameter = int.MaxValue, string prefix = "")
    {
        ArgumentNullException.ThrowIfNull(module);
        AssertMatchesFiniteDifferences(
            value, module.named_parameters().Select(p => (prefix + p.name, p.parameter as Tensor)), tolerance, maxElementsPerInput: maxElementsPerParameter);
    }

    private static double[] Values(Tensor t) => t.detach().cpu().to_type(ScalarType.Float64).contiguous().data<double>().ToArray();

    private static string Index(long[] shape, long flat)
    {
        var index = new long[shape.Length];
        for (var d = shape.Length - 1; d >= 0; d--)
        {
            index[d] = flat % shape[d];
            flat /= shape[d];
        }

        return $"[{string.Join(", ", index)}]";
    }
}
