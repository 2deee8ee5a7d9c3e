using FluentAssertions;
using KnowledgeDistillation.Engine;
using Xunit;

namespace KnowledgeDistillation.Tests.Engine.Reporting;

public sealed class RunTrackingTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("kd-run-tracking-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void For_gives_progress_and_the_three_writers_under_the_run_name_and_keeps_earlier_files_unless_told()
    {
        var callbacks = RunTracking.For(_directory, "kd t=4/seed 1");
        callbacks.Select(c => c.GetType()).Should().Equal(
            typeof(ConsoleProgress), typeof(CsvMetricsWriter), typeof(JsonLinesMetricsWriter), typeof(TensorBoardWriter));
        var csv = Path.Combine(_directory, "metrics", "kd-t-4-seed-1.csv");
        var events = Path.Combine(_directory, "runs", "kd-t-4-seed-1");
        File.WriteAllText(csv, "earlier run\n");
        Directory.CreateDirectory(events);

        RunTracking.For(_directory, "kd t=4/seed 1");
        File.Exists(csv).Should().BeTrue("by default the writers append to an earlier run's files");

        RunTracking.For(_directory, "kd t=4/seed 1", replaceExisting: true);
        File.Exists(csv).Should().BeFalse();
        Directory.Exists(events).Should().BeFalse();
    }

    [Fact]
    public void For_names_an_empty_run()
    {
        var act = () => RunTracking.For(_directory, " ");
        act.Should().Throw<ArgumentException>().WithParameterName("run");
    }
}
