using KnowledgeDistillation.Data;
using KnowledgeDistillation.Detection.Data;
using KnowledgeDistillation.Detection.Fcos;
using KnowledgeDistillation.Detection.Models;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Detection.Evaluation;

/// <summary>Runs a detector over a batch source in eval mode and scores it (VOC mAP@0.5, COCO mAP@[.5:.95]).</summary>
public static class DetectionEvaluator
{
    /// <summary>Predicts every image of one pass of <paramref name="source"/> (epoch 0's order and augmentation).</summary>
    /// <param name="model">The detector (switched to eval mode and back).</param>
    /// <param name="source">The images (use a source without augmentation or shuffling for evaluation).</param>
    /// <param name="decoder">The decoder; <c>null</c> for the defaults.</param>
    /// <param name="cancellationToken">Stops between batches.</param>
    /// <returns>Per image (in the source's order), the detections and the ground truth, in the resized images' pixels.</returns>
    public static (IReadOnlyList<IReadOnlyList<DetectedObject>> Detections, IReadOnlyList<IReadOnlyList<DetectionObject>> GroundTruth) Predict(FcosDetector model, IBatchSource source, FcosDecoder? decoder = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(source);
        decoder ??= new FcosDecoder();
        var device = model.parameters().First().device;
        var wasTraining = model.training;
        model.eval();
        var detections = new List<IReadOnlyList<DetectedObject>>();
        var truth = new List<IReadOnlyList<DetectionObject>>();
        try
        {
            using var noGrad = no_grad();
            foreach (var batch in Batches(source, device))
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                var targets = DetectionTargets.Require(batch, nameof(source));
                var output = model.call(batch.Inputs);
                var sizes = FcosDetectorOptions.Levels.Select(l => output.Features[l]).Select(f => (f.shape[2], f.shape[3])).ToArray();
                var (points, _, _) = FcosPoints.Create(sizes, FcosDetectorOptions.Strides, device);
                detections.AddRange(decoder.Decode(output.Features[FcosDetector.ClassLogits], output.Features[FcosDetector.BoxDistances], output.Features[FcosDetector.Centerness], points, batch.Extras[DetectionTargets.ImageSize]));
                truth.AddRange(DetectionTargets.ToObjects(targets));
            }
        }
        finally
        {
            model.train(wasTraining);
        }

        return (detections, truth);
    }

    /// <summary>Predicts and scores one pass of <paramref name="source"/>.</summary>
    /// <param name="model">The detector.</param>
    /// <param name="source">The images.</param>
    /// <param name="decoder">The decoder; <c>null</c> for the defaults.</param>
    /// <param name="cancellationToken">Stops between batches.</param>
    public static MeanAveragePrecisionResult Evaluate(FcosDetector model, IBatchSource source, FcosDecoder? decoder = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        var (detections, truth) = Predict(model, source, decoder, cancellationToken);
        return MeanAveragePrecision.Compute(detections, truth, model.Options.Classes);
    }

    private static IEnumerable<Batch> Batches(IBatchSource source, Device device)
    {
        // Each batch's tensors are freed with the scope of the loop body that uses them.
        foreach (var batch in source.GetBatches(0, device))
        {
            yield return batch;
            batch.Inputs.Dispose();
            batch.Targets?.Dispose();
            batch.Indices.Dispose();
            foreach (var extra in batch.Extras.Values)
            {
                extra.Dispose();
            }
        }
    }
}
