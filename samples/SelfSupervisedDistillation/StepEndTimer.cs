using System.Diagnostics;
using KnowledgeDistillation;
using TorchSharp;

namespace SelfSupervisedDistillation;

/// <summary>Wraps a term and times its <c>OnStepEnd</c> (queue / key-encoder updates); everything else is passed through.</summary>
internal sealed class StepEndTimer(IDistillationLoss inner) : IDistillationLoss, IDisposable
{
    private readonly Stopwatch _clock = new();

    public double Seconds => _clock.Elapsed.TotalSeconds;

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
    }

    public void OnEpochEnd(LossEpochInfo epoch) => inner.OnEpochEnd(epoch);

    public void Dispose() => (inner as IDisposable)?.Dispose();
}
