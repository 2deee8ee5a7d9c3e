using System.Globalization;
using System.Text;

namespace KnowledgeDistillation.Engine;

/// <summary>
/// Shows training progress: per step a bar with the epoch's mean loss so far, throughput (samples/s) and the epoch's
/// ETA, and per epoch a summary line with the loss, its parts, train and evaluation metrics and the time. On a terminal
/// it redraws one live line; when output is redirected (CI logs, files) it writes a plain line every
/// <see cref="ConsoleProgressOptions.LineInterval"/> instead. Turn it on with <c>distiller.UseConsoleProgress()</c>.
/// </summary>
/// <remarks>
/// It runs on the training thread inside <see cref="Distiller.Fit"/>; reading the loss costs one device read per
/// redraw, not per step. Write to any <see cref="TextWriter"/> (a log file, a test's <see cref="StringWriter"/>).
/// </remarks>
public sealed class ConsoleProgress : IDistillationCallback
{
    private readonly TextWriter _writer;
    private readonly ConsoleProgressOptions _options;
    private readonly bool _live;
    private readonly TimeProvider _time;
    private long _epochStart;
    private long _lastDraw;
    private long _lastStepTime;
    private long _epochSamples;
    private int _epochsInStage;
    private int _liveWidth;
    private bool _drawnThisEpoch;

    /// <summary>Creates the reporter.</summary>
    /// <param name="writer">Where to write (default <see cref="Console.Out"/>).</param>
    /// <param name="options">Settings (default <see cref="ConsoleProgressOptions"/>).</param>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    public ConsoleProgress(TextWriter? writer = null, ConsoleProgressOptions? options = null)
    {
        _options = options ?? new ConsoleProgressOptions();
        _options.Validate();
        _writer = writer ?? Console.Out;
        _live = _options.Live ?? (writer is null && !Console.IsOutputRedirected);
        _time = _options.TimeProvider;
        _epochStart = _time.GetTimestamp();
    }

    /// <summary>Whether this reporter redraws a live line (otherwise it writes plain lines).</summary>
    public bool IsLive => _live;

    /// <inheritdoc />
    public void OnStageStart(DistillationStage stage)
    {
        ArgumentNullException.ThrowIfNull(stage);
        WriteLine($"stage {stage.Name}");
        StartEpoch();
    }

    /// <inheritdoc />
    public void OnStepEnd(StepInfo step)
    {
        var now = _time.GetTimestamp();
        _lastStepTime = now;
        _epochSamples += step.Samples;
        _epochsInStage = step.EpochsInStage;
        var last = step.BatchInEpoch + 1 >= step.BatchesPerEpoch;
        var interval = _live ? _options.RefreshInterval : _options.LineInterval;
        var due = _live
            ? !_drawnThisEpoch || last || _time.GetElapsedTime(_lastDraw, now) >= interval
            : _time.GetElapsedTime(_lastDraw, now) >= interval && !last;
        if (!due)
        {
            return;
        }

        _lastDraw = now;
        _drawnThisEpoch = true;
        var text = StepLine(step, now);
        if (_live)
        {
            var padded = text.Length < _liveWidth ? text.PadRight(_liveWidth) : text;
            _liveWidth = text.Length;
            _writer.Write('\r');
            _writer.Write(padded);
            _writer.Flush();
        }
        else
        {
            WriteLine(text);
        }
    }

    /// <inheritdoc />
    public void OnEpochEnd(EpochRecord record, TrainingControl control)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(control);
        ClearLive();
        var epoch = record.Epoch + 1;
        if (epoch % _options.SummaryEveryEpochs != 0 && epoch != _epochsInStage && !control.StopRequested)
        {
            StartEpoch();
            return;
        }

        var trainSeconds = _time.GetElapsedTime(_epochStart, _lastStepTime).TotalSeconds;
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{record.Stage} epoch {record.Epoch + 1}{Of(_epochsInStage)}: loss {record.Loss:F4}");
        if (record.LossParts.Count > 0)
        {
            text.Append(" (").AppendJoin(", ", record.LossParts.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key} {p.Value:F4}"))).Append(')');
        }

