using KnowledgeDistillation.Detection.Fcos;
using KnowledgeDistillation.Detection.Losses;
using KnowledgeDistillation.Engine;

namespace KnowledgeDistillation.Losses;

/// <summary>The detection terms in the catalogue (see <see cref="DetectionRecipes"/>).</summary>
public static partial class DetectionLosses
{
    extension(Loss)
    {
        /// <summary>The FCOS detection loss of one detector (focal + GIoU + centerness). Reports "NAME", "NAME.cls", "NAME.box", "NAME.ctr".</summary>
        /// <param name="classes">Object classes.</param>
        /// <param name="options">Options; <c>null</c> for AdelaiDet's defaults.</param>
        /// <param name="participant">The detector trained.</param>
        /// <param name="name">Reporting name.</param>
        public static FcosLoss Fcos(int classes, FcosLossOptions? options = null, string participant = "student", string name = "det") => new(classes, options, participant, name);

        /// <summary>ICD (Kang et al. 2021, NeurIPS). Reports "NAME", "NAME.aux", "NAME.distill", "NAME.aux-identify", "NAME.aux-localise", "NAME.aux-acc", "NAME.aux-recall".</summary>
        /// <param name="options">Options; <c>null</c> for the defaults.</param>
        /// <param name="student">The student's participant name.</param>
        /// <param name="teacher">The teacher's participant name.</param>
        /// <param name="name">Reporting name.</param>
        public static IcdLoss Icd(IcdOptions? options = null, string student = "student", string teacher = "teacher", string name = "icd") => new(options, student, teacher, name);

        /// <summary>The FPN feature-MSE baseline (FitNets-style hints on P3-P7). Reports "NAME".</summary>
        /// <param name="studentChannels">Student FPN channels.</param>
        /// <param name="teacherChannels">Teacher FPN channels.</param>
        /// <param name="adapters">Whether each level gets a learned 1x1 convolution.</param>
        /// <param name="student">The student's participant name.</param>
        /// <param name="teacher">The teacher's participant name.</param>
        /// <param name="name">Reporting name.</param>
        public static FpnFeatureMseLoss FpnFeatureMse(int studentChannels, int teacherChannels, bool adapters = true, string student = "student", string teacher = "teacher", string name = "fpn-mse") =>
            new(studentChannels, teacherChannels, adapters, student, teacher, name);
    }
}

/// <summary>The detection methods in the catalogue: a detector alone, FPN feature MSE, and ICD.</summary>
public static partial class DetectionRecipes
{
    extension(Recipes)
    {
        /// <summary>A detector trained alone with the FCOS loss (the teacher's training, and the "student alone" baseline).</summary>
        /// <param name="classes">Object classes.</param>
        /// <param name="options">Detection loss options.</param>
        /// <param name="participant">The detector trained.</param>
        public static DistillationRecipe Detector(int classes, FcosLossOptions? options = null, string participant = "student") =>
            new("detector", new[] { new DistillationStage(DistillationRecipe.SingleStage, new FcosLoss(classes, options, participant)) { Trainable = new[] { participant } } });

        /// <summary>The FPN feature-MSE baseline: <c>det + weight · fpn-mse</c> (its adapters trained with the stage's optimiser).</summary>
        /// <param name="classes">Object classes.</param>
        /// <param name="studentChannels">Student FPN channels.</param>
        /// <param name="teacherChannels">Teacher FPN channels.</param>
        /// <param name="weight">The imitation weight &gt;= 0.</param>
        /// <param name="options">Detection loss options.</param>
        /// <param name="student">The student's participant name.</param>
        /// <param name="teacher">The teacher's participant name.</param>
        public static DistillationRecipe FpnFeatureMse(int classes, int studentChannels, int teacherChannels, double weight = 1, FcosLossOptions? options = null, string student = "student", string teacher = "teacher") =>
            new("fpn-mse", new[] { new DistillationStage(DistillationRecipe.SingleStage, new FcosLoss(classes, options, student) + (weight * new FpnFeatureMseLoss(studentChannels, teacherChannels, true, student, teacher))) });

        /// <summary>
        /// ICD (Kang et al. 2021, "Instance-Conditional Knowledge Distillation for Object Detection", NeurIPS,
        /// arXiv 2110.12724): <c>det + icd</c>; the student trains with the run's optimiser, ICD's modules with
        /// <paramref name="auxiliaryOptimizer"/> (default AdamW, lr 1e-4, weight decay 1e-4, the official setting).
        /// With <paramref name="auxiliaryEpochs"/> &gt; 0 a first stage "icd-aux" trains ICD's auxiliary task alone for that
        /// many epochs (<see cref="IcdAuxiliaryLoss"/>: no detector trains, the student does not run) with
        /// <paramref name="auxiliaryStageOptimizer"/>, then the stage "distill" runs <c>det + icd</c> for the run's epochs,
        /// starting from the trained auxiliary modules (its warm-up, <see cref="IcdOptions.WarmupSteps"/>, still applies:
        /// set it to 0 when the first stage replaces it). On small data the task needs thousands of steps to leave its
        /// prior (docs/methods/icd.md), which a warm-up inside a short student budget does not give it.
        /// </summary>
        /// <param name="options">ICD options (classes, channels, λ, warm-up, ...).</param>
        /// <param name="detection">Detection loss options.</param>
        /// <param name="auxiliaryOptimizer">The optimiser of ICD's modules while the student trains; <c>null</c> for AdamW 1e-4 / 1e-4.</param>
        /// <param name="student">The student's participant name.</param>
        /// <param name="teacher">The teacher's participant name.</param>
        /// <param name="auxiliaryEpochs">Epochs of the auxiliary-task stage before distillation (0: none, the paper's single stage).</param>
        /// <param name="auxiliaryStageOptimizer">The optimiser of that stage; <c>null</c> for <paramref name="auxiliaryOptimizer"/>'s setting.</param>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="auxiliaryEpochs"/> is negative.</exception>
        public static DistillationRecipe Icd(IcdOptions options, FcosLossOptions? detection = null, OptimizerOptions? auxiliaryOptimizer = null, string student = "student", string teacher = "teacher", int auxiliaryEpochs = 0, OptimizerOptions? auxiliaryStageOptimizer = null)
        {
            ArgumentNullException.ThrowIfNull(options);
            ArgumentOutOfRangeException.ThrowIfNegative(auxiliaryEpochs);
            var optimizer = auxiliaryOptimizer ?? new OptimizerOptions { Kind = OptimizerKind.AdamW, LearningRate = 1e-4, WeightDecay = 1e-4 };
            var icd = new IcdLoss(options, student, teacher);
            var distill = new DistillationStage(DistillationRecipe.SingleStage, new FcosLoss(options.Classes, detection, student) + icd)
            {
                ParticipantOptimizers = new Dictionary<string, OptimizerOptions> { [DistillationStage.LossModulesOwner] = optimizer },
            };
            if (auxiliaryEpochs == 0)
            {
                return new DistillationRecipe("icd", new[] { distill });
            }

            var auxiliary = new DistillationStage("icd-aux", new IcdAuxiliaryLoss(icd))
            {
                Epochs = auxiliaryEpochs,
                Trainable = Array.Empty<string>(),
                ParticipantOptimizers = new Dictionary<string, OptimizerOptions> { [DistillationStage.LossModulesOwner] = auxiliaryStageOptimizer ?? optimizer },
            };
            return new DistillationRecipe("icd", new[] { auxiliary, distill });
        }
    }
}
