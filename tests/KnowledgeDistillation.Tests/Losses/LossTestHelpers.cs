using FluentAssertions;
using KnowledgeDistillation.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Losses;

/// <summary>Tensor construction, autograd and tolerance helpers shared by the loss tests.</summary>
internal static class LossTestHelpers
{
    /// <summary>Absolute tolerance for float64 comparisons with PyTorch (relative above |ref| = 1).</summary>
    public const double Float64Tolerance = 1e-10;

    /// <summary>Absolute tolerance for float32 comparisons with PyTorch (relative above |ref| = 1).</summary>
    public const double Float32Tolerance = 1e-5;

    public static ScalarType DType(string dtype) => dtype switch
    {
        LossFixtures.Float64 => ScalarType.Float64,
        LossFixtures.Float32 => ScalarType.Float32,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Unknown dtype."),
    };

    public static double Tolerance(string dtype) => dtype == LossFixtures.Float64 ? Float64Tolerance : Float32Tolerance;

    /// <summary>
    /// Tolerance for a KD <em>value</em> at temperature T: the loss is T² times a KL divergence formed from O(1)
    /// log-probabilities, so any implementation's rounding (PyTorch's reference included) is amplified by T². The bound is
    /// max(<see cref="Tolerance(string)"/>, 2 T² u) with u the unit roundoff of the dtype: it is the plain tolerance for
    /// float32 up to T ≈ 6.5 and for float64 up to T ≈ 470. (Measured against 50-digit mpmath values, PyTorch's float32
    /// reference is off by 1.8e-5 at T = 20 on the kd.md example, and its float64 reference by 1.2e-8 at T = 1e4.)
    /// </summary>
    public static double KdValueTolerance(string dtype, double temperature)
    {
        var unitRoundoff = dtype == LossFixtures.Float64 ? Math.Pow(2, -52) : Math.Pow(2, -23);
        return Math.Max(Tolerance(dtype), 2 * temperature * temperature * unitRoundoff);
    }

    /// <summary>A [rows, columns] tensor from a jagged array (float64 values, cast to <paramref name="dtype"/>).</summary>
    public static Tensor Matrix(double[][] rows, ScalarType dtype = ScalarType.Float64, bool requiresGrad = false)
    {
        var columns = rows[0].Length;
        var flat = rows.SelectMany(r => r.Length == columns ? r : throw new ArgumentException("Ragged matrix.")).ToArray();
        var t = torch.tensor(flat, new long[] { rows.Length, columns }, ScalarType.Float64).to_type(dtype);
        return requiresGrad ? t.requires_grad_() : t;
    }

    public static Tensor Labels(params long[] labels) => torch.tensor(labels, new long[] { labels.Length }, ScalarType.Int64);

    public static double Scalar(Tensor t) => t.to_type(ScalarType.Float64).item<double>();

    /// <summary>A 2-D tensor as a jagged double array.</summary>
    public static double[][] ToRows(Tensor t)
    {
        t.dim().Should().Be(2);
        var rows = (int)t.shape[0];
        var columns = (int)t.shape[1];
        var flat = t.detach().cpu().to_type(ScalarType.Float64).contiguous().data<double>().ToArray();
        return Enumerable.Range(0, rows).Select(r => flat.Skip(r * columns).Take(columns).ToArray()).ToArray();
    }

    /// <summary>Runs <paramref name="loss"/> on a fresh leaf copy of <paramref name="student"/> and returns value and gradient.</summary>
    public static (double Value, double[][] Grad) ValueAndGrad(Tensor student, Func<Tensor, Tensor> loss)
    {
        var leaf = student.detach().clone().requires_grad_();
        var value = loss(leaf);
        value.numel().Should().Be(1, "a loss is a scalar");
        value.backward();
        leaf.grad.Should().NotBeNull("the student logits must receive a gradient");
        return (Scalar(value), ToRows(leaf.grad!));
    }

    /// <summary>A context with a student and a teacher output (no training engine).</summary>
    public static DistillationContext Context(Tensor student, Tensor? teacher, Tensor? labels, int epoch = 0)
    {
        var outputs = new Dictionary<string, ModelOutput> { ["student"] = new ModelOutput(student) };
        if (teacher is not null)
        {
            outputs["teacher"] = new ModelOutput(teacher);
        }

        return Context(outputs, labels, student.shape[0], epoch);
    }

    public static DistillationContext Context(IReadOnlyDictionary<string, ModelOutput> outputs, Tensor? labels, long batchSize, int epoch = 0)
    {
        var batch = new Batch(torch.zeros(batchSize, 1), labels, torch.arange(batchSize, ScalarType.Int64));
        return new DistillationContext(batch, outputs, epoch: epoch);
    }

