using System.Globalization;
using System.Text.Json;
using FluentAssertions;
using KnowledgeDistillation.Engine;
using Xunit;

namespace KnowledgeDistillation.Tests.Engine.Reporting;

public sealed class MetricsWriterTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"kd-metrics-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public void Csv_rows_read_back_to_the_history_and_a_second_run_appends_without_a_second_header()
    {
        var path = Path.Combine(_directory, "sub", "metrics.csv");
        var first = ReportingRun.Fit(d => d.UseCsvMetrics(path));
        var second = ReportingRun.Fit(d => d.UseCsvMetrics(path), epochs: 1);

        var lines = File.ReadAllLines(path);
        lines[0].Should().Be("stage,epoch,step,name,value");
        lines.Count(l => l == CsvMetricsWriter.Header).Should().Be(1);
        var rows = lines.Skip(1).Select(l => l.Split(',')).ToArray();
        rows.Should().OnlyContain(r => r.Length == 5);

        var history = first.History.Select((r, i) => (Record: r, Step: (i + 1) * 4L)).Concat(second.History.Select(r => (Record: r, Step: 4L))).ToArray();
        var expected = history.SelectMany(h => Expected(h.Record).Select(e => (h.Record.Stage, Epoch: h.Record.Epoch + 1, h.Step, e.Name, e.Value))).ToArray();
        rows.Should().HaveCount(expected.Length);
        for (var i = 0; i < rows.Length; i++)
        {
            rows[i][0].Should().Be(expected[i].Stage);
            int.Parse(rows[i][1], CultureInfo.InvariantCulture).Should().Be(expected[i].Epoch);
            long.Parse(rows[i][2], CultureInfo.InvariantCulture).Should().Be(expected[i].Step);
            rows[i][3].Should().Be(expected[i].Name);
            double.Parse(rows[i][4], CultureInfo.InvariantCulture).Should().Be(expected[i].Value, "values are written with round-trip precision");
        }
    }

    [Fact]
    public void Json_lines_read_back_to_the_history()
    {
        var path = Path.Combine(_directory, "metrics.jsonl");
        var result = ReportingRun.Fit(d => d.UseJsonLinesMetrics(path));

        var lines = File.ReadAllLines(path);
        lines.Should().HaveCount(2);
        for (var i = 0; i < lines.Length; i++)
        {
            using var json = JsonDocument.Parse(lines[i]);
            var root = json.RootElement;
            var record = result.History[i];
            root.GetProperty("stage").GetString().Should().Be("distill");
            root.GetProperty("epoch").GetInt32().Should().Be(i + 1);
            root.GetProperty("step").GetInt64().Should().Be((i + 1) * 4);
            root.GetProperty("steps").GetInt32().Should().Be(4);
            root.GetProperty("loss").GetDouble().Should().Be(record.Loss);
            root.GetProperty("lossParts").EnumerateObject().Select(p => (p.Name, p.Value.GetDouble()))
                .Should().Equal(record.LossParts.Select(p => (p.Key, p.Value)));
            root.GetProperty("train").GetProperty("student").GetProperty("accuracy").GetDouble().Should().Be(record.TrainMetrics["student"]["accuracy"]);
            root.GetProperty("eval").GetProperty("student").GetProperty("accuracy").GetDouble().Should().Be(record.EvalMetrics["student"]["accuracy"]);
            root.GetProperty("learningRate").GetDouble().Should().Be(record.LearningRate);
            root.GetProperty("seconds").GetDouble().Should().BeApproximately(record.Duration.TotalSeconds, 1e-9);
            root.GetProperty("time").GetDateTimeOffset().Should().BeCloseTo(DateTimeOffset.UtcNow, TimeSpan.FromMinutes(10));
        }
    }

    [Fact]
    public void Writers_reject_a_blank_path()
    {
        var csv = () => new CsvMetricsWriter(" ");
        csv.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("path");
        var jsonl = () => new JsonLinesMetricsWriter("");
        jsonl.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("path");
        var tb = () => new TensorBoardWriter(" ");
        tb.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("logDirectory");
    }

    /// <summary>The names and values a record must produce, built here from the record's own properties.</summary>
    internal static IEnumerable<(string Name, double Value)> Expected(EpochRecord record)
    {
        yield return ("loss", record.Loss);
        foreach (var part in record.LossParts)
        {
            yield return ("loss/" + part.Key, part.Value);
        }

        foreach (var participant in record.TrainMetrics)
        {
            foreach (var metric in participant.Value)
            {
                yield return ($"train/{participant.Key}/{metric.Key}", metric.Value);
            }
        }

        foreach (var participant in record.EvalMetrics)
        {
            foreach (var metric in participant.Value)
            {
                yield return ($"eval/{participant.Key}/{metric.Key}", metric.Value);
            }
        }

        yield return ("lr", record.LearningRate);
        yield return ("seconds", record.Duration.TotalSeconds);
    }
}
