using System.Globalization;
using KnowledgeDistillation.Graph.KnowledgeGraphs.Multilingual;

namespace MultilingualKgDistillation;

/// <summary>Command-line settings of the sample.</summary>
internal sealed record Settings
{
    public string Data { get; init; } = "../shared/data/kg/dbp5l";
    public string Model { get; init; } = "TransE";
    public int Dim { get; init; } = 64;
    public int Epochs { get; init; } = 20;
    public int BatchSize { get; init; } = 512;
    public int Negatives { get; init; } = 32;
    public double LearningRate { get; init; } = 0.003;
    public double? AdversarialTemperature { get; init; } = 1.0;
    public double Margin { get; init; } = 6;
    public double AlignmentWeight { get; init; } = 1.0;
    public int KnowledgeStepsPerAlignment { get; init; } = 4;
    public int SelfLearningEvery { get; init; } = 10;
    public CslsCandidates SelfLearningCandidates { get; init; } = CslsCandidates.Neighbourhood;
    public int K { get; init; } = 10;
    public int MaxValid { get; init; } = 3000;
    public string[]? Languages { get; init; }
    public string[]? Targets { get; init; }
    public int[] Seeds { get; init; } = { 0, 1, 2 };
    public string? Output { get; init; }
    public int? Threads { get; init; }

    public const string Help = """
        KEnS (ensemble knowledge transfer across multilingual KGs) on DBP-5L: per seed, each language's model trained alone,
        then all trained together with entity alignment and CSLS self-learning; per target language prints Hits@1, Hits@10
        and MRR of the model alone and of KEnS_m, KEnS_mrr and KEnS_b (tail prediction, train-filtered).

        usage: dotnet run --project samples/MultilingualKgDistillation -c Release -- [options]
          --data DIR                 DBP-5L layout directory (default ../shared/data/kg/dbp5l)
          --model NAME               TransE | RotatE (default TransE)
          --dim N --epochs N         embedding dimension (default 64), epochs (default 20)
          --batch N --negatives N --lr X --margin X
          --adv-temp X|none          self-adversarial temperature of the knowledge term (default 1)
          --align-weight X           lambda of the alignment term (default 1)
          --steps-per-align N        knowledge steps between alignment steps (default 4)
          --self-learning-every N    epochs per CSLS self-learning round (default 10)
          --self-learning-candidates neighbourhood|all
                                     pair only within CSLS neighbourhoods (default; the released code) or any unaligned entity
          --k N                      candidates per model (default 10)
          --max-valid N              validation triples per target used to learn weights (default 3000)
          --languages el,ja,...      languages to load (default all); --targets el,ja (default all)
          --seeds 0,1,2 --out FILE --threads N
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
                "--dim" => s with { Dim = Int() },
                "--epochs" => s with { Epochs = Int() },
                "--batch" => s with { BatchSize = Int() },
                "--negatives" => s with { Negatives = Int() },
                "--lr" => s with { LearningRate = Dbl() },
                "--margin" => s with { Margin = Dbl() },
                "--adv-temp" => s with { AdversarialTemperature = Next() is "none" ? null : double.Parse(args[i], CultureInfo.InvariantCulture) },
                "--align-weight" => s with { AlignmentWeight = Dbl() },
                "--steps-per-align" => s with { KnowledgeStepsPerAlignment = Int() },
                "--self-learning-every" => s with { SelfLearningEvery = Int() },
                "--self-learning-candidates" => s with
                {
                    SelfLearningCandidates = Next() switch
                    {
                        "neighbourhood" => CslsCandidates.Neighbourhood,
                        "all" => CslsCandidates.All,
                        _ => throw new ArgumentException($"--self-learning-candidates takes neighbourhood or all, not '{args[i]}'."),
                    },
                },
                "--k" => s with { K = Int() },
                "--max-valid" => s with { MaxValid = Int() },
                "--languages" => s with { Languages = Next().Split(',') },
                "--targets" => s with { Targets = Next().Split(',') },
                "--seeds" => s with { Seeds = Next().Split(',').Select(x => int.Parse(x, CultureInfo.InvariantCulture)).ToArray() },
                "--out" => s with { Output = Next() },
                "--threads" => s with { Threads = Int() },
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
