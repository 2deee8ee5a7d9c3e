using System.Diagnostics;
using KnowledgeDistillation;
using TorchSharp;

namespace MethodComparison;

/// <summary>Wraps a term and times its <c>OnStepEnd</c> (CRD's memory-bank update); everything else is passed through.</summary>
internal sealed class TimedStepEnd(IDistillationLoss inner) : IDistillationLoss, IDisposable
{
    private readonly Stopwatch _clock = new();

    /// <summary>Seconds spent in the inner term's <c>OnStepEnd</c> so far.</summary>
    public double Seconds => _clock.Elapsed.TotalSeconds;

    /// <summary>Calls of <c>OnStepEnd</c> so far.</summary>
    public long Steps { get; private set; }

    public string Name => inner.Name;

    public LossRequirements Requirements => inner.Requirements;

    public IReadOnlyList<torch.nn.Module> TrainableModules => inner.TrainableModules;

    public IReadOnlyList<torch.nn.Module> FrozenModules => inner.FrozenModules;

    public IReadOnlyList<ILossState> State => inner.State;

    public LossResult Compute(DistillationContext context) => inner.Compute(context);

    public void OnStepEnd(DistillationContext context)
    {
        _clock.Start();
        inner.OnStepEnd(context);
        _clock.Stop();
        Steps++;
    }

    public void OnEpochEnd(LossEpochInfo epoch) => inner.OnEpochEnd(epoch);

    public void Dispose() => (inner as IDisposable)?.Dispose();
}
