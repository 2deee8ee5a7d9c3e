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
        /// arXiv 2110.12724): one stage, <c>det + icd</c>; the student trains with the run's optimiser, ICD's modules with
        /// <paramref name="auxiliaryOptimizer"/> (default AdamW, lr 1e-4, weight decay 1e-4, the official setting).
        /// </summary>
        /// <param name="options">ICD options (classes, channels, λ, warm-up, ...).</param>
        /// <param name="detection">Detection loss options.</param>
        /// <param name="auxiliaryOptimizer">The optimiser of ICD's modules; <c>null</c> for AdamW 1e-4 / 1e-4.</param>
        /// <param name="student">The student's participant name.</param>
        /// <param name="teacher">The teacher's participant name.</param>
        public static DistillationRecipe Icd(IcdOptions options, FcosLossOptions? detection = null, OptimizerOptions? auxiliaryOptimizer = null, string student = "student", string teacher = "teacher")
        {
            ArgumentNullException.ThrowIfNull(options);
            var optimizer = auxiliaryOptimizer ?? new OptimizerOptions { Kind = OptimizerKind.AdamW, LearningRate = 1e-4, WeightDecay = 1e-4 };
            return new DistillationRecipe("icd", new[]
            {
                new DistillationStage(DistillationRecipe.SingleStage, new FcosLoss(options.Classes, detection, student) + new IcdLoss(options, student, teacher))
                {
                    ParticipantOptimizers = new Dictionary<string, OptimizerOptions> { [DistillationStage.LossModulesOwner] = optimizer },
                },
            });
        }
    }
}
