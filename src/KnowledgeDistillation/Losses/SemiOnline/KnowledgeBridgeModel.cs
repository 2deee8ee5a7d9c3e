using KnowledgeDistillation.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// Evaluation view of a SOKD knowledge bridge: the teacher's forward, then the bridge on the teacher's captured feature.
/// Created by <see cref="SemiOnlineLoss.BridgeModel"/>; it owns nothing (disposing it leaves the bridge and teacher alone).
/// </summary>
internal sealed class KnowledgeBridgeModel : IDistillationModel
{
    private readonly IDistillationModel _teacher;
    private readonly string _feature;
    private readonly nn.Module<Tensor, Tensor> _bridge;

    public KnowledgeBridgeModel(string name, IDistillationModel teacher, string feature, nn.Module<Tensor, Tensor> bridge)
    {
        Name = name;
        _teacher = teacher;
        _feature = feature;
        _bridge = bridge;
    }

    public string Name { get; }

    public nn.Module Module => _bridge;

    public ModelOutput Forward(Batch batch)
    {
        var teacherOutput = _teacher.Forward(batch);
        return new ModelOutput(_bridge.call(teacherOutput.Feature(_feature, _teacher.Name)));
    }

    public void Dispose()
    {
    }
}
