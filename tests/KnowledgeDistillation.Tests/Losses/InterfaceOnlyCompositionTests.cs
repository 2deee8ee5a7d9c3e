using FluentAssertions;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Models;
using KnowledgeDistillation.Tests.Support;
using TorchSharp;
using Xunit;
using static KnowledgeDistillation.Tests.Losses.LossTestHelpers;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Losses;

/// <summary>
/// Issue 12, problem 4: a loss that implements only <see cref="IDistillationLoss"/> composes with <c>*</c> and <c>+</c>
/// (the README's "either way works"). This file is the compile-time test: before the extension operators it did not
/// compile (CS0019).
/// </summary>
public sealed class InterfaceOnlyCompositionTests
{
    [Fact]
    public void An_interface_only_loss_composes_with_operators_like_a_distillation_loss()
    {
        using var scope = NewDisposeScope();
        var c = LossFixtures.Case("b4_k10");
        var context = Context(Matrix(c.Student), Matrix(c.Teacher), Labels(c.Labels));
        var penalty = new EntropyPenalty();

        var composed = 0.9 * new KDLoss(4) + 0.1 * new CrossEntropyLoss() + penalty;
        var scaledLeft = 0.5 * penalty;
        var scaledRight = penalty * 0.5;
        var sumFirst = penalty + new CrossEntropyLoss();

        var kd = Scalar(KDLoss.Value(Matrix(c.Student), Matrix(c.Teacher), 4.0));
        var ce = Scalar(CrossEntropyLoss.Value(Matrix(c.Student), Labels(c.Labels)));
        var entropy = Scalar(penalty.Compute(context).Total);
        var result = composed.Compute(context);
        result.Parts.Keys.Should().BeEquivalentTo("kd", "ce", "entropy");
        Scalar(result.Total).Should().BeApproximately((0.9 * kd) + (0.1 * ce) + entropy, 1e-12);
        Scalar(scaledLeft.Compute(context).Total).Should().BeApproximately(0.5 * entropy, 1e-14);
        Scalar(scaledRight.Compute(context).Total).Should().BeApproximately(0.5 * entropy, 1e-14);
        Scalar(sumFirst.Compute(context).Total).Should().BeApproximately(entropy + ce, 1e-12);
        Loss.Of(penalty).Should().BeAssignableTo<DistillationLoss>("Loss.Of is the explicit wrapper for the same thing");
    }

    [Fact]
    public void A_composed_interface_only_loss_trains_through_fit()
    {
        using var data = SyntheticData.Blobs(32, seed: 1);
        using var net = new Mlp(8, Array.Empty<int>(), numClasses: 3);
        using var student = Student.FromModule(net);
        var result = new Distiller(new[] { student }, new CrossEntropyLoss() + 0.1 * new EntropyPenalty(), new DistillerOptions { Epochs = 1, Seed = 0 })
            .Fit(new DataLoader(data, 8));
        result.History.Single().LossParts.Keys.Should().BeEquivalentTo("ce", "entropy");
    }

    /// <summary>Negative entropy of the student's predictions; implements only the interface (no DistillationLoss base).</summary>
    private sealed class EntropyPenalty : IDistillationLoss
    {
        public string Name => "entropy";

        public LossRequirements Requirements => LossRequirements.None.Logits("student");

        public LossResult Compute(DistillationContext context)
        {
            var logP = nn.functional.log_softmax(context.Output("student").RequireLogits("student"), 1);
            return new LossResult(Name, (logP.exp() * logP).sum(1).mean());
        }
    }
}
