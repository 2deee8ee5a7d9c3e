using FluentAssertions;
using Xunit;

namespace KnowledgeDistillation.Detection.Tests.Samples;

/// <summary>The detection sample checks its arguments before it reads any data; a bad one is a one-line message (exit code 2).</summary>
public sealed class DetectionSampleSettingsTests
{
    [Theory]
    [InlineData("--mode nonsense", "--mode must be teacher, student, icd-aux, bench-step or aux-probe, not 'nonsense'.")]
    [InlineData("--method kd", "--method must be alone, fpn-mse or icd, not 'kd'.")]
    [InlineData("--probe-variant x", "--probe-variant must be icd, no-position, exact-centre or unit-scale, not 'x'.")]
    [InlineData("--box-output foo", "--box-output must be exponential or scaled-relu, not 'foo'.")]
    [InlineData("--epochs x", "--epochs needs an integer, not 'x'.")]
    [InlineData("--lr NaN", "--lr needs a number, not 'NaN'.")]
    [InlineData("--epochs 0", "--epochs, --batch, --threads, --steps, --heads and --probe-every must be >= 1*")]
    [InlineData("--image-size 16", "*--image-size >= 32.")]
    [InlineData("--seed", "'--seed' needs a value.")]
    [InlineData("--colour red", "Unknown option '--colour'.")]
    [InlineData("--method alone --icd-aux results/icd-aux-seed0", "--icd-aux loads ICD's auxiliary modules: it needs --mode student --method icd.")]
    [InlineData("--mode teacher --method icd --icd-aux results/icd-aux-seed0", "--icd-aux loads*")]
    [InlineData("--method fpn-mse --aux-epochs 3", "--aux-epochs adds ICD's auxiliary-task stage: it needs --mode student --method icd.")]
    [InlineData("--method icd --aux-epochs -1", "--aux-epochs must be >= 0, --aux-lr and --aux-stage-lr > 0.")]
    [InlineData("--method icd --aux-stage-lr 0", "--aux-epochs must be >= 0*")]
    public void Bad_arguments_are_refused_with_a_message_naming_the_option(string arguments, string message)
    {
        var act = () => Settings.Parse(arguments.Split(' '));
        act.Should().Throw<ArgumentException>().WithMessage(message);
    }

    [Fact]
    public void Defaults_and_a_full_command_line_parse()
    {
        var defaults = Settings.Parse(Array.Empty<string>());
        defaults.Mode.Should().Be("student");
        defaults.BoxOutput.Should().Be("exponential");
        var s = Settings.Parse("--mode teacher --epochs 24 --image-size 256 --lr 2e-3 --box-output scaled-relu --seed 3".Split(' '));
        (s.Mode, s.Epochs, s.ImageSize, s.LearningRate, s.BoxOutput, s.Seed).Should().Be(("teacher", 24, 256, 2e-3, "scaled-relu", 3));
        var icd = Settings.Parse("--method icd --aux-epochs 40 --aux-stage-lr 2e-3 --warmup-steps 0".Split(' '));
        (icd.AuxEpochs, icd.AuxStageLearningRate, icd.WarmupSteps).Should().Be((40, 2e-3, 0));
    }
}
