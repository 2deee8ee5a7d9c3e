using FluentAssertions;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Detection.Tests.Support;

internal static class Close
{
    /// <summary>Elementwise |a − b| &lt;= tol · max(1, |b|); -inf must match -inf.</summary>
    public static void Assert(Tensor actual, Tensor expected, double tolerance = 1e-10, string because = "")
    {
        actual.shape.Should().Equal(expected.shape, because);
        var a = Json.Values(actual);
        var e = Json.Values(expected);
        for (var i = 0; i < a.Length; i++)
        {
            if (double.IsNegativeInfinity(e[i]))
            {
                double.IsNegativeInfinity(a[i]).Should().BeTrue($"element {i} is -inf in the reference {because}");
                continue;
            }

            Math.Abs(a[i] - e[i]).Should().BeLessThanOrEqualTo(tolerance * Math.Max(1, Math.Abs(e[i])), $"element {i}: {a[i]} vs {e[i]} {because}");
        }
    }
}
