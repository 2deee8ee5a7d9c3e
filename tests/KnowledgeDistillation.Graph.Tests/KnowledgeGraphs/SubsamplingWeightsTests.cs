using FluentAssertions;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Graph.KnowledgeGraphs;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Tests.KnowledgeGraphs;

/// <summary>
/// RotatE / NeuralKG subsampling weights (<c>--use_weight</c>): the per-triple weight 1/sqrt(count(h, r) + count(t, r⁻¹)) with
/// counts starting at 4, carried by the batches, and the weighted batch means the KGE losses take with them.
/// </summary>
public sealed class SubsamplingWeightsTests
{
    private static readonly Triple[] Triples = { new(0, 0, 1), new(0, 0, 2), new(3, 0, 1), new(3, 1, 1) };

    [Fact]
    public void Each_triple_weighs_one_over_the_root_of_its_two_partial_counts()
    {
        var source = new TripleBatchSource(Triples, 4, batchSize: 4, negatives: 2, shuffle: false, subsamplingWeights: true);

        // (h, r) counts: (0,0) twice -> 5, (3,0) once -> 4, (3,1) once -> 4; (t, r) counts: (1,0) twice -> 5, (2,0) -> 4, (1,1) -> 4.
        var expected = new[] { 1 / Math.Sqrt(5 + 5), 1 / Math.Sqrt(5 + 4), 1 / Math.Sqrt(4 + 5), 1 / Math.Sqrt(4 + 4) };
        Enumerable.Range(0, 4).Select(source.SubsamplingWeight).Should().Equal(expected.Select(x => (double)(float)x));
        var batch = source.GetBatches(0, CPU).Single();
        batch.Extras[TripleBatchSource.SubsamplingWeightsKey].data<float>().ToArray().Should().Equal(expected.Select(x => (float)x));
        source.HasSubsamplingWeights.Should().BeTrue();
    }

    [Fact]
    public void Shuffled_batches_carry_the_weights_of_their_own_triples()
    {
        var source = new TripleBatchSource(Triples, 4, batchSize: 3, negatives: 2, seed: 7, subsamplingWeights: true);
        foreach (var batch in source.GetBatches(1, CPU))
        {
            var indices = batch.Indices.data<long>().ToArray();
            batch.Extras[TripleBatchSource.SubsamplingWeightsKey].data<float>().ToArray()
                .Should().Equal(indices.Select(i => (float)source.SubsamplingWeight((int)i)));
        }
    }

    [Fact]
    public void Without_the_option_batches_have_no_weights()
    {
        var source = new TripleBatchSource(Triples, 4, batchSize: 4, negatives: 2);
        source.GetBatches(0, CPU).Single().Extras.Should().NotContainKey(TripleBatchSource.SubsamplingWeightsKey);
        var act = () => source.SubsamplingWeight(0);
        act.Should().Throw<InvalidOperationException>().WithMessage("*subsamplingWeights: true*");
    }

    [Fact]
    public void The_self_adversarial_loss_takes_weighted_means_from_the_batch()
    {
        double[] pos = { 1.5, -0.5 };
        double[,] neg = { { 0.2, -1.0 }, { 2.0, 0.5 } };
        double[] w = { 0.25, 0.75 };
        var expected = 0.0;
        for (var i = 0; i < 2; i++)
        {
            var a0 = Math.Exp(neg[i, 0]);
            var a1 = Math.Exp(neg[i, 1]);
            var negTerm = -(a0 * LogSigmoid(-neg[i, 0]) + a1 * LogSigmoid(-neg[i, 1])) / (a0 + a1);
            expected += w[i] * (-LogSigmoid(pos[i]) + negTerm);
        }

        expected /= w.Sum();
        var context = Context(tensor(pos), tensor(neg), tensor(w));

        var value = new SelfAdversarialLoss().Compute(context).Total.item<double>();

        value.Should().BeApproximately(expected, 1e-12);
        var unweighted = SelfAdversarialLoss.Value(tensor(pos), tensor(neg), 1.0).item<double>();
        unweighted.Should().NotBeApproximately(expected, 1e-3, "the test needs weights that change the value");
    }

    [Fact]
    public void Equal_weights_give_the_plain_means()
    {
        var pos = tensor(new[] { 0.3, -1.2, 2.0 });
        var neg = tensor(new[,] { { 0.1, 0.4 }, { -2.0, 1.0 }, { 0.0, 0.0 } });
        var plain = SelfAdversarialLoss.Value(pos, neg, 1.0).item<double>();
        var weighted = SelfAdversarialLoss.Value(pos, neg, 1.0, full(3, 0.4, dtype: ScalarType.Float64)).item<double>();
        weighted.Should().BeApproximately(plain, 1e-12);
    }

    [Fact]
    public void The_dualde_objective_weights_every_batch_mean()
    {
        double[] dPos = { 0.1, 0.3 }, dNeg = { 0.2, 0.05 }, pPos = { 0.9, 0.4 }, pNeg = { 0.7, 0.2 }, hPos = { 0.5, 1.5 }, hNeg = { 0.8, 0.1 }, w = { 2, 1 };
        double Mean(Func<int, double> f) => (w[0] * f(0) + w[1] * f(1)) / (w[0] + w[1]);
        var soft = Mean(i => pPos[i] * dPos[i]) + Mean(i => pNeg[i] * dNeg[i]);
        var hard = Mean(i => (1 - pPos[i]) * hPos[i]) + Mean(i => (1 - pNeg[i]) * hNeg[i]);

        var (s, h) = DualDELoss.Objective(tensor(dPos), tensor(dNeg), tensor(pPos), tensor(pNeg), tensor(hPos), tensor(hNeg), tensor(w));

        s.item<double>().Should().BeApproximately(soft, 1e-12);
        h.item<double>().Should().BeApproximately(hard, 1e-12);
    }

    [Fact]
    public void Weights_of_the_wrong_shape_are_refused()
    {
        var act = () => KgeLossMath.Mean(ones(3), ones(2));
        act.Should().Throw<ArgumentException>().WithMessage("*must have shape [3]*[2]*");
    }

    private static double LogSigmoid(double x) => -Math.Log(1 + Math.Exp(-x));

    private static DistillationContext Context(Tensor pos, Tensor neg, Tensor weights)
    {
        var batch = new Batch(
            zeros(pos.shape[0], 3, dtype: ScalarType.Int64), null, arange(pos.shape[0], dtype: ScalarType.Int64),
            new Dictionary<string, Tensor> { [TripleBatchSource.SubsamplingWeightsKey] = weights });
        return new DistillationContext(batch, new Dictionary<string, ModelOutput>
        {
            ["student"] = new(null, new Dictionary<string, Tensor> { ["pos"] = pos, ["neg"] = neg }),
        });
    }
}
