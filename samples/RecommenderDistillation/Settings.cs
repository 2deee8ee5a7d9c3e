using System.Globalization;

namespace RecommenderDistillation;

/// <summary>Command-line settings of the sample.</summary>
internal sealed record Settings
{
    public const string Help = """
        RecommenderDistillation: teacher (BPR-MF, d = 200), student alone, DE, RRD, FTD and HTD students at phi = d_s / d_t
        on implicit feedback (MovieLens ratings >= threshold), random 80/20 split per user, full-ranking Recall/NDCG@10/50.

        usage: RecommenderDistillation [options]
          --data PATH            ratings CSV (userId,movieId,rating,timestamp) [../shared/data/recsys/ml-latest-small/ratings.csv]
          --threshold X          positive when rating >= X; 0 = any interaction [4]
          --seeds 1,2,3          model seeds (the split uses --split-seed) [1,2,3]
          --split-seed N         [0]
          --phis 0.1,0.5         student sizes as fractions of the teacher's d [0.1,0.5]
          --methods LIST         of student,de,rrd,ftd,htd [all]
          --teacher-dim N        [200]
          --teacher-epochs N     [60]
          --epochs N             student epochs (also HTD/DE's annealing length) [30]
          --lr X                 Adam learning rate [0.001 as the paper; the sample's default 0.005 fits the short runs]
          --weight-decay X       [0.001]
          --batch N              [1024]
          --groups K             HTD/DE experts per entity type; with --bench, 0 skips the HTD epoch [30]
          --lambda X             FTD/HTD/DE weight [0.001]
          --rrd-lambda X         RRD weight [0.01]
          --threads N            TorchSharp threads [1]
          --bench                time full-ranking evaluation and training epochs only (bench/recsys-speed.sh)
          --bench-repeats N      [3]
        """;

    public string Data { get; init; } = "../shared/data/recsys/ml-latest-small/ratings.csv";
    public double Threshold { get; init; } = 4;
    public int[] Seeds { get; init; } = { 1, 2, 3 };
    public int SplitSeed { get; init; }
    public double[] Phis { get; init; } = { 0.1, 0.5 };
    public string[] Methods { get; init; } = { "student", "de", "rrd", "ftd", "htd" };
    public int TeacherDim { get; init; } = 200;
    public int TeacherEpochs { get; init; } = 60;
    public int Epochs { get; init; } = 30;
    public double LearningRate { get; init; } = 0.005;
    public double WeightDecay { get; init; } = 1e-3;
    public int Batch { get; init; } = 1024;
    public int Groups { get; init; } = 30;
    public double Lambda { get; init; } = 1e-3;
    public double RrdLambda { get; init; } = 1e-2;
    public int Threads { get; init; } = 1;
    public bool Bench { get; init; }
    public int BenchRepeats { get; init; } = 3;

    public static Settings? Parse(string[] args)
    {
        var s = new Settings();
        var inv = CultureInfo.InvariantCulture;
        for (var a = 0; a < args.Length; a++)
        {
            string Next() => a + 1 < args.Length ? args[++a] : throw new ArgumentException($"{args[a]} needs a value.");
            s = args[a] switch
            {
                "--help" or "-h" => null,
                "--data" => s with { Data = Next() },
                "--threshold" => s with { Threshold = double.Parse(Next(), inv) },
                "--seeds" => s with { Seeds = Next().Split(',').Select(x => int.Parse(x, inv)).ToArray() },
                "--split-seed" => s with { SplitSeed = int.Parse(Next(), inv) },
                "--phis" => s with { Phis = Next().Split(',').Select(x => double.Parse(x, inv)).ToArray() },
                "--methods" => s with { Methods = Next().Split(',') },
                "--teacher-dim" => s with { TeacherDim = int.Parse(Next(), inv) },
                "--teacher-epochs" => s with { TeacherEpochs = int.Parse(Next(), inv) },
                "--epochs" => s with { Epochs = int.Parse(Next(), inv) },
                "--lr" => s with { LearningRate = double.Parse(Next(), inv) },
                "--weight-decay" => s with { WeightDecay = double.Parse(Next(), inv) },
                "--batch" => s with { Batch = int.Parse(Next(), inv) },
                "--groups" => s with { Groups = int.Parse(Next(), inv) },
                "--lambda" => s with { Lambda = double.Parse(Next(), inv) },
                "--rrd-lambda" => s with { RrdLambda = double.Parse(Next(), inv) },
                "--threads" => s with { Threads = int.Parse(Next(), inv) },
                "--bench" => s with { Bench = true },
                "--bench-repeats" => s with { BenchRepeats = int.Parse(Next(), inv) },
                _ => throw new ArgumentException($"Unknown option {args[a]}; --help lists them."),
            };
            if (s is null)
            {
                return null;
            }
        }
        var unknown = s.Methods.Except(new[] { "student", "de", "rrd", "ftd", "htd" }).ToArray();
        if (unknown.Length > 0)
        {
            throw new ArgumentException($"Unknown method(s) {string.Join(",", unknown)}; use student, de, rrd, ftd, htd.");
        }
        return s;
    }
}
