using System.Globalization;
using FluentAssertions;
using KnowledgeDistillation.Engine;
using Microsoft.Extensions.Logging;
using Xunit;

namespace KnowledgeDistillation.Tests.Engine.Reporting;

public sealed class ConsoleProgressTests
{
    [Fact]
    public void Live_mode_redraws_one_line_per_step_with_loss_throughput_and_eta_then_an_epoch_summary()
    {
        var clock = new ManualClock();
        var output = new StringWriter();
        var result = ReportingRun.Fit(d =>
        {
            d.Callbacks.Add(new StepTime(clock, TimeSpan.FromSeconds(2)));
            d.UseConsoleProgress(output, new ConsoleProgressOptions { Live = true, RefreshInterval = TimeSpan.Zero, TimeProvider = clock });
        });

        var text = output.ToString();
        var lines = text.Split(Environment.NewLine);
        lines[0].Should().Be("stage distill");

        // Step 1 of 4: 16 samples in 2 s = 8 samples/s; 3 batches left at 2 s each = 6 s.
        var redraws = lines[1].Split('\r', StringSplitOptions.RemoveEmptyEntries).Select(r => r.TrimEnd()).Where(r => r.Length > 0).ToArray();
        redraws[0].Should().MatchRegex(@"^distill 1/2 \[######-+\] 1/4 loss \d+\.\d{4} 8 samples/s ETA 6\.0s$");
        redraws[3].Should().StartWith("distill 1/2 [########################] 4/4").And.EndWith("8 samples/s ETA 0.0s");

        // The last redraw of an epoch shows the epoch's mean loss, the same value the epoch record holds.
        var first = result.History[0];
        redraws[3].Should().Contain(string.Create(CultureInfo.InvariantCulture, $"loss {first.Loss:F4}"));

        // The live line is cleared before the summary, which names the loss parts, metrics, time and throughput.
        var summary = redraws[^1];
        summary.Should().StartWith(string.Create(CultureInfo.InvariantCulture, $"distill epoch 1/2: loss {first.Loss:F4} (")).And.Contain(" kd ");
        summary.Should().Contain("| train student.accuracy ").And.Contain("| eval student.accuracy ").And.EndWith("8 samples/s");
        text.Should().Contain("distill epoch 2/2: loss").And.Contain("done in");
    }

    [Fact]
    public void Redirected_output_gets_plain_lines_at_the_line_interval_and_no_carriage_returns()
    {
        var clock = new ManualClock();
        var output = new StringWriter();
        var progress = new ConsoleProgress(output, new ConsoleProgressOptions { LineInterval = TimeSpan.FromSeconds(5), TimeProvider = clock });
        progress.IsLive.Should().BeFalse("a writer other than the console is never live unless asked");
        ReportingRun.Fit(d =>
        {
            d.Callbacks.Add(new StepTime(clock, TimeSpan.FromSeconds(2)));
            d.Callbacks.Add(progress);
        });

        var text = output.ToString();
        text.Should().NotContain("\r");
        var lines = text.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);

        // 2 s per step, a line every >= 5 s: at step 3 (6 s) only; the last step's line is the summary instead.
        lines.Should().HaveCount(1 + 2 * 2 + 1);
        lines[1].Should().MatchRegex(@"^distill 1/2 \[#+-+\] 3/4 loss \d+\.\d{4} 8 samples/s ETA 2\.0s$");
        lines[2].Should().StartWith("distill epoch 1/2: loss ");
        lines[3].Should().StartWith("distill 2/2 [").And.Contain(" 3/4 ");
        lines[^1].Should().StartWith("done in ");
    }

    [Fact]
    public void Invalid_options_name_the_option()
    {
        var act = () => new ConsoleProgress(TextWriter.Null, new ConsoleProgressOptions { BarWidth = 0 });
        act.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("BarWidth");
        var interval = () => new ConsoleProgress(TextWriter.Null, new ConsoleProgressOptions { LineInterval = TimeSpan.FromSeconds(-1) });
        interval.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("LineInterval");
    }

    [Fact]
    public void Durations_are_short_and_readable()
    {
        ConsoleProgress.FormatDuration(TimeSpan.FromSeconds(4.26)).Should().Be("4.3s");
        ConsoleProgress.FormatDuration(TimeSpan.FromSeconds(125)).Should().Be("2:05");
        ConsoleProgress.FormatDuration(TimeSpan.FromSeconds(3725)).Should().Be("1:02:05");
    }

    [Fact]
    public void Read_mean_loss_works_during_the_step_only_and_progress_handlers_do_not_get_it()
    {
        var reads = new List<double>();
        Func<double>? kept = null;
        var progressReaders = new List<Func<double>?>();
        var result = ReportingRun.Fit(
            d =>
            {
                d.Callbacks.Add(new ReadingCallback(step =>
                {
                    reads.Add(step.ReadMeanLoss!());
                    kept = step.ReadMeanLoss;
                }));
                d.Progress = new SynchronousProgress(step => progressReaders.Add(step.ReadMeanLoss));
            },
            epochs: 1);

        reads.Should().HaveCount(4);
        reads[^1].Should().BeApproximately(result.History[0].Loss, 1e-12, "after the last step the running mean is the epoch's mean");
        progressReaders.Should().HaveCount(4).And.OnlyContain(r => r == null);
        var late = () => kept!();
        late.Should().Throw<InvalidOperationException>().WithMessage("*only be called during IDistillationCallback.OnStepEnd*");
    }

    [Fact]
    public void Every_step_is_logged_at_debug_level_with_the_running_loss_and_throughput()
    {
        var logger = new ListLogger(LogLevel.Debug);
        ReportingRun.Fit(_ => { }, epochs: 1, logger: logger);
        var steps = logger.Messages.Where(m => m.Level == LogLevel.Debug).Select(m => m.Text).ToArray();
        steps.Should().HaveCount(4);
        steps[0].Should().MatchRegex(@"^Stage distill epoch 1/1 batch 1/4 \(step 0\): mean loss \d+\.\d{4}, \d+\.\d samples/s$");

        var quiet = new ListLogger(LogLevel.Information);
        ReportingRun.Fit(_ => { }, epochs: 1, logger: quiet);
        quiet.Messages.Should().NotContain(m => m.Level == LogLevel.Debug);
    }

    private sealed class ReadingCallback(Action<StepInfo> onStep) : IDistillationCallback
    {
        public void OnStepEnd(StepInfo step) => onStep(step);
    }

    private sealed class SynchronousProgress(Action<StepInfo> report) : IProgress<StepInfo>
    {
        public void Report(StepInfo value) => report(value);
    }

    private sealed class ListLogger(LogLevel minimum) : ILogger
    {
        public List<(LogLevel Level, string Text)> Messages { get; } = new();

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                Messages.Add((logLevel, formatter(state, exception)));
            }
        }
    }
}
