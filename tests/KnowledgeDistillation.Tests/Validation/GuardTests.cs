using FluentAssertions;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Validation;

public class GuardTests
{
    [Theory]
    [InlineData(1e-9)]
    [InlineData(3.5)]
    public void Positive_returns_finite_positive_values(double value) =>
        Guard.Positive(value, "t").Should().Be(value);

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void Positive_rejects_zero_negative_and_non_finite(double value) =>
        FluentActions.Invoking(() => Guard.Positive(value, "t")).Should().ThrowExactly<ArgumentOutOfRangeException>()
            .Where(e => e.ParamName == "t").WithMessage("*'t' must be a finite number > 0*");

    [Theory]
    [InlineData(0.0)]
    [InlineData(2.0)]
    public void NonNegative_returns_finite_non_negative_values(double value) =>
        Guard.NonNegative(value, "w").Should().Be(value);

    [Theory]
    [InlineData(-1e-9)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void NonNegative_rejects_negative_and_non_finite(double value) =>
        FluentActions.Invoking(() => Guard.NonNegative(value, "w")).Should().ThrowExactly<ArgumentOutOfRangeException>()
            .Where(e => e.ParamName == "w").WithMessage("*'w' must be a finite number >= 0*");

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.5)]
    [InlineData(1.0)]
    public void InRange_accepts_the_closed_interval(double value) =>
        Guard.InRange(value, 0, 1, "alpha").Should().Be(value);

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.1)]
    [InlineData(double.NaN)]
    public void InRange_rejects_values_outside_and_nan(double value) =>
        FluentActions.Invoking(() => Guard.InRange(value, 0, 1, "alpha")).Should().ThrowExactly<ArgumentOutOfRangeException>()
            .Where(e => e.ParamName == "alpha").WithMessage("*'alpha' must be in [0, 1]*");

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1e300)]
    [InlineData(double.Epsilon)]
    public void Finite_accepts_finite_values(double value) =>
        Guard.Finite(value, "bias").Should().Be(value);

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void Finite_rejects_nan_and_infinity(double value) =>
        FluentActions.Invoking(() => Guard.Finite(value, "bias")).Should().ThrowExactly<ArgumentOutOfRangeException>()
            .Where(e => e.ParamName == "bias").WithMessage("*'bias' must be a finite number*");

    [Fact]
    public void Name_returns_names_and_rejects_blank_ones()
    {
        Guard.Name("student", "participant").Should().Be("student");
        foreach (var bad in new[] { null, "", "  " })
        {
            FluentActions.Invoking(() => Guard.Name(bad!, "participant")).Should().ThrowExactly<ArgumentException>()
                .Where(e => e.ParamName == "participant").WithMessage("*'participant' must be a non-empty name*");
        }
    }

    [Fact]
    public void Shape_formats_tensors_and_dimension_lists()
    {
        using var scope = NewDisposeScope();
        Guard.Shape(zeros(2, 3)).Should().Be("[2, 3]");
        Guard.Shape(zeros(4)).Should().Be("[4]");
        Guard.Shape(tensor(1.0)).Should().Be("[]");
        Guard.Shape(zeros(0, 5, 1)).Should().Be("[0, 5, 1]");
        Guard.FormatShape(new long[] { 10, 28, 28 }).Should().Be("[10, 28, 28]");
        Guard.FormatShape([]).Should().Be("[]");
        Guard.FormatShape([-1, 4294967296]).Should().Be("[-1, 4294967296]");
        FluentActions.Invoking(() => Guard.Shape(null!)).Should().Throw<ArgumentNullException>();
        FluentActions.Invoking(() => Guard.FormatShape(null!)).Should().Throw<ArgumentNullException>();
    }

    [Fact]
    public void Rank_returns_tensors_of_that_rank()
    {
        using var scope = NewDisposeScope();
        var x = zeros(2, 3, 4, 4);
        Guard.Rank(x, 4, "features", "[batch, channels, height, width]").Should().BeSameAs(x);
        var s = tensor(1.0);
        Guard.Rank(s, 0, "total", "[] (a scalar)").Should().BeSameAs(s);
    }

    [Fact]
    public void Rank_rejects_other_ranks_naming_the_layout_and_the_shape()
    {
        using var scope = NewDisposeScope();
        FluentActions.Invoking(() => Guard.Rank(zeros(2, 3), 4, "features", "[batch, channels, height, width]"))
            .Should().ThrowExactly<ArgumentException>().Where(e => e.ParamName == "features")
            .WithMessage("features must have shape [batch, channels, height, width]; got [2, 3].*");
        FluentActions.Invoking(() => Guard.Rank(null!, 1, "scores", "[batch]"))
            .Should().Throw<ArgumentNullException>().Where(e => e.ParamName == "scores");
    }

    [Fact]
    public void FloatingPoint_accepts_float_types_and_rejects_others()
    {
        using var scope = NewDisposeScope();
        foreach (var dtype in new[] { ScalarType.Float16, ScalarType.BFloat16, ScalarType.Float32, ScalarType.Float64 })
        {
            var t = zeros(2, dtype: dtype);
            Guard.FloatingPoint(t, "logits").Should().BeSameAs(t);
        }

        FluentActions.Invoking(() => Guard.FloatingPoint(zeros(2, dtype: ScalarType.Int64), "logits"))
            .Should().ThrowExactly<ArgumentException>().Where(e => e.ParamName == "logits")
            .WithMessage("*logits must be floating point; got Int64*");
    }

    [Fact]
    public void SameShape_accepts_equal_shapes_and_names_both_on_mismatch()
    {
        using var scope = NewDisposeScope();
        var a = zeros(2, 3);
        Guard.SameShape(a, "student", ones(2, 3), "teacher").Should().BeSameAs(a);
        FluentActions.Invoking(() => Guard.SameShape(zeros(2, 3), "student", zeros(3, 2), "teacher"))
            .Should().ThrowExactly<ArgumentException>().Where(e => e.ParamName == "student")
            .WithMessage("*student [2, 3]*same shape as teacher [3, 2]*");
        FluentActions.Invoking(() => Guard.SameShape(zeros(6), "student", zeros(2, 3), "teacher"))
            .Should().ThrowExactly<ArgumentException>().WithMessage("*[6]*[2, 3]*");
    }

    [Fact]
    public void ClassCount_accepts_the_expected_class_dimension()
    {
        using var scope = NewDisposeScope();
        var logits = zeros(4, 10);
        Guard.ClassCount(logits, 10, "logits").Should().BeSameAs(logits);
        var dense = zeros(2, 3, 8, 8);
        Guard.ClassCount(dense, 3, "segmentation logits").Should().BeSameAs(dense);
    }

    [Fact]
    public void ClassCount_rejects_other_class_counts_with_the_expected_shape()
    {
        using var scope = NewDisposeScope();
        FluentActions.Invoking(() => Guard.ClassCount(zeros(4, 100), 10, "logits"))
            .Should().ThrowExactly<ArgumentException>().Where(e => e.ParamName == "logits")
            .WithMessage("Class counts differ: logits has 100 classes [4, 100]; expected 10 classes, shape [batch, 10].*");
        FluentActions.Invoking(() => Guard.ClassCount(zeros(2, 4, 8, 8), 3, "logits"))
            .Should().ThrowExactly<ArgumentException>().WithMessage("*4 classes [2, 4, 8, 8]*[batch, 3, ...]*");
        FluentActions.Invoking(() => Guard.ClassCount(zeros(4), 10, "logits"))
            .Should().ThrowExactly<ArgumentException>().Where(e => e.ParamName == "logits")
            .WithMessage("*no class dimension [4]*[batch, 10]*");
        FluentActions.Invoking(() => Guard.ClassCount(zeros(4, 10), 0, "logits"))
            .Should().ThrowExactly<ArgumentOutOfRangeException>().Where(e => e.ParamName == "expectedClasses");
    }

    [Fact]
    public void BatchSize_accepts_the_expected_rows_and_rejects_others()
    {
        using var scope = NewDisposeScope();
        var t = zeros(8, 3);
        Guard.BatchSize(t, 8, "targets").Should().BeSameAs(t);
        FluentActions.Invoking(() => Guard.BatchSize(zeros(5, 3), 8, "targets"))
            .Should().ThrowExactly<ArgumentException>().Where(e => e.ParamName == "targets")
            .WithMessage("Batch sizes differ: targets has shape [5, 3]; expected batch size 8, shape [8, ...].*");
        FluentActions.Invoking(() => Guard.BatchSize(tensor(1.0), 8, "targets"))
            .Should().ThrowExactly<ArgumentException>().WithMessage("*[]*[8, ...]*");
    }

    [Fact]
    public void AllFinite_accepts_finite_and_integer_tensors()
    {
        using var scope = NewDisposeScope();
        var t = tensor(new[] { 1.0, -1e300, 0.0 });
        Guard.AllFinite(t, "features").Should().BeSameAs(t);
        Guard.AllFinite(zeros(0, 3), "empty").Should().NotBeNull();
        Guard.AllFinite(tensor(new long[] { 1, long.MaxValue }), "indices").Should().NotBeNull();
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void AllFinite_rejects_nan_and_infinity(double bad)
    {
        using var scope = NewDisposeScope();
        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.Float64 })
        {
            var t = tensor(new[,] { { 1.0, bad }, { 0.0, 2.0 } }).to_type(dtype);
            FluentActions.Invoking(() => Guard.AllFinite(t, "features"))
                .Should().ThrowExactly<ArgumentException>().Where(e => e.ParamName == "features")
                .WithMessage("*features [2, 2]*finite*NaN or infinity*");
        }
    }

    [Fact]
    public void Logits_accepts_float_matrices_and_rejects_other_shapes_and_types()
    {
        using var scope = NewDisposeScope();
        var logits = zeros(4, 10);
        Guard.Logits(logits, "student logits").Should().BeSameAs(logits);
        FluentActions.Invoking(() => Guard.Logits(zeros(4, 10, 2), "student logits"))
            .Should().ThrowExactly<ArgumentException>().Where(e => e.ParamName == "student logits")
            .WithMessage("student logits must have shape [batch, classes]; got [4, 10, 2].*");
        FluentActions.Invoking(() => Guard.Logits(zeros(new long[] { 4, 10 }, dtype: ScalarType.Int32), "student logits"))
            .Should().ThrowExactly<ArgumentException>().WithMessage("*floating point*Int32*");
    }

    [Fact]
    public void MatchingLogits_accepts_matching_pairs_and_names_both_on_mismatch()
    {
        using var scope = NewDisposeScope();
        Guard.MatchingLogits(zeros(4, 10), "student", ones(4, 10), "teacher");
        FluentActions.Invoking(() => Guard.MatchingLogits(zeros(4, 10), "student", zeros(4, 100), "teacher"))
            .Should().ThrowExactly<ArgumentException>().Where(e => e.ParamName == "student")
            .WithMessage("Class counts differ*student*10 classes [4, 10]*teacher*100 [4, 100]*");
        FluentActions.Invoking(() => Guard.MatchingLogits(zeros(4, 10), "student", zeros(3, 10), "teacher"))
            .Should().ThrowExactly<ArgumentException>().Where(e => e.ParamName == "student")
            .WithMessage("Batch sizes differ*student [4, 10]*teacher [3, 10]*");
        FluentActions.Invoking(() => Guard.MatchingLogits(zeros(4, 10), "student", zeros(4), "teacher"))
            .Should().ThrowExactly<ArgumentException>().Where(e => e.ParamName == "teacher")
            .WithMessage("*[batch, classes]*[4]*");
    }

    [Fact]
    public void SameDevice_accepts_tensors_on_one_device()
    {
        using var scope = NewDisposeScope();
        var a = zeros(2);
        Guard.SameDevice(a, "student", zeros(3), "teacher").Should().BeSameAs(a);
    }

    [Fact]
    public void SameDevice_rejects_tensors_on_different_devices()
    {
        if (!cuda.is_available())
        {
            return; // needs a second device; covered wherever CUDA is present
        }

        using var scope = NewDisposeScope();
        FluentActions.Invoking(() => Guard.SameDevice(zeros(2), "student", zeros(2, device: CUDA), "teacher"))
            .Should().ThrowExactly<ArgumentException>().Where(e => e.ParamName == "student")
            .WithMessage("*student is on cpu*teacher is on cuda*same device*");
    }

    [Fact]
    public void Labels_accepts_int64_labels_in_range()
    {
        using var scope = NewDisposeScope();
        var labels = tensor(new long[] { 0, 2, 1 });
        Guard.Labels(labels, zeros(3, 3), "targets").Should().BeSameAs(labels);
    }

    [Fact]
    public void Labels_rejects_bad_shape_type_and_range_naming_the_expectation()
    {
        using var scope = NewDisposeScope();
        var logits = zeros(3, 3);
        FluentActions.Invoking(() => Guard.Labels(tensor(new long[] { 0, 1 }), logits, "targets"))
            .Should().ThrowExactly<ArgumentException>().Where(e => e.ParamName == "targets")
            .WithMessage("*targets must be class indices of shape [3]; got [2]*");
        FluentActions.Invoking(() => Guard.Labels(tensor(new[] { 0, 1, 2 }), logits, "targets"))
            .Should().ThrowExactly<ArgumentException>().Where(e => e.ParamName == "targets")
            .WithMessage("*int64*Int32*");
        FluentActions.Invoking(() => Guard.Labels(tensor(new long[] { 0, 3, 1 }), logits, "targets"))
            .Should().ThrowExactly<ArgumentException>().Where(e => e.ParamName == "targets")
            .WithMessage("*targets must be in [0, 2] for 3 classes; found values in [0, 3]*");
    }
}
