using TorchSharp;
using TorchSharp.Modules;

namespace KnowledgeDistillation.Engine;

/// <summary>Clips gradients by their global norm (<see cref="DistillerOptions.MaxGradNorm"/>), or does nothing.</summary>
internal sealed class GradientClipper
{
    private readonly double? _maxNorm;

    public GradientClipper(double? maxNorm)
    {
        _maxNorm = maxNorm;
    }

    /// <summary>Whether clipping is on (callers skip building parameter lists otherwise).</summary>
    public bool Enabled => _maxNorm is not null;

    public void Clip(IReadOnlyList<Parameter> parameters)
    {
        if (_maxNorm is { } maxNorm && parameters.Count > 0)
        {
            torch.nn.utils.clip_grad_norm_(parameters, maxNorm);
        }
    }
}
