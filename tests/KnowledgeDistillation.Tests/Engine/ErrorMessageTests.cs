using FluentAssertions;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Models;
using KnowledgeDistillation.Tests.Support;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Engine;

/// <summary>Issue 12, problem 10: the label-range and non-finite-loss messages say what is wrong and where.</summary>
public sealed class ErrorMessageTests
{
    [Fact]
    public void A_label_of_11_for_11_classes_gives_the_range_0_to_10_and_names_the_training_data()
    {
        using var data = Labelled(maxLabel: 11);
        using var net = new Mlp(8, Array.Empty<int>(), numClasses: 11);
        using var student = Student.FromModule(net);
        var act = () => new Distiller(new[] { student }, new CrossEntropyLoss(), new DistillerOptions { Epochs = 1 }).Fit(new DataLoader(data, 8));
        act.Should().Throw<ArgumentException>().Where(e => e.ParamName == "train")
            .WithMessage("The training data ('train') holds class label 11, but participant 'student' outputs 11 logits, so labels must be in 0..10.*")
            .Where(e => !e.Message.Contains("12 classes", StringComparison.Ordinal) && !e.Message.Contains("0..11", StringComparison.Ordinal));
    }

    [Fact]
    public void A_label_out_of_range_in_the_evaluation_data_names_the_evaluation_argument()
    {
        using var train = Labelled(maxLabel: 10);
        using var test = Labelled(maxLabel: 11);
        using var net = new Mlp(8, Array.Empty<int>(), numClasses: 11);
        using var student = Student.FromModule(net);
        var act = () => new Distiller(new[] { student }, new CrossEntropyLoss(), new DistillerOptions { Epochs = 1 }).Fit(new DataLoader(train, 8), new DataLoader(test, 8));
        act.Should().Throw<ArgumentException>().Where(e => e.ParamName == "evaluation")
            .WithMessage("The evaluation data ('evaluation') holds class label 11*labels must be in 0..10*");
    }

    [Fact]
    public void A_nan_loss_names_the_samples_of_the_step_and_those_with_non_finite_inputs()
    {
        // 32 samples, batches of 8 in order: sample 13 (second batch) has a NaN feature.
        var inputs = randn(32, 8);
        inputs[13, 2] = tensor(float.NaN);
        using var data = new TensorDataset(inputs, randint(0, 3, new long[] { 32 }, ScalarType.Int64));
        using var net = new Mlp(8, Array.Empty<int>(), numClasses: 3);
        using var student = Student.FromModule(net);
        var act = () => new Distiller(new[] { student }, new CrossEntropyLoss(), new DistillerOptions { Epochs = 1 }).Fit(new DataLoader(data, 8, shuffle: false));
        act.Should().Throw<NonFiniteLossException>()
            .Where(e => e.Step == 1 && e.SampleIndices.SequenceEqual(new long[] { 8, 9, 10, 11, 12, 13, 14, 15 }) && e.SuspectSamples.SequenceEqual(new long[] { 13 }))
            .WithMessage("*step 1*samples (dataset indices) [8, 9, 10, 11, 12, 13, 14, 15]*inputs are not finite for sample(s) [13]*logits of 'student' are not finite for sample(s) [13]*");
    }

    [Fact]
    public void A_nan_loss_from_finite_inputs_says_the_loss_computation_overflowed()
    {
        using var data = SyntheticData.Blobs(16, seed: 2);
        using var net = new Mlp(8, Array.Empty<int>(), numClasses: 3);
        using var student = Student.FromModule(net);
        var act = () => new Distiller(new[] { student }, new CrossEntropyLoss() + new NanLoss(), new DistillerOptions { Epochs = 1 }).Fit(new DataLoader(data, 8, shuffle: false));
        act.Should().Throw<NonFiniteLossException>()
            .Where(e => e.SampleIndices.Count == 8 && e.SuspectSamples.Count == 0)
            .WithMessage("*[0, 1, 2, 3, 4, 5, 6, 7]; their inputs and logits are finite*");
    }

    private static TensorDataset Labelled(int maxLabel)
    {
        var labels = arange(32, dtype: ScalarType.Int64) % maxLabel;
        labels[5] = tensor((long)maxLabel);
        return new TensorDataset(randn(32, 8), labels);
    }

    private sealed class NanLoss() : DistillationLoss("nan")
    {
        public override LossResult Compute(DistillationContext context) =>
            new(Name, context.Output("student").RequireLogits("student").sum() * double.NaN);
    }
}
