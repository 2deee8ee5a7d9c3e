using KnowledgeDistillation.Detection.Data;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Detection.Models;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Detection.Fcos;

/// <summary>
/// The FCOS detection loss of one participant, as a distillation term (so <c>Distiller.Fit</c> trains a detector, alone or
/// next to distillation terms): <c>focal(cls)/N_pos + Σ_pos c*·L_box / Σ_pos c* + BCE(ctr)/N_pos</c>, with c* the
/// centerness targets and N_pos = max(1, positives) (AdelaiDet's normalisation, one process). Reports "NAME" and
/// "NAME.cls", "NAME.box", "NAME.ctr". Reads the participant's <see cref="FcosDetector"/> features and the batch targets
/// (<see cref="DetectionTargets"/>).
/// </summary>
public sealed class FcosLoss : DistillationLoss
{
    private readonly FcosAssigner _assigner;

    /// <summary>Creates the term.</summary>
    /// <param name="classes">Object classes.</param>
    /// <param name="options">Options; <c>null</c> for the defaults.</param>
    /// <param name="participant">The detector trained.</param>
    /// <param name="name">Reporting name (default "det").</param>
    public FcosLoss(int classes, FcosLossOptions? options = null, string participant = "student", string name = "det")
        : base(name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(participant);
        Options = options ?? new FcosLossOptions();
        _assigner = new FcosAssigner(classes, Options.SizeRanges, Options.CenterSampleRadius);
        Participant = participant;
    }

    /// <summary>The options.</summary>
    public FcosLossOptions Options { get; }

    /// <summary>The detector trained.</summary>
    public string Participant { get; }

    /// <summary>The assigner.</summary>
    public FcosAssigner Assigner => _assigner;

    /// <inheritdoc />
    public override LossRequirements Requirements
    {
        get
        {
            var r = LossRequirements.None.Targets().Extra(DetectionTargets.ImageSize);
            foreach (var f in FcosDetectorOptions.Levels.Append(FcosDetector.ClassLogits).Append(FcosDetector.BoxDistances).Append(FcosDetector.Centerness))
            {
                r = r.Feature(Participant, f);
            }

            return r;
        }
    }

    /// <inheritdoc />
    public override LossResult Compute(DistillationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var output = context.Output(Participant);
        var targets = DetectionTargets.Require(context.Batch, nameof(context));
        var cls = output.Feature(FcosDetector.ClassLogits, Participant);
        var box = output.Feature(FcosDetector.BoxDistances, Participant);
        var ctr = output.Feature(FcosDetector.Centerness, Participant);
        var sizes = FcosDetectorOptions.Levels.Select(l => output.Feature(l, Participant)).Select(f => (f.shape[2], f.shape[3])).ToArray();
        var (cls3, box3, ctr3) = Losses(cls, box, ctr, sizes, targets);
        var total = cls3 + box3 + ctr3;
        return new LossResult(total, new Dictionary<string, Tensor> { [Name] = total, [Name + ".cls"] = cls3, [Name + ".box"] = box3, [Name + ".ctr"] = ctr3 });
    }

    /// <summary>The three losses from the head's outputs.</summary>
    /// <param name="cls">Class logits <c>[B, S, C]</c>.</param>
    /// <param name="box">Box distances <c>[B, S, 4]</c>.</param>
    /// <param name="ctr">Centerness logits <c>[B, S]</c>.</param>
    /// <param name="levelSizes">(height, width) of each level (their product sums to S).</param>
    /// <param name="targets">Targets <c>[B, G, 6]</c>.</param>
    /// <exception cref="ArgumentException">The shapes disagree (message names the argument and the expected shape).</exception>
    public (Tensor Cls, Tensor Box, Tensor Ctr) Losses(Tensor cls, Tensor box, Tensor ctr, IReadOnlyList<(long Height, long Width)> levelSizes, Tensor targets)
    {
        ArgumentNullException.ThrowIfNull(cls);
        ArgumentNullException.ThrowIfNull(box);
        ArgumentNullException.ThrowIfNull(ctr);
        ArgumentNullException.ThrowIfNull(levelSizes);
        var s = levelSizes.Sum(p => p.Height * p.Width);
        if (cls.dim() != 3 || cls.shape[1] != s || cls.shape[2] != _assigner.Classes)
        {
            throw new ArgumentException($"Class logits must be [B, S={s}, C={_assigner.Classes}]; got {Guard.Shape(cls)}.", nameof(cls));
        }

        var b = cls.shape[0];
        if (!box.shape.SequenceEqual(new[] { b, s, 4L }) || !ctr.shape.SequenceEqual(new[] { b, s }) || targets.dim() != 3 || targets.shape[0] != b)
        {
            throw new ArgumentException($"Box distances must be [{b}, {s}, 4], centerness [{b}, {s}], targets [{b}, G, 6]; got {Guard.Shape(box)}, {Guard.Shape(ctr)}, {Guard.Shape(targets)}.", nameof(box));
        }

        using var scope = NewDisposeScope();
        var (points, strides, levels) = FcosPoints.Create(levelSizes, FcosDetectorOptions.Strides.Take(levelSizes.Count).ToArray(), cls.device);
        var a = _assigner.Assign(points, strides, levels, targets);
        var positives = a.Positive.sum().to(ScalarType.Float32);
        var normaliser = positives.clamp_min(1);
        var oneHot = nn.functional.one_hot(a.Labels, _assigner.Classes + 1)[.., .., ..(int)_assigner.Classes].to(cls.dtype);
        var clsLoss = SigmoidFocalLoss.Sum(cls, oneHot, Options.FocalAlpha, Options.FocalGamma) / normaliser;
        var pos = a.Positive.reshape(-1).nonzero().squeeze(1);
        var predBox = box.reshape(-1, 4).index_select(0, pos);
        var targetBox = a.BoxTargets.reshape(-1, 4).index_select(0, pos).to(box.dtype);
        var ctrTarget = a.Centerness.reshape(-1).index_select(0, pos).to(ctr.dtype);
        var boxLoss = (DistanceBoxLoss.PerRow(predBox, targetBox, Options.BoxLoss) * ctrTarget).sum() / ctrTarget.sum().clamp_min(1e-6);
        var ctrLoss = nn.functional.binary_cross_entropy_with_logits(ctr.reshape(-1).index_select(0, pos), ctrTarget, reduction: nn.Reduction.Sum) / normaliser;
        scope.MoveToOuter(clsLoss, boxLoss, ctrLoss);
        return (clsLoss, boxLoss, ctrLoss);
    }
}
