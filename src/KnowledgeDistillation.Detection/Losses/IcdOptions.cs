namespace KnowledgeDistillation.Detection.Losses;

/// <summary>Options of <see cref="IcdLoss"/> (the official code's defaults where they apply).</summary>
public sealed record IcdOptions
{
    /// <summary>Object classes C (the instance descriptor's one-hot width).</summary>
    public int Classes { get; init; } = 3;

    /// <summary>Teacher FPN channels D (the decoder's width).</summary>
    public int TeacherChannels { get; init; } = 64;

    /// <summary>Student FPN channels; <c>null</c> for <see cref="TeacherChannels"/>.</summary>
    public int? StudentChannels { get; init; }

    /// <summary>Attention heads H (8; <see cref="TeacherChannels"/> must be a multiple of H and of 4).</summary>
    public int Heads { get; init; } = 8;

    /// <summary>λ, the distillation weight (8 for one-stage detectors).</summary>
    public double Weight { get; init; } = 8;

    /// <summary>Mask softmax temperature τ (1).</summary>
    public double Temperature { get; init; } = 1;

    /// <summary>Fake instances per real one, r (5).</summary>
    public int NegativesPerReal { get; init; } = 5;

    /// <summary>The query cap: queries per image = min(max(1, n·(r+1)), max(<see cref="MaxQueries"/>, n)) (300).</summary>
    public int MaxQueries { get; init; } = 300;

    /// <summary>Reference-point jitter as a fraction of the box size (0.3: centre ± 0.3·(w, h)).</summary>
    public double ReferenceJitter { get; init; } = 0.3;

    /// <summary>Steps (of this loss's stage) with distillation off while the auxiliary task warms up (1000).</summary>
    public int WarmupSteps { get; init; } = 1000;

    /// <summary>Seed of the fake instances and reference-point jitter (drawn per step from (seed, epoch, step)).</summary>
    public int Seed { get; init; }

    /// <summary>Where fake instances are drawn from; <c>null</c> for uniform classes and log-uniform sizes.</summary>
    public InstancePrior? Prior { get; init; }

    /// <summary>Checks the options; the message names the option.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public void Validate()
    {
        if (Classes < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Classes), Classes, "Classes must be >= 1.");
        }

        if (Heads < 1 || TeacherChannels % Heads != 0 || TeacherChannels % 4 != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(TeacherChannels), TeacherChannels, $"TeacherChannels must be a positive multiple of 4 and of Heads ({Heads}).");
        }

        if (StudentChannels is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(StudentChannels), StudentChannels, "StudentChannels must be >= 1.");
        }

        if (!(Weight >= 0) || !double.IsFinite(Weight) || !(Temperature > 0) || !double.IsFinite(Temperature))
        {
            throw new ArgumentOutOfRangeException(nameof(Weight), $"Need a finite Weight >= 0 and Temperature > 0; got {Weight}, {Temperature}.");
        }

        if (NegativesPerReal < 0 || MaxQueries < 1 || WarmupSteps < 0 || !(ReferenceJitter >= 0 && ReferenceJitter < 0.5))
        {
            throw new ArgumentOutOfRangeException(nameof(NegativesPerReal), "Need NegativesPerReal >= 0, MaxQueries >= 1, WarmupSteps >= 0 and ReferenceJitter in [0, 0.5).");
        }

        if (Prior is { } prior && prior.ClassProbabilities.Count != Classes)
        {
            throw new ArgumentOutOfRangeException(nameof(Prior), $"The prior covers {prior.ClassProbabilities.Count} classes; expected {Classes}.");
        }
    }
}