    /// <summary>|actual - expected| &lt;= tolerance * max(1, |expected|).</summary>
    public static void ShouldBeClose(this double actual, double expected, double tolerance, string what)
    {
        var bound = tolerance * Math.Max(1.0, Math.Abs(expected));
        Math.Abs(actual - expected).Should().BeLessThanOrEqualTo(
            bound, "{0}: expected {1:R}, got {2:R} (tolerance {3:G3})", what, expected, actual, bound);
    }

    /// <summary>Element-wise <see cref="ShouldBeClose(double, double, double, string)"/> with matching shapes.</summary>
    public static void ShouldBeClose(this double[][] actual, double[][] expected, double tolerance, string what)
    {
        actual.Length.Should().Be(expected.Length, "{0}: row count", what);
        for (var i = 0; i < expected.Length; i++)
        {
            actual[i].Length.Should().Be(expected[i].Length, "{0}: column count of row {1}", what, i);
            for (var k = 0; k < expected[i].Length; k++)
            {
                actual[i][k].ShouldBeClose(expected[i][k], tolerance, $"{what}[{i},{k}]");
            }
        }
    }

    public static double MaxAbsDifference(double[][] a, double[][] b) =>
        a.Zip(b, (x, y) => x.Zip(y, (u, v) => Math.Abs(u - v)).Max()).Max();

    public static double[][] Map(double[][] rows, Func<int, int, double, double> f) =>
        rows.Select((r, i) => r.Select((v, k) => f(i, k, v)).ToArray()).ToArray();

    /// <summary>Plain double-precision math, independent of PyTorch and TorchSharp.</summary>
    public static class Reference
    {
        public static double[] Softmax(double[] z, double temperature = 1.0)
        {
            var max = z.Max();
            var e = z.Select(v => Math.Exp((v - max) / temperature)).ToArray();
            var sum = e.Sum();
            return e.Select(v => v / sum).ToArray();
        }

        public static double[] LogSoftmax(double[] z, double temperature = 1.0)
        {
            var max = z.Max() / temperature;
            var logSum = Math.Log(z.Sum(v => Math.Exp(v / temperature - max))) + max;
            return z.Select(v => v / temperature - logSum).ToArray();
        }

        /// <summary>T² / B Σ_i KL(p_t^T ‖ p_s^T).</summary>
        public static double KD(double[][] zs, double[][] zt, double temperature)
        {
            double sum = 0;
            for (var i = 0; i < zs.Length; i++)
            {
                var ls = LogSoftmax(zs[i], temperature);
                var lt = LogSoftmax(zt[i], temperature);
                for (var k = 0; k < ls.Length; k++)
                {
                    var pt = Math.Exp(lt[k]);
                    sum += pt == 0 ? 0 : pt * (lt[k] - ls[k]);
                }
            }

            return temperature * temperature * sum / zs.Length;
        }

        /// <summary>kd.md: dL_KD/dz_s = (T / B)(p_s^T − p_t^T).</summary>
        public static double[][] KDGrad(double[][] zs, double[][] zt, double temperature)
        {
            var b = zs.Length;
            return zs.Select((row, i) =>
            {
                var ps = Softmax(row, temperature);
                var pt = Softmax(zt[i], temperature);
                return ps.Select((p, k) => temperature / b * (p - pt[k])).ToArray();
            }).ToArray();
        }

        /// <summary>Batch mean of −Σ_k q_k log softmax(z)_k with q = (1 − ε) onehot(y) + ε / K.</summary>
        public static double CrossEntropy(double[][] z, long[] y, double epsilon = 0.0)
        {
            double sum = 0;
            for (var i = 0; i < z.Length; i++)
            {
                var ls = LogSoftmax(z[i]);
                var q = SmoothedOneHot(y[i], ls.Length, epsilon);
                sum -= q.Zip(ls, (a, l) => a * l).Sum();
            }

            return sum / z.Length;
        }

        /// <summary>(softmax(z) − q) / B.</summary>
        public static double[][] CrossEntropyGrad(double[][] z, long[] y, double epsilon = 0.0) =>
            z.Select((row, i) =>
            {
                var p = Softmax(row);
                var q = SmoothedOneHot(y[i], row.Length, epsilon);
                return p.Select((v, k) => (v - q[k]) / z.Length).ToArray();
            }).ToArray();

        public static double[] SmoothedOneHot(long label, int classes, double epsilon) =>
            Enumerable.Range(0, classes).Select(k => (k == label ? 1 - epsilon : 0) + epsilon / classes).ToArray();
    }
}
