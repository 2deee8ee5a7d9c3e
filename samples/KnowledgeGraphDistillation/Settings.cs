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
        """;

    public static Settings? Parse(string[] args)
    {
        var s = new Settings();
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            int Int() => int.Parse(Next(), CultureInfo.InvariantCulture);
            double Dbl() => double.Parse(Next(), CultureInfo.InvariantCulture);
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
                "--seeds" => s with { Seeds = Next().Split(',').Select(x => int.Parse(x, CultureInfo.InvariantCulture)).ToArray() },
                "--out" => s with { Output = Next() },
                "--threads" => s with { Threads = Int() },
                "--tracking" => s with { TrackingDirectory = Next() },
                _ => throw new ArgumentException($"Unknown option '{args[i]}'. Use --help."),
            };
            if (s is null)
            {
                return null;
            }
        }
        return s;
    }
}
