using System.Globalization;

/// <summary>Command-line settings of the detection sample.</summary>
internal sealed record Settings
{
    public string Data { get; init; } = "../shared/data/detection/bccd/BCCD";
    public string Mode { get; init; } = "student";          // teacher | student | icd-aux | bench-step | aux-probe
    public string Method { get; init; } = "alone";          // alone | fpn-mse | icd
    public string Teacher { get; init; } = "results/detection/teacher.bin";
    public string Results { get; init; } = "results/detection";
    public int Seed { get; init; }
    public int Epochs { get; init; } = 12;
    public int ImageSize { get; init; } = 256;
    public int Batch { get; init; } = 8;
    public int Threads { get; init; } = 1;
    public double LearningRate { get; init; } = 1e-3;
    public int WarmupSteps { get; init; } = 36;
    public double IcdWeight { get; init; } = 8;
    public double MseWeight { get; init; } = 1;
    public double AuxLearningRate { get; init; } = 1e-4;
    public int AuxEpochs { get; init; }
    public double AuxStageLearningRate { get; init; } = 1e-3;
    public int Steps { get; init; } = 20;
    public int Limit { get; init; }
    public int Heads { get; init; } = 8;
    public string? Checkpoints { get; init; }
    public string? IcdAux { get; init; }
    public int ProbeImages { get; init; } = 8;
    public int ProbeEvery { get; init; } = 50;
    public string ProbeVariant { get; init; } = "icd";   // icd | no-position | exact-centre | unit-scale
    public string BoxOutput { get; init; } = "exponential";   // exponential | scaled-relu (detectors trained before 2026-12-03)

    public static Settings Parse(string[] args)
    {
        var s = new Settings();
        for (var i = 0; i < args.Length; i += 2)
        {
            var value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"'{args[i]}' needs a value.");
            var option = args[i];
            int Int() => int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : throw new ArgumentException($"{option} needs an integer, not '{value}'.");
            double Real() => double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) ? v : throw new ArgumentException($"{option} needs a number, not '{value}'.");
            s = args[i] switch
            {
                "--data" => s with { Data = value },
                "--mode" => s with { Mode = value },
                "--method" => s with { Method = value },
                "--teacher" => s with { Teacher = value },
                "--results" => s with { Results = value },
                "--seed" => s with { Seed = Int() },
                "--epochs" => s with { Epochs = Int() },
                "--image-size" => s with { ImageSize = Int() },
                "--batch" => s with { Batch = Int() },
                "--threads" => s with { Threads = Int() },
                "--lr" => s with { LearningRate = Real() },
                "--warmup-steps" => s with { WarmupSteps = Int() },
                "--icd-weight" => s with { IcdWeight = Real() },
                "--mse-weight" => s with { MseWeight = Real() },
                "--aux-lr" => s with { AuxLearningRate = Real() },
                "--aux-epochs" => s with { AuxEpochs = Int() },
                "--aux-stage-lr" => s with { AuxStageLearningRate = Real() },
                "--steps" => s with { Steps = Int() },
                "--limit" => s with { Limit = Int() },
                "--heads" => s with { Heads = Int() },
                "--checkpoints" => s with { Checkpoints = value },
                "--icd-aux" => s with { IcdAux = value },
                "--probe-images" => s with { ProbeImages = Int() },
                "--probe-every" => s with { ProbeEvery = Int() },
                "--probe-variant" => s with { ProbeVariant = value },
                "--box-output" => value is "exponential" or "scaled-relu" ? s with { BoxOutput = value } : throw new ArgumentException($"--box-output must be exponential or scaled-relu, not '{value}'."),
                _ => throw new ArgumentException($"Unknown option '{args[i]}'."),
            };
        }

        s.Validate();
        return s;
    }

    private void Validate()
    {
        if (Mode is not ("teacher" or "student" or "icd-aux" or "bench-step" or "aux-probe"))
        {
            throw new ArgumentException($"--mode must be teacher, student, icd-aux, bench-step or aux-probe, not '{Mode}'.");
        }

        if (Method is not ("alone" or "fpn-mse" or "icd"))
        {
            throw new ArgumentException($"--method must be alone, fpn-mse or icd, not '{Method}'.");
        }

        if (ProbeVariant is not ("icd" or "no-position" or "exact-centre" or "unit-scale"))
        {
            throw new ArgumentException($"--probe-variant must be icd, no-position, exact-centre or unit-scale, not '{ProbeVariant}'.");
        }

        if (Epochs < 1 || ImageSize < 32 || Batch < 1 || Threads < 1 || Steps < 1 || Heads < 1 || ProbeEvery < 1)
        {
            throw new ArgumentException("--epochs, --batch, --threads, --steps, --heads and --probe-every must be >= 1, --image-size >= 32.");
        }

        if (AuxEpochs < 0 || AuxStageLearningRate <= 0 || AuxLearningRate <= 0)
        {
            throw new ArgumentException("--aux-epochs must be >= 0, --aux-lr and --aux-stage-lr > 0.");
        }

        if (AuxEpochs > 0 && (Mode != "student" || Method != "icd"))
        {
            throw new ArgumentException("--aux-epochs adds ICD's auxiliary-task stage: it needs --mode student --method icd.");
        }

        if (IcdAux is not null && (Mode != "student" || Method != "icd"))
        {
            // Otherwise the pretrained auxiliary modules would be silently ignored.
            throw new ArgumentException("--icd-aux loads ICD's auxiliary modules: it needs --mode student --method icd.");
        }
    }
}
