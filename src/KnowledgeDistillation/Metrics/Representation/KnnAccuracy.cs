using static TorchSharp.torch;

namespace KnowledgeDistillation.Metrics;

/// <summary>
/// k-nearest-neighbour accuracy of frozen features (Wu et al., "Unsupervised Feature Learning via Non-Parametric Instance
/// Discrimination", CVPR 2018, the weighted vote SimCLR/MoCo code bases monitor with): features are scaled to unit rows, each
/// test sample takes its k most cosine-similar training samples, each votes for its label with weight
/// <c>exp(s / τ)</c>, and the predicted class is the one with the largest total. Reusable for any encoder (see
/// <see cref="FrozenFeatures.Extract"/>).
/// </summary>
public static class KnnAccuracy
{
    /// <summary>The fraction of test samples whose weighted k-NN vote is their label.</summary>
    /// <param name="trainFeatures">Training features [N, D].</param>
    /// <param name="trainLabels">Training labels [N] (int64, in [0, C)).</param>
    /// <param name="testFeatures">Test features [M, D].</param>
    /// <param name="testLabels">Test labels [M].</param>
    /// <param name="neighbours">k in [1, N] (the references: 200).</param>
    /// <param name="temperature">τ &gt; 0 of the vote weights (0.07; <see cref="double.PositiveInfinity"/> gives a plain majority vote).</param>
    /// <param name="chunk">Test rows per similarity block, &gt;= 1.</param>
    /// <returns>Accuracy in [0, 1].</returns>
    /// <exception cref="ArgumentException">Shapes or label types do not fit.</exception>
    /// <exception cref="ArgumentOutOfRangeException">k or τ is out of range, or a label is negative.</exception>
    public static double Compute(Tensor trainFeatures, Tensor trainLabels, Tensor testFeatures, Tensor testLabels, int neighbours = 200, double temperature = 0.07, int chunk = 1024)
    {
        var (train, labels, test, expected) = RepresentationChecks.Check(trainFeatures, trainLabels, testFeatures, testLabels);
        if (neighbours < 1 || neighbours > train.shape[0])
        {
            throw new ArgumentOutOfRangeException(nameof(neighbours), neighbours, $"k must be in [1, {train.shape[0]}] (the training samples).");
        }

        if (!(temperature > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "The vote temperature must be > 0.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(chunk, 1);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var classes = labels.max().item<long>() + 1;
        var trainUnit = Unit(train);
        long correct = 0;
        for (long start = 0; start < test.shape[0]; start += chunk)
        {
            using var inner = NewDisposeScope();
            var count = Math.Min(chunk, test.shape[0] - start);
            var similarity = Unit(test.narrow(0, start, count)).matmul(trainUnit.t());
            var (values, indexes) = similarity.topk(neighbours, 1);
            var weights = double.IsPositiveInfinity(temperature) ? ones_like(values) : (values / temperature).exp();
            var votes = zeros(count, classes, values.dtype).scatter_add_(1, labels.index_select(0, indexes.reshape(-1)).reshape(count, neighbours), weights);
            correct += votes.argmax(1).eq(expected.narrow(0, start, count)).sum().item<long>();
        }

        return correct / (double)test.shape[0];
    }

    private static Tensor Unit(Tensor x) => x / x.pow(2).sum(1, keepdim: true).sqrt().clamp_min(1e-12);
}
