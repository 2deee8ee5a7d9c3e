using KnowledgeDistillation.Detection.Data;
using KnowledgeDistillation.Detection.Models;
using KnowledgeDistillation.Losses;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Detection.Losses;

/// <summary>
/// ICD's auxiliary task alone (real/fake identification + localisation of the real instance over the frozen teacher's
/// FPN), as a term of its own: the first stage of <c>Recipes.Icd(..., auxiliaryEpochs: N)</c>, which trains the instance
/// encoder, the decoder and the auxiliary heads of an <see cref="IcdLoss"/> before any distillation, with no detector
/// trained and the student not even run (this term reads only the teacher). The official code trains the task jointly
/// with the student over 90k iterations, distillation off for the first 1,000; on small data the task needs several
/// thousand steps to leave its prior (docs/methods/icd.md), more than a student's whole budget, hence a stage of its own. Reports "NAME" (identification + localisation, what <see cref="IcdLoss"/> reports as "icd.aux";
/// NAME defaults to the term's name + "-aux"), "NAME.identify", "NAME.localise", "NAME.acc" and "NAME.recall" (what
/// <see cref="IcdLoss"/> reports as "icd.aux-identify", "-localise", "-acc", "-recall"). Shares the term's modules and
/// does not own them: disposing this loss leaves them alone (the term owns them).
/// </summary>
public sealed class IcdAuxiliaryLoss : DistillationLoss
{
    private readonly IcdLoss _icd;
    private readonly nn.Module[] _modules;

    /// <summary>Creates the auxiliary-task view of an ICD term.</summary>
    /// <param name="icd">The ICD term whose auxiliary modules train.</param>
    /// <param name="name">Reporting name; <c>null</c> for the term's name + "-aux".</param>
    public IcdAuxiliaryLoss(IcdLoss icd, string? name = null)
        : base(name ?? (icd ?? throw new ArgumentNullException(nameof(icd))).Name + "-aux")
    {
        _icd = icd;
        _modules = new nn.Module[] { icd.Encoder, icd.Decoder, icd.AuxiliaryHead };
    }

    /// <summary>The ICD term this task trains.</summary>
    public IcdLoss Icd => _icd;

    /// <summary>The instance encoder, the decoder and the auxiliary heads (not the student-side value projection, which only the distillation trains).</summary>
    public override IReadOnlyList<nn.Module> TrainableModules => _modules;

    /// <inheritdoc />
    public override LossRequirements Requirements
    {
        get
        {
            var r = LossRequirements.None.Targets().Extra(DetectionTargets.ImageSize);
            foreach (var level in FcosDetectorOptions.Levels)
            {
                r = r.Feature(_icd.Teacher, level);
            }

            return r;
        }
    }

    /// <inheritdoc />
    public override LossResult Compute(DistillationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        DetectionTargets.Require(context.Batch, nameof(context));
        var levels = FcosDetectorOptions.Levels.Select(l => context.Output(_icd.Teacher).Feature(l, _icd.Teacher)).ToArray();
        for (var l = 0; l < levels.Length; l++)
        {
            if (levels[l].dim() != 4 || levels[l].shape[1] != _icd.Options.TeacherChannels)
            {
                throw new ArgumentException($"ICD's auxiliary task needs the teacher's {FcosDetectorOptions.Levels[l]} map [B, {_icd.Options.TeacherChannels}, h, w] (IcdOptions.TeacherChannels); got {Guard.Shape(levels[l])}.", nameof(context));
            }
        }

        var pass = _icd.Auxiliary(context, levels);
        var (identification, localisation, accuracy) = IcdLoss.AuxiliaryLoss(pass.Outputs, pass.Queries);
        var total = identification + localisation;
        return new LossResult(total, new Dictionary<string, Tensor>
        {
            [Name] = total, [Name + ".identify"] = identification, [Name + ".localise"] = localisation,
            [Name + ".acc"] = accuracy, [Name + ".recall"] = IcdLoss.RealRecall(pass.Outputs, pass.Queries),
        });
    }
}
