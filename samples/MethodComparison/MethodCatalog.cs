using KnowledgeDistillation;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Models;
using TorchSharp;

namespace MethodComparison;

/// <summary>What a method needs to build its participants and recipe.</summary>
/// <param name="Settings">The run's settings.</param>
/// <param name="Teacher">The frozen teacher participant (cached or not).</param>
/// <param name="TeacherNet">The teacher network.</param>
/// <param name="StudentNet">The student network (already initialised from the seed).</param>
/// <param name="SecondTeacher">Builds the second teacher participant (multi-teacher only).</param>
/// <param name="TrainLabels">The label of each training sample, by index (CRD's bank rows and class-aware negatives).</param>
/// <param name="Seed">The run's seed (CRD's banks and sampler; auxiliary modules' initialisation).</param>
internal sealed record MethodContext(
    ComparisonSettings Settings, IDistillationModel Teacher, ResNetCifar TeacherNet, ResNetCifar StudentNet, Func<IDistillationModel> SecondTeacher, IReadOnlyList<long> TrainLabels, int Seed);

/// <summary>A built method: its participants, recipe and the modules it created (disposed with it).</summary>
internal sealed class MethodSetup(IReadOnlyList<IDistillationModel> participants, DistillationRecipe recipe, IEnumerable<IDisposable> owned, TimedStepEnd? bankTimer = null) : IDisposable
{
    public IReadOnlyList<IDistillationModel> Participants { get; } = participants;

    public DistillationRecipe Recipe { get; } = recipe;

    /// <summary>CRD: times the memory-bank update (<c>OnStepEnd</c>); null for the other methods.</summary>
    public TimedStepEnd? BankTimer { get; } = bankTimer;

    /// <summary>The stage whose epochs are the method's budget (the last); earlier stages are initialisation.</summary>
    public string FinalStage => Recipe.Stages[^1].Name;

    public void Dispose()
    {
        foreach (var item in owned.Reverse())
        {
            item.Dispose();
        }
    }
}

/// <summary>
/// Every method of the comparison, with the papers' / RepDistiller's / mdistiller's weights (docs/methods/logit-feature-relational-terms.md).
/// Features of <see cref="ResNetCifar"/>: <c>stem</c>, <c>stage1</c>-<c>stage3</c> (post-ReLU stage outputs), <c>pool</c> (pooled vector).
/// </summary>
internal static class MethodCatalog
{
    /// <summary>One line per method: what runs (weights and stages), for the report.</summary>
    public static readonly IReadOnlyDictionary<string, string> Descriptions = new Dictionary<string, string>
    {
        ["alone"] = "CE",
        ["kd"] = "Recipes.Hinton(T 4, α 0.9): 0.1 CE + 0.9 KD (RepDistiller -r 0.1 -a 0.9)",
        ["dkd"] = "Recipes.Dkd(α 1, β 8, T 4, warm-up scaled): CE + DKD (mdistiller resnet32x4 config)",
        ["dist"] = "Recipes.Dist(β 2, γ 2, τ 4): CE + DIST",
        ["kd-ls"] = "0.1 CE + 9 · Loss.Standardized(Loss.KD(T 2)) (logit-standardisation repository: --logit-stand --base-temp 2 --kd-weight 9)",
        ["fitnet"] = "CE + 100 · Loss.Hint(stage2, HintRegressor) in one stage (RepDistiller)",
        ["fitnets-2stage"] = "Recipes.FitNets(stage2): hint stage (init epochs), then Hinton(4, 0.9) (the paper's two stages)",
        ["at"] = "CE + 1000 · AT(stage1, stage2, stage3, p 2)",
        ["sp"] = "CE + 3000 · SP(stage3)",
        ["cc"] = "CE + 0.02 · CC(pool, CorrelationEmbedding 128 unnormalised x2, RepDistiller form) (RepDistiller -a 0 -b 0.02)",
        ["vid"] = "CE + VID(stage1, stage2, stage3, VidRegressor each)",
        ["rkd"] = "CE + RKD(pool, distance 25, angle 50)",
        ["pkt"] = "CE + 30000 · PKT(pool)",
        ["ab"] = "AB stage (init epochs; stage1-3, margin 1), then CE (RepDistiller: init + -a 0 -b 0)",
        ["ft"] = "Recipes.FactorTransfer(stage3, paraphraser C_t -> C_t/2, translator; init epochs, SGD lr 0.01; SpatialAttention form): paraphraser stage, then CE + 200 · FT (RepDistiller)",
        ["fsp"] = "FSP stage (init epochs; stem, stage1, stage2, stage3), then CE (RepDistiller: init + -a 0 -b 0)",
        ["nst"] = "CE + 50 · NST(stage1, stage2, stage3)",
        ["crd"] = "Recipes.Crd(pool, CrdEmbedding 128 x2, K scaled, negatives from the other classes as RepDistiller's 'exact' mode): CE + 0.8 · CRD",
        ["reviewkd"] = "Recipes.ReviewKD(stage1, stage2, stage3, pool; ReviewFusion.Chain, weight 5, warm-up scaled): CE + 5 · ReviewKD",
        ["multi-teacher"] = "Recipes.MultiTeacher(Loss.MultiTeacherKD(teacher, teacher2; Average, T 4), α 0.9)",
        ["takd"] = "Recipes.TeacherAssistant: resnet20x4 assistant (student epochs), then the student from it (Hinton 4, 0.9)",
        ["kd-tschedule"] = "Loss.ScheduledHinton(TemperatureSchedule.Linear(8 -> 2), α 0.9)",
        ["kd-a0.5"] = "Recipes.Hinton(T 4, α 0.5): 0.5 CE + 0.5 KD (a sensitivity check, not in the default list)",
        ["crd-uniform"] = "Recipes.Crd as crd, but negatives uniform over the bank (UniformCrdNegativeSampler; not in the default list)",
        ["sp-w300"] = "CE + 300 · SP(stage3) (weight sensitivity, not in the default list)",
        ["sp-w30"] = "CE + 30 · SP(stage3) (weight sensitivity, not in the default list)",
        ["pkt-w3000"] = "CE + 3000 · PKT(pool) (weight sensitivity, not in the default list)",
        ["pkt-w300"] = "CE + 300 · PKT(pool) (weight sensitivity, not in the default list)",
        ["hkd"] = "Recipes.Hkd(pool, CrdEmbedding 128 x2, HkdGraphEncoder 128 x2, kNN 8, K scaled, negatives from the other classes): CE + 3 · HKD (wyc-ruiker/HKD -a 0 -b 3; not in the default list)",
        ["hkd-kd"] = "Recipes.Hkd as hkd plus KD(T 4): CE + KD + 3 · HKD (wyc-ruiker/HKD -a 1 -b 3; not in the default list)",
        ["hkd-b0.8"] = "as hkd with CRD's weight: CE + 0.8 · HKD (weight sensitivity, not in the default list)",
        ["hkd-m0.5"] = "as hkd with bank momentum 0.5 (CRD's) instead of 0.9: the banks forget their random start faster (investigation, not in the default list)",
    };

