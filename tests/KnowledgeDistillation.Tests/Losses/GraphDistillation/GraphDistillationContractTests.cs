using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Tests.Support;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Losses;

/// <summary>The loss contract for the logits graph with the Sinkhorn EMD and the entropy bonus (gradient check covers the edge logits).</summary>
public sealed class LogitsGraphLossContractTests : LossContractTests
{
    private static readonly LogitsGraphCase Reference = GraphDistillationFixtures.Data.LogitsCases.Single(c => c.Distance == "emd-sinkhorn" && c.EdgeEntropyWeight > 0);

    protected override IDistillationLoss CreateLoss() => GraphDistillationFixtures.LogitsLoss(Reference);

    protected override LossContractCase CreateCase(Device device)
    {
        var student = GraphDistillationFixtures.Data.Student.ToTensor().to(device).requires_grad_();
        var (context, frozen) = GraphDistillationFixtures.Context(student, device: device);
        return new LossContractCase(context, [("student", student)], frozen.Select((t, k) => ($"frozen{k}", t)).ToArray(), Reference.Value);
    }

    protected override IEnumerable<LossBadInput> BadInputs => base.BadInputs.Concat(LogitsBadInputs(["student", "t2"], readsLabels: false));
}

/// <summary>The loss contract for the representation graph (compact bilinear pooling, MMD); the gradient check covers adapters and edge logits.</summary>
public sealed class RepresentationGraphLossContractTests : LossContractTests
{
    private static readonly RepresentationCase Reference = GraphDistillationFixtures.Data.Representation.Cases.Single(c => c.Pooling == "compact-bilinear" && c.Matching == "mmd");

    protected override IDistillationLoss CreateLoss() => GraphDistillationFixtures.RepresentationLoss(Reference);

    protected override LossContractCase CreateCase(Device device)
    {
        var logits = GraphDistillationFixtures.Data.Student.ToTensor().to(device);
        var feature = GraphDistillationFixtures.Data.Representation.StudentFeature.ToTensor().to(device).requires_grad_();
        var (context, frozen) = GraphDistillationFixtures.Context(logits, feature, device);
        return new LossContractCase(context, [("student.embedding", feature)], frozen.Select((t, k) => ($"frozen{k}", t)).ToArray(), Reference.Value);
    }

    protected override IEnumerable<LossBadInput> BadInputs => base.BadInputs.Concat(
    [
        new("the student's feature missing", c => WithOutput(c, "student", new ModelOutput(c.Context.Output("student").Logits)), typeof(KeyNotFoundException)),
        new("the student's feature of another width", c => WithFeature(c, "student", zeros(6, 9, ScalarType.Float64)), typeof(ArgumentException)),
        new("a teacher's feature of another width", c => WithFeature(c, "t1", zeros(6, 4, ScalarType.Float64)), typeof(ArgumentException)),
        new("a teacher's feature of another batch size", c => WithFeature(c, "t2", zeros(5, 6, ScalarType.Float64)), typeof(ArgumentException)),
        new("a 1-D student feature", c => WithFeature(c, "student", zeros(8, ScalarType.Float64)), typeof(ArgumentException)),
        new("integer teacher features", c => WithFeature(c, "t0", zeros(6, 7, ScalarType.Int64)), typeof(ArgumentException)),
    ]);

    private static DistillationContext WithFeature(LossContractCase c, string participant, Tensor feature) =>
        WithOutput(c, participant, new ModelOutput(c.Context.Output(participant).Logits, new Dictionary<string, Tensor> { ["embedding"] = feature }));
}
