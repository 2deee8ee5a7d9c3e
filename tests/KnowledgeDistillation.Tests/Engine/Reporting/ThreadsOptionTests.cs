using FluentAssertions;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Tests.Support;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Engine.Reporting;

[Collection(SerialCollection.Name)]
public sealed class ThreadsOptionTests
{
    [Fact]
    public void Fit_runs_with_the_configured_threads_and_restores_the_previous_count()
    {
        var before = get_num_threads();
        var wanted = before == 1 ? 2 : 1;
        var seen = new List<int>();
        ReportingRun.Fit(d => d.Callbacks.Add(new ThreadProbe(seen)), epochs: 1, options: new DistillerOptions { Threads = wanted });
        seen.Should().NotBeEmpty().And.OnlyContain(t => t == wanted);
        get_num_threads().Should().Be(before);

        seen.Clear();
        ReportingRun.Fit(d => d.Callbacks.Add(new ThreadProbe(seen)), epochs: 1, options: new DistillerOptions { Threads = null });
        seen.Should().OnlyContain(t => t == before, "null leaves TorchSharp's count alone");
    }

    [Fact]
    public void Threads_below_one_are_rejected_by_name()
    {
        var options = new DistillerOptions { Threads = 0 };
        var act = options.Validate;
        act.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("Threads");
    }

    private sealed class ThreadProbe(List<int> seen) : IDistillationCallback
    {
        public void OnStepEnd(StepInfo step) => seen.Add(get_num_threads());
    }
}