        AppendMetrics(text, "train", record.TrainMetrics);
        AppendMetrics(text, "eval", record.EvalMetrics);
        text.Append(CultureInfo.InvariantCulture, $" | {FormatDuration(record.Duration)}");
        if (trainSeconds > 0 && _epochSamples > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $", {_epochSamples / trainSeconds:F0} samples/s");
        }

        if (record.SkippedSteps > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $", {record.SkippedSteps} skipped");
        }

        WriteLine(text.ToString());
        StartEpoch();
    }

    /// <inheritdoc />
    public void OnFitEnd(FitResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        ClearLive();
        WriteLine($"done in {FormatDuration(result.WallTime)}{(result.StoppedEarly ? " (stopped early)" : string.Empty)}");
    }

    private static string Of(int total) => total > 0 ? $"/{total}" : string.Empty;

    private static void AppendMetrics(StringBuilder text, string label, IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> metrics)
    {
        var values = metrics.SelectMany(p => p.Value.Select(m => string.Create(CultureInfo.InvariantCulture, $"{p.Key}.{m.Key} {m.Value:F4}"))).ToArray();
        if (values.Length > 0)
        {
            text.Append(" | ").Append(label).Append(' ').AppendJoin(", ", values);
        }
    }

    /// <summary>A duration as m:ss (h:mm:ss from an hour), or seconds with one decimal under a minute.</summary>
    internal static string FormatDuration(TimeSpan duration)
    {
        if (duration < TimeSpan.FromMinutes(1))
        {
            return string.Create(CultureInfo.InvariantCulture, $"{duration.TotalSeconds:F1}s");
        }

        return duration < TimeSpan.FromHours(1)
            ? string.Create(CultureInfo.InvariantCulture, $"{(int)duration.TotalMinutes}:{duration.Seconds:D2}")
            : string.Create(CultureInfo.InvariantCulture, $"{(int)duration.TotalHours}:{duration.Minutes:D2}:{duration.Seconds:D2}");
    }

    private string StepLine(StepInfo step, long now)
    {
        var done = step.BatchInEpoch + 1;
        var total = Math.Max(step.BatchesPerEpoch, done);
        var filled = (int)Math.Round(_options.BarWidth * (double)done / total);
        var elapsed = _time.GetElapsedTime(_epochStart, now);
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{step.Stage} {step.Epoch + 1}{Of(step.EpochsInStage)} [");
        text.Append('#', filled).Append('-', _options.BarWidth - filled).Append(']');
        text.Append(CultureInfo.InvariantCulture, $" {done}/{total}");
        if (step.ReadMeanLoss is { } read)
        {
            text.Append(CultureInfo.InvariantCulture, $" loss {read():F4}");
        }

        if (elapsed > TimeSpan.Zero)
        {
            if (_epochSamples > 0)
            {
                text.Append(CultureInfo.InvariantCulture, $" {_epochSamples / elapsed.TotalSeconds:F0} samples/s");
            }

            var remaining = TimeSpan.FromSeconds(elapsed.TotalSeconds / done * (total - done));
            text.Append(" ETA ").Append(FormatDuration(remaining));
        }

        return text.ToString();
    }

    private void StartEpoch()
    {
        _epochStart = _lastDraw = _lastStepTime = _time.GetTimestamp();
        _epochSamples = 0;
        _drawnThisEpoch = false;
    }

    private void ClearLive()
    {
        if (_live && _liveWidth > 0)
        {
            _writer.Write('\r');
            _writer.Write(new string(' ', _liveWidth));
            _writer.Write('\r');
            _liveWidth = 0;
        }
    }

    private void WriteLine(string text)
    {
        ClearLive();
        _writer.WriteLine(text);
        _writer.Flush();
    }
}
