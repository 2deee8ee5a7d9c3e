using System.Globalization;

namespace KnowledgeGraphDistillation;

/// <summary>Command-line settings of the sample (defaults: a quick run on a small KG).</summary>
internal sealed record Settings
{
    public string Data { get; init; } = "../shared/data/kg/umls";
    public string Model { get; init; } = "ComplEx";
    public int TeacherDim { get; init; } = 256;
    public int StudentDim { get; init; } = 16;
    public int TeacherEpochs { get; init; } = 60;
    public int StudentEpochs { get; init; } = 60;
    public int Stage2Epochs { get; init; } = 20;
    public int BatchSize { get; init; } = 512;
    public int Negatives { get; init; } = 64;
    public double LearningRate { get; init; } = 0.003;
    public double Stage2LearningRate { get; init; } = 0.0003;
    public double AdversarialTemperature { get; init; } = 1.0;
    public double Margin { get; init; } = 6;
    public bool Structure { get; init; }
    public int[] Seeds { get; init; } = { 0 };
    public string? Output { get; init; }
    public int? Threads { get; init; }
    public string TrackingDirectory { get; init; } = Path.Combine("output", "kg");
    public int ValidEvery { get; init; } = 5;
    public string Corruption { get; init; } = "alternate";
    public bool TeacherOneToN { get; init; }
    public double LabelSmoothing { get; init; }
    public int? Patience { get; init; }
    public double TeacherRegularization { get; init; }
    public string? TeacherFile { get; init; }
    public string? Checkpoints { get; init; }
    public bool TeacherOnly { get; init; }
    public bool SkipScoreKd { get; init; }
    public bool SkipDualDE { get; init; }
    public bool CalibrateTeacher { get; init; }
    public bool ShareStudentSigmoid { get; init; }
    public double? InitMargin { get; init; }
    public bool Subsampling { get; init; }
    public double StudentRegularization { get; init; }

    public const string Help = """
        Trains a high-dimensional KGE teacher, then a low-dimensional student alone, with score distillation and with DualDE
        (stage 1 only and both stages), and prints filtered test MRR / Hits@k, parameter counts and the inference-speed ratio.

        usage: dotnet run --project samples/KnowledgeGraphDistillation -c Release -- [options]
          --data DIR              KG directory with train.txt, valid.txt, test.txt (default ../shared/data/kg/umls)
          --model NAME            TransE | DistMult | ComplEx | RotatE (default ComplEx)
          --teacher-dim N         teacher dimension (default 256)
          --student-dim N         student dimension (default 16)
          --teacher-epochs N      teacher training epochs (default 60)
          --student-epochs N      epochs of each student run and of DualDE stage 1 (default 60)
          --stage2-epochs N       DualDE stage-2 epochs (default 20)
          --batch N --negatives N --lr X --stage2-lr X --adv-temp X --margin X
          --structure             add DualDE's embedding-structure distance
          --seeds 0,1,2           seeds (default 0)
          --out FILE              write per-seed results as JSON
          --threads N             libtorch CPU threads (default: DistillerOptions.DefaultThreads, half the logical processors)
          --tracking DIR          per-run metrics (DIR/metrics/*.csv, *.jsonl) and TensorBoard files (DIR/runs) (default output/kg)
          --valid-every N         model selection: validation MRR every N epochs (and after each stage), the best weights
                                  restored at the end of each run (default 5; 0 = none: the last epoch's weights, as before)
          --patience N            also stop a stage after N validation evaluations without a better MRR (default: never)
          --corruption MODE       alternate (one side per batch, default) | bernoulli (per triple, tph/(tph+hpt))
          --teacher-one-to-n      train the teacher with 1-N scoring (softmax cross-entropy over all entities) instead
                                  of negative sampling; batches of --batch queries (its scores are not sigmoid
                                  logits: distil it with --calibrate-teacher, or a warning says so)
          --label-smoothing X     label smoothing of 1-N scoring (default 0)
          --teacher-l3 X          L3 regularisation of the teacher's whole embedding tables during its training, as the
                                  DualDE code's NeuralKG does for ComplEx/DistMult (its WN18RR scripts: 5e-6; default off)
          --l3 X                  the same L3 term on every student run (alone, score KD, DualDE) and, in DualDE's stage 2,
                                  on the teacher too, as the DualDE code does (its scripts: 5e-6; default off)
          --teacher-file FILE     the teacher's weights (safetensors): loaded if FILE exists (no teacher training; every seed
                                  then distils the same teacher, as the paper does), else trained once and saved there
          --checkpoints DIR       checkpoint the teacher's training after every epoch in DIR/teacher-seedN and resume it
                                  from there when the command is run again (with the same settings)
          --teacher-only          stop after the teacher (train, save with --teacher-file, evaluate)
          --no-score-kd           skip the "student + score KD" run (DualDE against the student alone only)
          --no-dualde             skip the DualDE runs (the student alone and score KD only: a control run)
          --calibrate-teacher     Platt-scale the teacher's scores on the validation split before score KD and DualDE
                                  read them (ScoreCalibration; for a teacher trained with --teacher-one-to-n, whose
                                  scores are not sigmoid logits)
          --share-student-sigmoid DualDE's student negatives reuse the positive soft-label sigmoid (a, b), as the released
                                  code does (default: their own (a', b'), the paper's eq. 9)
          --subsampling           weight each triple by 1/sqrt(count(h, r) + count(t, r^-1)) in every negative-sampling loss
                                  (RotatE's subsampling; the DualDE code's --use_weight)
          --init-margin X         initialise every model uniformly in +-(X + 2) / dim, as NeuralKG does with its margin
                                  (the DualDE WN18RR scripts: 200); default: each model's own range (1/sqrt(dim) for ComplEx)

        Every run (teacher, student alone, score KD, DualDE) is selected the same way. "student alone (DualDE schedule)"
        trains the student alone with DualDE's two-stage optimiser schedule (student epochs at --lr, then stage-2 epochs at
        --stage2-lr with a fresh Adam), the schedule-matched baseline for DualDE 1+2.
        """;

