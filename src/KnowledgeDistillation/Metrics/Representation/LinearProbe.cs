using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Metrics;

/// <summary>
/// Linear evaluation of frozen features (the standard self-supervised protocol): a single linear layer is trained with
/// cross-entropy and Adam on the training features (optionally standardised) and scored on the test features. Deterministic
/// for a seed (its own generator, not the global one). Reusable for any encoder (see <see cref="FrozenFeatures.Extract"/>).
/// </summary>
public static class LinearProbe
{
    /// <summary>Trains the probe and returns its train and test accuracy.</summary>
    /// <param name="trainFeatures">Training features [N, D].</param>
    /// <param name="trainLabels">Training labels [N] (int64).</param>
    /// <param name="testFeatures">Test features [M, D].</param>
    /// <param name="testLabels">Test labels [M].</param>
    /// <param name="options">Settings; <c>null</c>: defaults.</param>
    /// <param name="cancellationToken">Checked every epoch.</param>
    /// <returns>The accuracies.</returns>
    /// <exception cref="ArgumentException">Shapes or label types do not fit.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public static LinearProbeResult Fit(Tensor trainFeatures, Tensor trainLabels, Tensor testFeatures, Tensor testLabels, LinearProbeOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new LinearProbeOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Epochs, 1, nameof(options.Epochs));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BatchSize, 1, nameof(options.BatchSize));
        Guard.Positive(options.LearningRate, nameof(options.LearningRate));
        Guard.NonNegative(options.WeightDecay, nameof(options.WeightDecay));
        var (train, labels, test, expected) = RepresentationChecks.Check(trainFeatures, trainLabels, testFeatures, testLabels);
        using var scope = NewDisposeScope();
        var classes = Math.Max(labels.max().item<long>(), expected.max().item<long>()) + 1;
        if (options.Standardize)
        {
            var mean = train.mean(new long[] { 0 }, keepdim: true);
            var std = train.std(0, keepdim: true).clamp_min(1e-6);
            train = (train - mean) / std;
            test = (test - mean) / std;
        }

        var generator = new Generator((ulong)options.Seed);
        using var probe = nn.Linear(train.shape[1], classes);
        using (no_grad())
        {
            var bound = 1.0 / Math.Sqrt(train.shape[1]);
            probe.weight!.copy_((rand(probe.weight.shape, generator: generator) * 2 - 1) * bound);
            probe.bias!.copy_((rand(probe.bias.shape, generator: generator) * 2 - 1) * bound);
        }

        using var optimizer = optim.Adam(probe.parameters(), options.LearningRate, weight_decay: options.WeightDecay);
        var n = train.shape[0];
        for (var epoch = 0; epoch < options.Epochs; epoch++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var order = randperm(n, generator: generator);
            for (long start = 0; start < n; start += options.BatchSize)
            {
                using var step = NewDisposeScope();
                var rows = order.narrow(0, start, Math.Min(options.BatchSize, n - start));
                optimizer.zero_grad();
                var loss = nn.functional.cross_entropy(probe.call(train.index_select(0, rows)), labels.index_select(0, rows));
                loss.backward();
                optimizer.step();
            }
        }

        using var noGrad = no_grad();
        double Accuracy(Tensor x, Tensor y) => probe.call(x).argmax(1).eq(y).to_type(ScalarType.Float64).mean().item<double>();
        return new LinearProbeResult(Accuracy(train, labels), Accuracy(test, expected));
    }
}
