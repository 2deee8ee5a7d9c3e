using System.Text.Json;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Losses;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Losses;

internal sealed record MultiTeacherCase(string Weighting, double Temperature, double[]? FixedWeights, double Value, FlatTensor Weights, FlatTensor Grad);

internal sealed record LearnedMultiTeacherCase(
    double Temperature,
    double WeightingLossWeight,
    FlatTensor Weight,
    FlatTensor Bias,
    double Value,
    double Kd,
    double WeightingCe,
    FlatTensor Weights,
    FlatTensor Grad,
    FlatTensor WeightGrad,
    FlatTensor BiasGrad);

internal sealed record MultiTeacherFixtureFile(
    string TorchVersion,
    int Seed,
    FlatTensor Student,
    FlatTensor[] Teachers,
    long[] Labels,
    MultiTeacherCase[] Cases,
    LearnedMultiTeacherCase Learned);

/// <summary>
/// Reads Fixtures/multi_teacher_terms.json, written by tests/fixtures/generate_multi_teacher_fixtures.py (PyTorch 1.13,
/// float64, the CA-MKD authors' formulas), and builds contexts with a student and teachers "t0", "t1", "t2".
/// </summary>
internal static class MultiTeacherFixtures
{
    private static readonly Lazy<MultiTeacherFixtureFile> File = new(Load);

    public static MultiTeacherFixtureFile Data => File.Value;

    public static string[] TeacherNames => Enumerable.Range(0, Data.Teachers.Length).Select(k => $"t{k}").ToArray();

    public static TeacherWeighting Weighting(string name) => Enum.Parse<TeacherWeighting>(name, ignoreCase: true);

    /// <summary>A context from the fixture: the given student logits, the teachers' logits (leaves that require grad) and the labels.</summary>
    public static (DistillationContext Context, Tensor[] Teachers) Context(Tensor student, Device? device = null, int epoch = 0)
    {
        device ??= CPU;
        var teachers = Data.Teachers.Select(t => t.ToTensor().to(device).requires_grad_()).ToArray();
        var outputs = new Dictionary<string, ModelOutput> { ["student"] = new(student) };
        for (var k = 0; k < teachers.Length; k++)
        {
            outputs[$"t{k}"] = new ModelOutput(teachers[k]);
        }

        var batchSize = student.shape[0];
        var batch = new Batch(zeros(batchSize, 1, ScalarType.Float64, device), tensor(Data.Labels, ScalarType.Int64, device), arange(batchSize, ScalarType.Int64, device));
        return (new DistillationContext(batch, outputs, epoch: epoch), teachers);
    }

    /// <summary>The learned weighting's network with the fixture's weights, float64.</summary>
    public static TeacherWeightingNetwork FixtureNetwork()
    {
        var network = new TeacherWeightingNetwork(Data.Teachers.Length, (int)Data.Student.Shape[1]);
        network.to(ScalarType.Float64);
        var parameters = network.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        using var noGrad = no_grad();
        parameters.Single(p => p.Key.EndsWith("weight", StringComparison.Ordinal)).Value.copy_(Data.Learned.Weight.ToTensor());
        parameters.Single(p => p.Key.EndsWith("bias", StringComparison.Ordinal)).Value.copy_(Data.Learned.Bias.ToTensor());
        return network;
    }

    private static MultiTeacherFixtureFile Load()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "multi_teacher_terms.json");
        using var stream = System.IO.File.OpenRead(path);
        var options = new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
        return JsonSerializer.Deserialize<MultiTeacherFixtureFile>(stream, options) ?? throw new InvalidOperationException($"Could not read {path}.");
    }
}
