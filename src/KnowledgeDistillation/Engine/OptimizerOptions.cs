namespace KnowledgeDistillation.Engine;

/// <summary>The optimisation algorithm.</summary>
public enum OptimizerKind
{
    /// <summary>Stochastic gradient descent with optional (Nesterov) momentum.</summary>
    Sgd,

    /// <summary>Adam.</summary>
    Adam,

    /// <summary>AdamW (decoupled weight decay).</summary>
    AdamW,
}

/// <summary>Settings of the optimiser built for each stage (bindable from configuration).</summary>
public sealed class OptimizerOptions
{
    /// <summary>The algorithm (default SGD).</summary>
    public OptimizerKind Kind { get; set; } = OptimizerKind.Sgd;

    /// <summary>The base learning rate (default 0.05), &gt; 0.</summary>
    public double LearningRate { get; set; } = 0.05;

    /// <summary>SGD momentum in [0, 1) (default 0.9).</summary>
    public double Momentum { get; set; } = 0.9;

    /// <summary>Whether SGD uses Nesterov momentum.</summary>
    public bool Nesterov { get; set; }

    /// <summary>L2 weight decay &gt;= 0 (default 5e-4).</summary>
    public double WeightDecay { get; set; } = 5e-4;

    /// <summary>Adam's beta1 (default 0.9).</summary>
    public double Beta1 { get; set; } = 0.9;

    /// <summary>Adam's beta2 (default 0.999).</summary>
    public double Beta2 { get; set; } = 0.999;

    /// <summary>Checks every value; throws naming the offending setting.</summary>
    /// <param name="prefix">The configuration path of these options, for messages.</param>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public void Validate(string prefix = "Optimizer")
    {
        Guard.Positive(LearningRate, $"{prefix}.{nameof(LearningRate)}");
        Guard.NonNegative(WeightDecay, $"{prefix}.{nameof(WeightDecay)}");
        if (!(Momentum >= 0 && Momentum < 1))
        {
            throw new ArgumentOutOfRangeException($"{prefix}.{nameof(Momentum)}", Momentum, "Momentum must be in [0, 1).");
        }

        if (Nesterov && Momentum == 0)
        {
            throw new ArgumentOutOfRangeException($"{prefix}.{nameof(Nesterov)}", Nesterov, "Nesterov momentum needs Momentum > 0.");
        }

        if (!(Beta1 >= 0 && Beta1 < 1) || !(Beta2 >= 0 && Beta2 < 1))
        {
            throw new ArgumentOutOfRangeException($"{prefix}.{nameof(Beta1)}", Beta1, "Beta1 and Beta2 must be in [0, 1).");
        }

        if (!Enum.IsDefined(Kind))
        {
            throw new ArgumentOutOfRangeException($"{prefix}.{nameof(Kind)}", Kind, "Unknown optimizer kind.");
        }
    }

    /// <summary>Returns a copy.</summary>
    public OptimizerOptions Clone() => (OptimizerOptions)MemberwiseClone();
}
