using FluentAssertions;
using KnowledgeDistillation.Tuning;
using Xunit;

namespace KnowledgeDistillation.Tests.Tuning;

public sealed class TrialParametersTests
{
    private static TrialParameters Trial() => new HyperparameterSearch(
            new SearchSpace()
                .LogUniform("lr", 1e-4, 1e-1)
                .Integer("epochs", 10, 50)
                .Categorical("act", "relu", "gelu")
                .Categorical("bn", true, false)
                .Categorical("big", 5_000_000_000L, 6_000_000_000L),
            new HyperparameterSearchOptions { MaxTrials = 1, Seed = 3 })
        .Trial(0);

    [Fact]
    public void Typed_accessors_read_each_kind_and_allow_lossless_numeric_conversions()
    {
        var trial = Trial();

        trial.Index.Should().Be(0);
        trial.Seed.Should().BeGreaterThanOrEqualTo(0);
        trial.Names.Should().Equal("lr", "epochs", "act", "bn", "big");
        trial.Get<double>("lr").Should().BeInRange(1e-4, 1e-1);
        trial.GetDouble("lr").Should().Be(trial.Get<double>("lr"));
        trial.Get<float>("lr").Should().Be((float)trial.GetDouble("lr"));
        trial.GetInt("epochs").Should().BeInRange(10, 50);
        trial.GetLong("epochs").Should().Be(trial.GetInt("epochs"));
        trial.GetDouble("epochs").Should().Be(trial.GetInt("epochs"));
        trial.GetString("act").Should().BeOneOf("relu", "gelu");
        trial.GetBool("bn").Should().Be(trial.Get<bool>("bn"));
        trial.GetLong("big").Should().BeOneOf(5_000_000_000L, 6_000_000_000L);
        trial.Get<object>("act").Should().Be(trial.Values["act"]);
        trial.Contains("lr").Should().BeTrue();
        trial.Contains("momentum").Should().BeFalse();
        trial.ToString().Should().StartWith("lr=").And.Contain(", epochs=").And.Contain(", act=");
    }

    [Fact]
    public void Unknown_names_and_wrong_types_are_clear_errors()
    {
        var trial = Trial();

        FluentActions.Invoking(() => trial.GetDouble("momentum")).Should().Throw<KeyNotFoundException>()
            .WithMessage("*'momentum'*lr, epochs, act, bn, big*");
        FluentActions.Invoking(() => trial.GetInt("lr")).Should().Throw<InvalidCastException>()
            .WithMessage("*'lr'*double*cannot be read as Int32*");
        FluentActions.Invoking(() => trial.GetString("epochs")).Should().Throw<InvalidCastException>()
            .WithMessage("*'epochs'*int*String*");
        FluentActions.Invoking(() => trial.GetDouble("act")).Should().Throw<InvalidCastException>()
            .WithMessage("*'act'*string*Double*");
        FluentActions.Invoking(() => trial.GetInt("big")).Should().Throw<InvalidCastException>()
            .WithMessage("*'big'*long*Int32*", "a long that does not fit in an int is not truncated");
        FluentActions.Invoking(() => trial.GetBool("act")).Should().Throw<InvalidCastException>();
    }
}
