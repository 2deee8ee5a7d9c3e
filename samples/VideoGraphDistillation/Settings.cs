using System.Globalization;

/// <summary>The sample's command-line settings (see Program.cs for the usage line).</summary>
internal sealed record Settings
{
    public int Train { get; init; } = 2000;
    public int Test { get; init; } = 1000;
    public int Frames { get; init; } = 6;
    public int PretextEpochs { get; init; } = 2;
    public int FinetuneEpochs { get; init; } = 2;
    public int StudentEpochs { get; init; } = 3;
    public int Seeds { get; init; } = 1;
    public int FirstSeed { get; init; }
    public int Batch { get; init; } = 32;
    public int Threads { get; init; } = 1;
    public double Temperature { get; init; } = 4.0;
    /// <summary>λ_l; <c>null</c> (the default) means T², the scale KD's soft term has (docs/benchmarks.md: at 1 the graph is ~16x weaker than KD).</summary>
    public double? LogitsWeight { get; init; }
    public double RepresentationEdgeEntropy { get; init; }
    public bool FixedRepresentationEdges { get; init; }
    public KnowledgeDistillation.Losses.RepresentationMatching RepresentationMatching { get; init; } = KnowledgeDistillation.Losses.RepresentationMatching.Mmd;
    public double RepresentationWeight { get; init; } = 1.0;
    public int PooledDimension { get; init; } = 256;
    public int[] TeacherChannels { get; init; } = { 8, 16, 32 };
    public int[] StudentChannels { get; init; } = { 4, 8, 16 };
    public string[]? Methods { get; init; }
    public string? Results { get; init; }
    public string? Data { get; init; }
    public bool BenchStep { get; init; }
    public bool BenchLayers { get; init; }
    public KnowledgeDistillation.Engine.LearningRateScheduleKind Schedule { get; init; } = KnowledgeDistillation.Engine.LearningRateScheduleKind.Constant;
    public double ContrastiveTemperature { get; init; } = 0.2;
    public string? TeachersDirectory { get; init; }
    public int[]? TeacherIds { get; init; }
    public bool TeachersOnly { get; init; }
    public int Steps { get; init; } = 20;

    public static Settings Parse(string[] args)
    {
        var s = new Settings();
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            int Int() => int.Parse(Next(), CultureInfo.InvariantCulture);
            double Double() => double.Parse(Next(), CultureInfo.InvariantCulture);
            s = args[i] switch
            {
                "--train" => s with { Train = Int() },
                "--test" => s with { Test = Int() },
                "--frames" => s with { Frames = Int() },
                "--pretext-epochs" => s with { PretextEpochs = Int() },
                "--finetune-epochs" => s with { FinetuneEpochs = Int() },
                "--student-epochs" => s with { StudentEpochs = Int() },
                "--seeds" => s with { Seeds = Int() },
                "--first-seed" => s with { FirstSeed = Int() },
                "--batch" => s with { Batch = Int() },
                "--threads" => s with { Threads = Int() },
                "--temperature" => s with { Temperature = Double() },
                "--logits-weight" => s with { LogitsWeight = Double() },
                "--representation-weight" => s with { RepresentationWeight = Double() },
                "--representation-edge-entropy" => s with { RepresentationEdgeEntropy = Double() },
                "--fixed-representation-edges" => s with { FixedRepresentationEdges = true },
                "--representation-matching" => s with { RepresentationMatching = Next() switch
                {
                    "mmd" => KnowledgeDistillation.Losses.RepresentationMatching.Mmd,
                    "squared-error" => KnowledgeDistillation.Losses.RepresentationMatching.SquaredError,
                    var other => throw new ArgumentException($"--representation-matching must be mmd or squared-error; got '{other}'."),
                } },
                "--pooled-dimension" => s with { PooledDimension = Int() },
                "--methods" => s with { Methods = Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) },
                "--results" => s with { Results = Next() },
                "--data" => s with { Data = Next() },
                "--bench-step" => s with { BenchStep = true },
                "--steps" => s with { Steps = Int() },
                "--bench-layers" => s with { BenchLayers = true },
                "--schedule" => s with { Schedule = Enum.Parse<KnowledgeDistillation.Engine.LearningRateScheduleKind>(Next(), ignoreCase: true) },
                "--contrastive-temperature" => s with { ContrastiveTemperature = Double() },
                "--teachers" => s with { TeachersDirectory = Next() },
                "--teacher-ids" => s with { TeacherIds = Next().Split(',').Select(x => int.Parse(x, CultureInfo.InvariantCulture)).ToArray() },
                "--teachers-only" => s with { TeachersOnly = true },
                _ => throw new ArgumentException($"Unknown option '{args[i]}'; see the usage line in Program.cs."),
            };
        }

        return s;
    }
}
