namespace KnowledgeDistillation.Losses;

/// <summary>
/// A softmax temperature that depends on the epoch within the stage (from 0), for the KD-family terms (<see cref="KDLoss"/>,
/// <see cref="MultiTeacherKDLoss"/>). The term reads the stage epoch from <see cref="DistillationContext.Epoch"/>, the same
/// value the loss-weight schedules (<see cref="Loss.Scheduled"/>) and DKD's warm-up read, so a schedule holds no state of its
/// own: a resumed run restores the stage epoch from its checkpoint and continues on the same temperature. A
/// <see cref="double"/> converts implicitly to a constant schedule.
/// </summary>
/// <example><code>Loss.ScheduledKD(TemperatureSchedule.Linear(start: 8, end: 2, epochs: 100))</code></example>
public sealed class TemperatureSchedule
{
    private readonly Func<int, double> _temperature;

    private TemperatureSchedule(Func<int, double> temperature, string description, bool isConstant)
    {
        _temperature = temperature;
        Description = description;
        IsConstant = isConstant;
    }

    /// <summary>What the schedule is, e.g. "linear 8 -> 2 over 100 epochs" (for logs).</summary>
    public string Description { get; }

    /// <summary>Whether the temperature is the same at every epoch.</summary>
    public bool IsConstant { get; }

    /// <summary>The same temperature at every epoch.</summary>
    /// <param name="temperature">T &gt; 0.</param>
    /// <exception cref="ArgumentOutOfRangeException">T is not a finite number &gt; 0.</exception>
    public static TemperatureSchedule Constant(double temperature)
    {
        Guard.Positive(temperature, nameof(temperature));
        return new(_ => temperature, $"constant {temperature}", isConstant: true);
    }

    /// <summary>
    /// A straight line from <paramref name="start"/> at epoch 0 to <paramref name="end"/> at epoch <paramref name="epochs"/>,
    /// then <paramref name="end"/>: <c>T(e) = start + (end − start) · min(e / epochs, 1)</c>.
    /// </summary>
    /// <param name="start">T at epoch 0, &gt; 0.</param>
    /// <param name="end">T from epoch <paramref name="epochs"/> on, &gt; 0.</param>
    /// <param name="epochs">Length of the ramp in epochs, &gt;= 1.</param>
    /// <exception cref="ArgumentOutOfRangeException">A temperature is not a finite number &gt; 0, or epochs &lt; 1.</exception>
    public static TemperatureSchedule Linear(double start, double end, int epochs)
    {
        Validate(start, end, epochs);
        return new(e => start + ((end - start) * Progress(e, epochs)), $"linear {start} -> {end} over {epochs} epochs", start == end);
    }

    /// <summary>
    /// A half cosine from <paramref name="start"/> at epoch 0 to <paramref name="end"/> at epoch <paramref name="epochs"/>,
    /// then <paramref name="end"/>: <c>T(e) = end + (start − end) · (1 + cos(π · min(e / epochs, 1))) / 2</c>.
    /// </summary>
    /// <param name="start">T at epoch 0, &gt; 0.</param>
    /// <param name="end">T from epoch <paramref name="epochs"/> on, &gt; 0.</param>
    /// <param name="epochs">Length of the curve in epochs, &gt;= 1.</param>
    /// <exception cref="ArgumentOutOfRangeException">A temperature is not a finite number &gt; 0, or epochs &lt; 1.</exception>
    public static TemperatureSchedule Cosine(double start, double end, int epochs)
    {
        Validate(start, end, epochs);
        return new(
            e => end + ((start - end) * (1 + Math.Cos(Math.PI * Progress(e, epochs))) / 2),
            $"cosine {start} -> {end} over {epochs} epochs",
            start == end);
    }

    /// <summary>
    /// Piecewise constant: <paramref name="initial"/> multiplied by <paramref name="factor"/> once for every milestone reached,
    /// <c>T(e) = initial · factor^|{m ∈ milestones : m &lt;= e}|</c> (as a multi-step learning-rate schedule).
    /// </summary>
    /// <param name="initial">T before the first milestone, &gt; 0.</param>
    /// <param name="factor">The multiplier at each milestone, &gt; 0.</param>
    /// <param name="milestones">Stage epochs (&gt;= 1, strictly increasing) at which the temperature changes; at least one.</param>
    /// <exception cref="ArgumentOutOfRangeException">initial or factor is not a finite number &gt; 0.</exception>
    /// <exception cref="ArgumentException">No milestone, or the milestones are not strictly increasing epochs &gt;= 1.</exception>
    public static TemperatureSchedule Step(double initial, double factor, params int[] milestones)
    {
        Guard.Positive(initial, nameof(initial));
        Guard.Positive(factor, nameof(factor));
        ArgumentNullException.ThrowIfNull(milestones);
        if (milestones.Length == 0 || milestones[0] < 1 || milestones.Zip(milestones.Skip(1), (a, b) => b > a).Any(increasing => !increasing))
        {
            throw new ArgumentException(
                $"milestones must be at least one strictly increasing stage epoch >= 1; got [{string.Join(", ", milestones)}].", nameof(milestones));
        }

        var steps = milestones.ToArray();
        return new(
            e => initial * Math.Pow(factor, steps.Count(m => m <= e)),
            $"step {initial} x{factor} at epochs [{string.Join(", ", steps)}]",
            factor == 1);
    }

    /// <summary>Any function of the stage epoch; its value is checked (finite, &gt; 0) each time it is read.</summary>
    /// <param name="temperatureForEpoch">T for an epoch within the stage (from 0). It must be deterministic in the epoch, or a resumed run differs.</param>
    /// <param name="description">What the function is, for logs.</param>
    public static TemperatureSchedule Custom(Func<int, double> temperatureForEpoch, string description = "custom")
    {
        ArgumentNullException.ThrowIfNull(temperatureForEpoch);
        ArgumentException.ThrowIfNullOrWhiteSpace(description);
        return new(temperatureForEpoch, description, isConstant: false);
    }

    /// <summary>A constant schedule.</summary>
    /// <param name="temperature">T &gt; 0.</param>
    public static implicit operator TemperatureSchedule(double temperature) => Constant(temperature);

    /// <summary>The temperature at a stage epoch.</summary>
    /// <param name="epoch">The epoch within the stage, from 0.</param>
    /// <exception cref="ArgumentOutOfRangeException">The epoch is negative, or a custom function gave a value that is not a finite number &gt; 0.</exception>
    public double At(int epoch)
    {
        if (epoch < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(epoch), epoch, "The stage epoch counts from 0.");
        }

        var temperature = _temperature(epoch);
        if (!double.IsFinite(temperature) || temperature <= 0)
        {
            throw new ArgumentOutOfRangeException(
                nameof(epoch), temperature, $"The temperature schedule '{Description}' gave T = {temperature} at stage epoch {epoch}; T must be a finite number > 0.");
        }

        return temperature;
    }

    /// <inheritdoc />
    public override string ToString() => Description;

    private static double Progress(int epoch, int epochs) => Math.Min((double)epoch / epochs, 1.0);

    private static void Validate(double start, double end, int epochs)
    {
        Guard.Positive(start, nameof(start));
        Guard.Positive(end, nameof(end));
        if (epochs < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(epochs), epochs, "The schedule's length must be at least 1 epoch.");
        }
    }
}
