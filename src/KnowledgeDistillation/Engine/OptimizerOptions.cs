using TorchSharp;
using TorchSharp.Modules;

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

/// <summary>
/// Settings of the optimiser built for each stage (bindable from configuration): a built-in <see cref="Kind"/>, or any
/// TorchSharp optimiser through <see cref="Factory"/> (see <see cref="Custom"/>).
/// </summary>
public sealed class OptimizerOptions
{
    /// <summary>The algorithm (default SGD); ignored when <see cref="Factory"/> is set.</summary>
    public OptimizerKind Kind { get; set; } = OptimizerKind.Sgd;

    /// <summary>
    /// Creates the optimiser instead of <see cref="Kind"/> (not bindable from configuration; needs <see cref="FactoryName"/>).
    /// Called once per stage for each owner (trained participant or the loss's modules) with that owner's parameters and
    /// these options; it must return a new <see cref="OptimizerHelper"/> (every TorchSharp optimiser except
    /// LBFGS, e.g. <c>torch.optim.RMSProp</c>, <c>Adagrad</c>, <c>NAdam</c>) over exactly those parameters. The engine
    /// sets each parameter group's learning rate every epoch from <see cref="LearningRate"/> and the schedule, and
    /// checkpoints the optimiser's state with <c>save_state_dict</c>.
    /// </summary>
    public Func<IReadOnlyList<Parameter>, OptimizerOptions, torch.optim.Optimizer>? Factory { get; set; }

    /// <summary>
    /// The stable name of <see cref="Factory"/>'s optimiser, recorded in checkpoints (e.g. <c>rmsprop</c>): a checkpoint
    /// is only resumed with the same name (and optimiser type). Required with <see cref="Factory"/>, invalid without it.
    /// </summary>
    public string? FactoryName { get; set; }

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

        if (Factory is not null && string.IsNullOrWhiteSpace(FactoryName))
        {
            throw new ArgumentException("A custom optimiser Factory needs a FactoryName: the stable name that checkpoints record.", $"{prefix}.{nameof(FactoryName)}");
        }

        if (Factory is null && FactoryName is not null)
        {
            throw new ArgumentException(
                $"FactoryName '{FactoryName}' is set but no Factory creates the optimiser (a factory cannot come from configuration; set it in code, e.g. with OptimizerOptions.Custom).",
                $"{prefix}.{nameof(Factory)}");
        }
    }

    /// <summary>Options whose optimiser comes from <paramref name="factory"/>; the other settings keep their defaults and reach the factory.</summary>
    /// <param name="name">The stable name checkpoints record (see <see cref="FactoryName"/>).</param>
    /// <param name="factory">Creates the optimiser of the given parameters (see <see cref="Factory"/>).</param>
    /// <param name="learningRate">The base learning rate the schedule starts from, &gt; 0.</param>
    /// <returns>The options.</returns>
    /// <example>
    /// <code>
    /// Optimizer = OptimizerOptions.Custom("rmsprop", (parameters, o) => torch.optim.RMSProp(parameters, o.LearningRate), learningRate: 0.01)
    /// </code>
    /// </example>
    public static OptimizerOptions Custom(string name, Func<IReadOnlyList<Parameter>, OptimizerOptions, torch.optim.Optimizer> factory, double learningRate = 0.05)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(factory);
        return new OptimizerOptions { FactoryName = name, Factory = factory, LearningRate = learningRate };
    }

    /// <summary>Returns a copy.</summary>
    public OptimizerOptions Clone() => (OptimizerOptions)MemberwiseClone();
}
