using static TorchSharp.torch;

namespace KnowledgeDistillation.Metrics;

/// <summary>The argument checks of the frozen-feature evaluations.</summary>
internal static class RepresentationChecks
{
    /// <summary>Checks features [N, D] / [M, D] and int64 labels [N] / [M] with non-negative values; returns CPU float copies of the features.</summary>
    public static (Tensor Train, Tensor TrainLabels, Tensor Test, Tensor TestLabels) Check(Tensor trainFeatures, Tensor trainLabels, Tensor testFeatures, Tensor testLabels)
    {
        Features(trainFeatures, nameof(trainFeatures));
        Features(testFeatures, nameof(testFeatures));
        if (trainFeatures.shape[1] != testFeatures.shape[1])
        {
            throw new ArgumentException($"Training and test features must have one width: {Guard.Shape(trainFeatures)} vs {Guard.Shape(testFeatures)}.", nameof(testFeatures));
        }

        Labels(trainLabels, trainFeatures.shape[0], nameof(trainLabels));
        Labels(testLabels, testFeatures.shape[0], nameof(testLabels));
        return (trainFeatures.detach().cpu().to_type(ScalarType.Float32), trainLabels.cpu(), testFeatures.detach().cpu().to_type(ScalarType.Float32), testLabels.cpu());
    }

    private static void Features(Tensor features, string what)
    {
        ArgumentNullException.ThrowIfNull(features, what);
        Guard.FloatingPoint(features, what);
        if (features.dim() != 2 || features.shape[0] < 1 || features.shape[1] < 1)
        {
            throw new ArgumentException($"The {what} must be [samples, width] with both >= 1; got {Guard.Shape(features)}.", what);
        }
    }

    private static void Labels(Tensor labels, long count, string what)
    {
        ArgumentNullException.ThrowIfNull(labels, what);
        if (labels.dtype != ScalarType.Int64 || labels.dim() != 1 || labels.shape[0] != count)
        {
            throw new ArgumentException($"The {what} must be int64 [{count}] (one per feature row); got {labels.dtype} {Guard.Shape(labels)}.", what);
        }

        if (labels.min().item<long>() < 0)
        {
            throw new ArgumentOutOfRangeException(what, "Labels must be >= 0.");
        }
    }
}