    /// <summary>Variants run only when named (sensitivity checks of the investigation in docs/benchmarks.md).</summary>
    public static readonly string[] ExtraMethods = { "kd-a0.5", "crd-uniform", "sp-w300", "sp-w30", "pkt-w3000", "pkt-w300", "hkd", "hkd-kd", "hkd-b0.8", "hkd-m0.5" };

    /// <summary>The methods run when none are named: everything (the RepDistiller table's order, then the others).</summary>
    public static readonly string[] DefaultMethods =
    {
        "alone", "kd", "dkd", "dist", "kd-ls", "fitnet", "fitnets-2stage", "at", "sp", "cc", "vid", "rkd", "pkt", "ab", "ft", "fsp", "nst", "crd", "reviewkd",
        "multi-teacher", "takd", "kd-tschedule",
    };

    /// <summary>All names <see cref="Create"/> accepts.</summary>
    public static IReadOnlyCollection<string> Names => Descriptions.Keys.Where(n => Supported(n)).ToArray();

    public static bool Supported(string method) => DefaultMethods.Contains(method) || ExtraMethods.Contains(method);

    /// <summary>Builds a method's participants and recipe.</summary>
    /// <exception cref="ArgumentException">An unknown method.</exception>
    public static MethodSetup Create(string method, MethodContext c)
    {
        var s = c.Settings;
        var owned = new List<IDisposable>();
        var student = Student.FromModule(c.StudentNet, "student");
        owned.Add(student);
        var pair = new IDistillationModel[] { c.Teacher, student };
        var widths = c.StudentNet.StageWidths.Select(w => (long)w).ToArray();
        var teacherWidths = c.TeacherNet.StageWidths.Select(w => (long)w).ToArray();
        T Own<T>(T module)
            where T : IDisposable
        {
            owned.Add(module);
            return module;
        }

        // Auxiliary modules (regressors, heads) start from the seed, after the student's initialisation.
        torch.random.manual_seed(c.Seed + 50_000);
        var stages = new FeaturePair[] { "stage1", "stage2", "stage3" };
        switch (method)
        {
            case "alone":
                return new(new IDistillationModel[] { student }, Recipes.Of("ce", Loss.CrossEntropy()), owned);
            case "kd":
                return new(pair, Recipes.Hinton(4, 0.9), owned);
            case "kd-a0.5":
                return new(pair, Recipes.Hinton(4, 0.5), owned);
            case "dkd":
                return new(pair, Recipes.Dkd(1, 8, 4, s.WarmupEpochs), owned);
            case "dist":
                return new(pair, Recipes.Dist(2, 2, 4), owned);
            case "kd-ls":
                return new(pair, Recipes.Of("kd-ls", (0.1 * Loss.CrossEntropy()) + (9 * Loss.Of(Loss.Standardized(Loss.KD(2))))), owned);
            case "fitnet":
            {
                var regressor = Own(NewHintRegressor(c, widths[1], teacherWidths[1], relu: true));
                return new(pair, Recipes.Of("fitnet", Loss.CrossEntropy() + (100 * Loss.Of(Loss.Hint("stage2", regressor)))), owned);
            }

            case "fitnets-2stage":
            {
                var regressor = Own(NewHintRegressor(c, widths[1], teacherWidths[1], relu: true));
                return new(pair, Recipes.FitNets("stage2", regressor, s.InitEpochs, 4, 0.9), owned);
            }

            case "at":
                return new(pair, Recipes.Of("at", Loss.CrossEntropy() + (1000 * Loss.Of(Loss.AttentionTransfer(stages)))), owned);
            case "cc":
            {
                var studentHead = Own(new CorrelationEmbedding(widths[2], 128, normalize: false));
                var teacherHead = Own(new CorrelationEmbedding(teacherWidths[2], 128, normalize: false));
                var term = Loss.CorrelationCongruence("pool", studentHead, teacherHead, CorrelationCongruenceForm.RepDistiller);
                return new(pair, Recipes.Of("cc", Loss.CrossEntropy() + (0.02 * Loss.Of(term))), owned);
            }

            case "ft":
            {
                // RepDistiller: paraphraser rate 0.5 on the teacher's last stage, trained with MSE (SGD lr 0.01) in the init
                // stage, then CE + 200 · FT with its attention-map factor.
                var factors = (int)teacherWidths[2] / 2;
                var paraphraser = Own(new FactorAutoencoder((int)teacherWidths[2], factors));
                var translator = Own(new FactorCoder((int)widths[2], factors));
                var paraphraserOptimizer = new OptimizerOptions { LearningRate = 0.01, Momentum = 0.9, WeightDecay = 5e-4, Nesterov = s.Nesterov };
                return new(pair, Recipes.FactorTransfer("stage3", paraphraser, translator, s.InitEpochs, 200, FactorTransferForm.SpatialAttention, paraphraserOptimizer: paraphraserOptimizer), owned);
            }

            case "sp" or "sp-w300" or "sp-w30":
            {
                var weight = method switch { "sp-w300" => 300, "sp-w30" => 30, _ => 3000 };
                return new(pair, Recipes.Of(method, Loss.CrossEntropy() + (weight * Loss.Of(Loss.SimilarityPreserving(new FeaturePair[] { "stage3" })))), owned);
            }

            case "vid":
            {
                var regressors = widths.Zip(teacherWidths, (sw, tw) => Own(new VidRegressor(sw, tw))).ToArray();
                return new(pair, Recipes.Of("vid", Loss.CrossEntropy() + Loss.Of(Loss.VariationalInformation(stages, regressors))), owned);
            }

            case "rkd":
                return new(pair, Recipes.Of("rkd", Loss.CrossEntropy() + Loss.Of(Loss.RelationalKD(new FeaturePair[] { "pool" }, 25, 50))), owned);
            case "pkt" or "pkt-w3000" or "pkt-w300":
            {
                var weight = method switch { "pkt-w3000" => 3000, "pkt-w300" => 300, _ => 30000 };
                return new(pair, Recipes.Of(method, Loss.CrossEntropy() + (weight * Loss.Of(Loss.ProbabilisticKnowledgeTransfer(new FeaturePair[] { "pool" })))), owned);
            }

            case "nst":
                return new(pair, Recipes.Of("nst", Loss.CrossEntropy() + (50 * Loss.Of(Loss.NeuronSelectivityTransfer(stages)))), owned);
            case "ab":
            {
                // RepDistiller: AB as an initialisation stage (student and connectors), then CE only (-a 0 -b 0). Our
                // ResNetCifar exposes post-ReLU stage outputs; the teacher's side of the boundary (t > 0) is the same as
                // with the pre-activation, the student's hinge sees its post-ReLU response (a deviation, see docs).
                var term = Loss.ActivationBoundaries(stages, connectors: null, margin: 1.0);
                return new(pair, InitThenCe("ab", "ab", term, s.InitEpochs, new[] { "student" }), owned);
            }

            case "fsp":
            {
                var term = Loss.FlowOfSolutionProcedure(new FeaturePair[] { "stem", "stage1", "stage2", "stage3" });
                return new(pair, InitThenCe("fsp", "fsp", term, s.InitEpochs, new[] { "student" }), owned);
            }

            case "crd" or "crd-uniform":
            {
                var studentHead = Own(new CrdEmbedding(widths[2], 128));
                var teacherHead = Own(new CrdEmbedding(teacherWidths[2], 128));
                ICrdNegativeSampler sampler = method == "crd" ? new ClassAwareCrdNegativeSampler(c.TrainLabels, c.Seed) : new UniformCrdNegativeSampler(c.Seed);
                var crd = new TimedStepEnd(Loss.Crd("pool", studentHead, teacherHead, c.TrainLabels.Count, s.CrdNegatives, seed: c.Seed, sampler: sampler));
                var recipe = Recipes.Of("crd", Loss.CrossEntropy() + (0.8 * Loss.Of(crd)));
                return new(pair, recipe, owned, crd);
            }

            case "hkd" or "hkd-kd" or "hkd-b0.8" or "hkd-m0.5":
            {
                var hkd = new TimedStepEnd(Own(new HkdLoss(
                    "pool", Own(new CrdEmbedding(widths[2], 128)), Own(new CrdEmbedding(teacherWidths[2], 128)), Own(new HkdGraphEncoder(128)), Own(new HkdGraphEncoder(128)),
                    c.TrainLabels.Count, s.CrdNegatives, momentum: method == "hkd-m0.5" ? 0.5 : 0.9, seed: c.Seed, sampler: new ClassAwareCrdNegativeSampler(c.TrainLabels, c.Seed))));
                DistillationLoss objective = Loss.CrossEntropy() + ((method == "hkd-b0.8" ? 0.8 : 3) * Loss.Of(hkd));
                if (method == "hkd-kd")
                {
                    objective = objective + Loss.KD(4);
                }

                return new(pair, Recipes.Of(method, objective), owned, hkd);
            }

            case "reviewkd":
            {
                var fusions = ReviewFusion.Chain(widths.Append(widths[2]).ToArray(), teacherWidths.Append(teacherWidths[2]).ToArray());
                foreach (var fusion in fusions)
                {
                    Own(fusion);
                }

                return new(pair, Recipes.ReviewKD(new FeaturePair[] { "stage1", "stage2", "stage3", "pool" }, fusions, 5.0, s.WarmupEpochs), owned);
            }

            case "multi-teacher":
            {
                var second = c.SecondTeacher();
                owned.Add(second);
                var term = Loss.MultiTeacherKD(new[] { "teacher", "teacher2" }, TeacherWeighting.Average, 4.0);
                return new(new[] { c.Teacher, second, student }, Recipes.MultiTeacher(term, 0.9), owned);
            }

            case "takd":
            {
                // The assistant: resnet20x4 at the pair's width (3 blocks per stage, between the teacher's 5 and the student's 1).
                var assistantNet = Own(Networks.Assistant(s));
                var assistant = Student.FromModule(assistantNet, "assistant");
                owned.Add(assistant);
                return new(new[] { c.Teacher, assistant, student }, Recipes.TeacherAssistant(s.StudentEpochs, null, 4.0, 0.9), owned);
            }

            case "kd-tschedule":
                return new(pair, Recipes.Of("kd-tschedule", Loss.ScheduledHinton(TemperatureSchedule.Linear(8, 2, s.StudentEpochs), 0.9)), owned);
            default:
                throw new ArgumentException($"Unknown method '{method}'; use one of: {string.Join(", ", Names)}.", nameof(method));
        }
    }

    /// <summary>RepDistiller's init-stage methods (AB, FSP, FT's paraphraser is separate): the term alone for <paramref name="initEpochs"/>, then CE.</summary>
    private static DistillationRecipe InitThenCe(string name, string stage, IDistillationLoss term, int initEpochs, IReadOnlyCollection<string> trainable) =>
        new(name, new[]
        {
            new DistillationStage(stage, term) { Epochs = initEpochs, Trainable = trainable },
            new DistillationStage(DistillationRecipe.SingleStage, Loss.CrossEntropy()),
        });

    private static HintRegressor NewHintRegressor(MethodContext c, long studentChannels, long teacherChannels, bool relu)
    {
        var size = Networks.StageSize(c.Settings, 1);
        return HintRegressor.For(new[] { 1, studentChannels, size, size }, new[] { 1, teacherChannels, size, size }, relu);
    }
}
