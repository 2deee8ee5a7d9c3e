namespace KnowledgeDistillation.Detection.Evaluation;

/// <summary>Detection accuracy over a dataset.</summary>
/// <param name="VocMap50">Pascal VOC mAP at IoU 0.5 (all-point interpolation, VOC 2010+), over classes with ground truth.</param>
/// <param name="CocoMap">COCO-style mAP averaged over IoU 0.50:0.05:0.95 (101-point interpolation), over classes with ground truth.</param>
/// <param name="CocoMap50">COCO-style AP at IoU 0.5.</param>
/// <param name="CocoMap75">COCO-style AP at IoU 0.75.</param>
/// <param name="VocAp50PerClass">VOC AP at 0.5 per class (NaN for a class without ground truth).</param>
public sealed record MeanAveragePrecisionResult(double VocMap50, double CocoMap, double CocoMap50, double CocoMap75, IReadOnlyList<double> VocAp50PerClass);
