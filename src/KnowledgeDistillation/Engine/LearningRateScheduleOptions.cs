namespace KnowledgeDistillation.Engine;

/// <summary>How the learning rate changes over the epochs of a stage.</summary>
public enum LearningRateScheduleKind
{
    /// <summary>The base rate throughout.</summary>
    Constant,

    /// <summary>Multiplied by <see cref="LearningRateScheduleOptions.Gamma"/> at each milestone epoch.</summary>
    MultiStep,

    /// <summary>Cosine annealing from the base rate to <see cref="LearningRateScheduleOptions.MinLearningRate"/>.</summary>
    Cosine,
}

/// <summary>
/// The learning-rate schedule of a stage, evaluated per epoch as a pure function of the epoch (so resuming
/// needs no scheduler state). An optional linear warm-up precedes it.
/// </summary>
public sealed class LearningRateScheduleOptions
{
    /// <summary>The schedule (default constant).</summary>
    public LearningRateScheduleKind Kind { get; set; } = LearningRateScheduleKind.Constant;

    /// <summary>Epochs (from 0) at which a multi-step schedule multiplies the rate by <see cref="Gamma"/>.</summary>
    public int[] Milestones { get; set; } = Array.Empty<int>();

    /// <summary>The multi-step factor in (0, 1] (default 0.1).</summary>
    public double Gamma { get; set; } = 0.1;

    /// <summary>The cosine schedule's final rate &gt;= 0 (default 0).</summary>
    public double MinLearningRate { get; set; }

    /// <summary>Epochs of linear warm-up from base/ (warm-up + 1) to the base rate (default 0).</summary>
    public int WarmupEpochs { get; set; }

    /// <summary>The learning rate for an epoch.</summary>
    /// <param name="baseRate">The optimiser's base rate.</param>
    /// <param name="epoch">The epoch within the stage, from 0.</param>
    /// <param name="totalEpochs">The stage's epoch count.</param>
    public double RateAt(double baseRate, int epoch, int totalEpochs)
    {
        if (epoch < WarmupEpochs)
        {
            return baseRate * (epoch + 1) / (WarmupEpochs + 1);
        }

        return Kind switch
        {
            LearningRateScheduleKind.MultiStep => baseRate * Math.Pow(Gamma, Milestones.Count(m => epoch >= m)),
            LearningRateScheduleKind.Cosine => Cosine(baseRate, epoch - WarmupEpochs, Math.Max(1, totalEpochs - WarmupEpochs)),
            _ => baseRate,
        };
    }

    /// <summary>Checks every value; throws naming the offending setting.</summary>
    /// <param name="prefix">The configuration path of these options, for messages.</param>
    public void Validate(string prefix = "LearningRateSchedule")
    {
        if (!(Gamma > 0 && Gamma <= 1))
        {
            throw new ArgumentOutOfRangeException($"{prefix}.{nameof(Gamma)}", Gamma, "Gamma must be in (0, 1].");
        }

        Guard.NonNegative(MinLearningRate, $"{prefix}.{nameof(MinLearningRate)}");
        if (WarmupEpochs < 0)
        {
            throw new ArgumentOutOfRangeException($"{prefix}.{nameof(WarmupEpochs)}", WarmupEpochs, "WarmupEpochs must be >= 0.");
        }

        if (Milestones.Any(m => m < 0))
        {
            throw new ArgumentOutOfRangeException($"{prefix}.{nameof(Milestones)}", string.Join(",", Milestones), "Milestones must be >= 0.");
        }

        if (!Enum.IsDefined(Kind))
        {
            throw new ArgumentOutOfRangeException($"{prefix}.{nameof(Kind)}", Kind, "Unknown schedule kind.");
        }
    }

    /// <summary>Returns a copy.</summary>
    public LearningRateScheduleOptions Clone()
    {
        var copy = (LearningRateScheduleOptions)MemberwiseClone();
        copy.Milestones = (int[])Milestones.Clone();
        return copy;
    }

    private double Cosine(double baseRate, int epoch, int epochs) =>
        MinLearningRate + (baseRate - MinLearningRate) * (1 + Math.Cos(Math.PI * epoch / epochs)) / 2;
}
