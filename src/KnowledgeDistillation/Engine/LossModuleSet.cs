using TorchSharp;
using static TorchSharp.torch;
using TorchSharp.Modules;

namespace KnowledgeDistillation.Engine;

/// <summary>
/// Every module the run's losses own (trained in some stage or frozen), in a fixed order for device moves and checkpoints,
/// and the per-stage freezing of <see cref="IDistillationLoss.FrozenModules"/>: their parameters leave autograd while the
/// stage runs and get their original <c>requires_grad</c> back afterwards.
/// </summary>
internal sealed class LossModuleSet
{
    private readonly Dictionary<Parameter, bool> _originalRequiresGrad = new();

    public LossModuleSet(IEnumerable<DistillationStage> stages)
    {
        var all = new List<nn.Module>();
        foreach (var stage in stages)
        {
            var trained = stage.Loss.TrainableModules;
            var frozen = stage.Loss.FrozenModules;
            var both = trained.Intersect(frozen).FirstOrDefault();
            if (both is not null)
            {
                throw new ArgumentException(
                    $"Stage '{stage.Name}': loss '{stage.Loss.Name}' lists a {both.GetType().Name} both as trainable and as frozen; a module is one or the other within a stage.",
                    "stages");
            }

            all.AddRange(trained.Concat(frozen));
        }

        All = all.Distinct().ToArray();
    }

    /// <summary>The distinct modules of every stage's loss, trained ones and frozen ones.</summary>
    public IReadOnlyList<nn.Module> All { get; }

    /// <summary>Freezes the stage's frozen modules and restores every other loss module's parameters.</summary>
    public void EnterStage(DistillationStage stage)
    {
        Restore();
        foreach (var parameter in stage.Loss.FrozenModules.SelectMany(m => m.parameters()))
        {
            _originalRequiresGrad.TryAdd(parameter, parameter.requires_grad);
            parameter.requires_grad = false;
        }
    }

    /// <summary>Gives every frozen parameter its original <c>requires_grad</c> back.</summary>
    public void Restore()
    {
        foreach (var (parameter, requiresGrad) in _originalRequiresGrad)
        {
            parameter.requires_grad = requiresGrad;
        }

        _originalRequiresGrad.Clear();
    }
}