    public static Settings? Parse(string[] args)
    {
        var s = new Settings();
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            int Int()
            {
                var name = args[i];
                var text = Next();
                return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : throw new ArgumentException($"{name} needs an integer, not '{text}'.");
            }

            double Dbl()
            {
                var name = args[i];
                var text = Next();
                return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : throw new ArgumentException($"{name} needs a number, not '{text}'.");
            }

            s = args[i] switch
            {
                "--help" or "-h" => null,
                "--data" => s with { Data = Next() },
                "--model" => s with { Model = Next() },
                "--teacher-dim" => s with { TeacherDim = Int() },
                "--student-dim" => s with { StudentDim = Int() },
                "--teacher-epochs" => s with { TeacherEpochs = Int() },
                "--student-epochs" => s with { StudentEpochs = Int() },
                "--stage2-epochs" => s with { Stage2Epochs = Int() },
                "--batch" => s with { BatchSize = Int() },
                "--negatives" => s with { Negatives = Int() },
                "--lr" => s with { LearningRate = Dbl() },
                "--stage2-lr" => s with { Stage2LearningRate = Dbl() },
                "--adv-temp" => s with { AdversarialTemperature = Dbl() },
                "--margin" => s with { Margin = Dbl() },
                "--structure" => s with { Structure = true },
                "--seeds" => s with { Seeds = ParseSeeds(Next()) },
                "--out" => s with { Output = Next() },
                "--threads" => s with { Threads = Int() },
                "--tracking" => s with { TrackingDirectory = Next() },
                "--valid-every" => s with { ValidEvery = Int() },
                "--patience" => s with { Patience = Int() },
                "--corruption" => s with { Corruption = Next() },
                "--teacher-one-to-n" => s with { TeacherOneToN = true },
                "--label-smoothing" => s with { LabelSmoothing = Dbl() },
                "--teacher-l3" => s with { TeacherRegularization = Dbl() },
                "--l3" => s with { StudentRegularization = Dbl() },
                "--teacher-file" => s with { TeacherFile = Next() },
                "--checkpoints" => s with { Checkpoints = Next() },
                "--teacher-only" => s with { TeacherOnly = true },
                "--no-score-kd" => s with { SkipScoreKd = true },
                "--no-dualde" => s with { SkipDualDE = true },
                "--calibrate-teacher" => s with { CalibrateTeacher = true },
                "--share-student-sigmoid" => s with { ShareStudentSigmoid = true },
                "--init-margin" => s with { InitMargin = Dbl() },
                "--subsampling" => s with { Subsampling = true },
                _ => throw new ArgumentException($"Unknown option '{args[i]}'. Use --help."),
            };
            if (s is null)
            {
                return null;
            }
        }

