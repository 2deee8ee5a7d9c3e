using FluentAssertions;
using KnowledgeGraphDistillation;
using Xunit;

namespace KnowledgeDistillation.Graph.Tests.Samples;

/// <summary>The KG sample checks every argument, and the data directory's files, before it loads anything.</summary>
public sealed class KnowledgeGraphSampleSettingsTests : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("kd-kg-sample-").FullName;

    public KnowledgeGraphSampleSettingsTests()
    {
        foreach (var split in new[] { "train.txt", "valid.txt", "test.txt" })
        {
            File.WriteAllText(Path.Combine(_data, split), "a\tr\tb\n");
        }
    }

    public void Dispose() => Directory.Delete(_data, recursive: true);

    [Theory]
    [InlineData("--teacher-dim -5", "--teacher-dim must be >= 1, not -5.")]
    [InlineData("--student-dim 0", "--student-dim must be >= 1*")]
    [InlineData("--teacher-epochs 0", "--teacher-epochs must be >= 1*")]
    [InlineData("--stage2-epochs -1", "--stage2-epochs must be >= 0*")]
    [InlineData("--batch 0", "--batch must be >= 1*")]
    [InlineData("--negatives 0", "--negatives must be >= 1*")]
    [InlineData("--lr 0", "--lr must be a positive number*")]
    [InlineData("--lr NaN", "--lr must be a positive number*")]
    [InlineData("--stage2-lr -1", "--stage2-lr must be a positive number*")]
    [InlineData("--adv-temp -1", "--adv-temp must be >= 0*")]
    [InlineData("--margin 0", "--margin must be a positive number*")]
    [InlineData("--model Foo", "--model must be one of TransE, DistMult, ComplEx, RotatE, not 'Foo'.")]
    [InlineData("--threads 0", "--threads must be >= 1*")]
    [InlineData("--valid-every -1", "--valid-every must be >= 0*")]
    [InlineData("--patience 0", "--patience must be >= 1*")]
    [InlineData("--valid-every 0 --patience 3", "--patience needs validation*")]
    [InlineData("--seeds 1,x", "--seeds needs comma-separated integers, not '1,x'.")]
    [InlineData("--seeds ,", "--seeds needs at least one seed.")]
    [InlineData("--teacher-dim five", "--teacher-dim needs an integer, not 'five'.")]
    [InlineData("--lr fast", "--lr needs a number, not 'fast'.")]
    [InlineData("--teacher-dim", "--teacher-dim needs a value.")]
    [InlineData("--bogus 1", "Unknown option '--bogus'*")]
    [InlineData("--teacher-l3 -1", "--teacher-l3 must be >= 0*")]
    [InlineData("--teacher-l3 NaN", "--teacher-l3 must be >= 0*")]
    [InlineData("--model TransE --teacher-l3 1e-6", "--teacher-l3 is the L3 regulariser of ComplEx and DistMult, not of TransE.")]
    [InlineData("--teacher-file /tmp", "--teacher-file must name a file, not the directory '/tmp'.")]
    [InlineData("--checkpoints", "--checkpoints needs a value.")]
    [InlineData("--init-margin -2", "--init-margin must be a number > -2*")]
    [InlineData("--l3 -0.5", "--l3 must be >= 0*")]
    [InlineData("--model RotatE --l3 1e-6", "--l3 is the L3 regulariser of ComplEx and DistMult, not of RotatE.")]
    [InlineData("--init-margin wide", "--init-margin needs a number, not 'wide'.")]
    public void Bad_arguments_fail_with_one_line_naming_the_option(string arguments, string message)
    {
        var args = arguments.Split(' ').Prepend(_data).Prepend("--data").ToArray();
        FluentActions.Invoking(() => Settings.Parse(args)).Should().Throw<ArgumentException>().WithMessage(message)
            .Which.Message.Should().NotContain("\n");
    }

    [Fact]
    public void A_missing_directory_or_split_file_is_reported_before_loading()
    {
        FluentActions.Invoking(() => Settings.Parse(new[] { "--data", Path.Combine(_data, "nope") })).Should().Throw<ArgumentException>().WithMessage("--data: the directory*does not exist.");
        File.Delete(Path.Combine(_data, "valid.txt"));
        FluentActions.Invoking(() => Settings.Parse(new[] { "--data", _data })).Should().Throw<ArgumentException>().WithMessage("--data:*valid.txt' is missing*");
    }

    [Fact]
    public void Good_arguments_parse_and_help_returns_null()
    {
        var s = Settings.Parse(new[] { "--data", _data, "--model", "RotatE", "--seeds", "0,1,2", "--valid-every", "0", "--lr", "1e-3" })!;
        s.Model.Should().Be("RotatE");
        s.Seeds.Should().Equal(0, 1, 2);
        s.ValidEvery.Should().Be(0);
        s.LearningRate.Should().Be(1e-3);
        s.SkipScoreKd.Should().BeFalse();
        Settings.Parse(new[] { "--data", _data, "--no-score-kd" })!.SkipScoreKd.Should().BeTrue();
        s.SkipDualDE.Should().BeFalse();
        Settings.Parse(new[] { "--data", _data, "--no-dualde" })!.SkipDualDE.Should().BeTrue();
        s.CalibrateTeacher.Should().BeFalse();
        Settings.Parse(new[] { "--data", _data, "--calibrate-teacher" })!.CalibrateTeacher.Should().BeTrue();
        Settings.Parse(new[] { "--help" }).Should().BeNull();
    }
}