        s.Validate();
        return s;
    }

    /// <summary>Checks every setting before any data is read.</summary>
    /// <exception cref="ArgumentException">A setting is out of range, the model is unknown, or the data directory lacks a split file.</exception>
    public void Validate()
    {
        static void Require(bool ok, string message)
        {
            if (!ok)
            {
                throw new ArgumentException(message);
            }
        }

        Require(Models.Contains(Model), $"--model must be one of {string.Join(", ", Models)}, not '{Model}'.");
        Require(TeacherDim >= 1, $"--teacher-dim must be >= 1, not {TeacherDim}.");
        Require(StudentDim >= 1, $"--student-dim must be >= 1, not {StudentDim}.");
        Require(TeacherEpochs >= 1, $"--teacher-epochs must be >= 1, not {TeacherEpochs}.");
        Require(StudentEpochs >= 1, $"--student-epochs must be >= 1, not {StudentEpochs}.");
        Require(Stage2Epochs >= 0, $"--stage2-epochs must be >= 0, not {Stage2Epochs}.");
        Require(BatchSize >= 1, $"--batch must be >= 1, not {BatchSize}.");
        Require(Negatives >= 1, $"--negatives must be >= 1, not {Negatives}.");
        Require(LearningRate > 0 && double.IsFinite(LearningRate), $"--lr must be a positive number, not {LearningRate}.");
        Require(Stage2LearningRate > 0 && double.IsFinite(Stage2LearningRate), $"--stage2-lr must be a positive number, not {Stage2LearningRate}.");
        Require(AdversarialTemperature >= 0 && double.IsFinite(AdversarialTemperature), $"--adv-temp must be >= 0 (0 = uniform negatives), not {AdversarialTemperature}.");
        Require(Margin > 0 && double.IsFinite(Margin), $"--margin must be a positive number, not {Margin}.");
        Require(Seeds.Length > 0, "--seeds needs at least one seed.");
        Require(Threads is null or >= 1, $"--threads must be >= 1, not {Threads}.");
        Require(ValidEvery >= 0, $"--valid-every must be >= 0 (0 = no model selection), not {ValidEvery}.");
        Require(Patience is null or >= 1, $"--patience must be >= 1, not {Patience}.");
        Require(Patience is null || ValidEvery > 0, "--patience needs validation: set --valid-every to 1 or more.");
        Require(Corruption is "alternate" or "bernoulli", $"--corruption must be 'alternate' or 'bernoulli', not '{Corruption}'.");
        Require(LabelSmoothing >= 0 && LabelSmoothing < 1, $"--label-smoothing must be in [0, 1), not {LabelSmoothing}.");
        Require(TeacherRegularization >= 0 && double.IsFinite(TeacherRegularization), $"--teacher-l3 must be >= 0 (0 = off), not {TeacherRegularization}.");
        Require(TeacherRegularization == 0 || Model is "ComplEx" or "DistMult", $"--teacher-l3 is the L3 regulariser of ComplEx and DistMult, not of {Model}.");
        Require(StudentRegularization >= 0 && double.IsFinite(StudentRegularization), $"--l3 must be >= 0 (0 = off), not {StudentRegularization}.");
        Require(StudentRegularization == 0 || Model is "ComplEx" or "DistMult", $"--l3 is the L3 regulariser of ComplEx and DistMult, not of {Model}.");
        Require(InitMargin is null || (InitMargin > -2 && double.IsFinite(InitMargin.Value)), $"--init-margin must be a number > -2 (the range is (X + 2) / dim), not {InitMargin}.");
        Require(TeacherFile is null || !Directory.Exists(TeacherFile), $"--teacher-file must name a file, not the directory '{TeacherFile}'.");
        Require(Directory.Exists(Data), $"--data: the directory '{Data}' does not exist.");
        foreach (var split in new[] { "train.txt", "valid.txt", "test.txt" })
        {
            Require(File.Exists(Path.Combine(Data, split)), $"--data: '{Path.Combine(Data, split)}' is missing (the directory needs train.txt, valid.txt and test.txt).");
        }
    }

    /// <summary>The models the sample builds.</summary>
    public static readonly string[] Models = { "TransE", "DistMult", "ComplEx", "RotatE" };

    private static int[] ParseSeeds(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        return parts.Select(x => int.TryParse(x, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : throw new ArgumentException($"--seeds needs comma-separated integers, not '{text}'.")).ToArray();
    }
}
