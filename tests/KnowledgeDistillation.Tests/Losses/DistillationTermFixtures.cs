using System.Text.Json;
using FluentAssertions;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Losses;

internal sealed record TermLogits(FlatTensor Student, FlatTensor Teacher, long[] Labels);

internal sealed record DkdReference(double Alpha, double Beta, double Temperature, int WarmupEpochs, int Epoch, double Value, double Tckd, double Nckd, FlatTensor Grad);

internal sealed record DistReference(double Beta, double Gamma, double Tau, double Value, double Inter, double Intra, FlatTensor Grad);

internal sealed record StandardizedReference(string Term, double Temperature, double Value, FlatTensor Grad);

internal sealed record TermFeatures(FlatTensor Student1, FlatTensor Teacher1, FlatTensor Student2, FlatTensor Teacher2);

internal sealed record StagedReference(double P, double Value, double[] Stages, FlatTensor Grad1, FlatTensor Grad2);

internal sealed record TermEmbeddings(FlatTensor Student, FlatTensor Teacher);

internal sealed record SpReference(double Value, FlatTensor Grad, double MapValue, FlatTensor MapGrad);

internal sealed record EmbeddingReference(double Value, FlatTensor Grad);

internal sealed record RkdReference(double DistanceWeight, double AngleWeight, double Value, double Distance, double Angle, FlatTensor Grad);

internal sealed record HintReference(Dictionary<string, FlatTensor> Weights, double Value, FlatTensor Grad, Dictionary<string, FlatTensor> WeightGrads);

internal sealed record DistillationTermFixtureFile(
    string TorchVersion,
    int Seed,
    TermLogits Logits,
    DkdReference[] Dkd,
    DistReference[] Dist,
    StandardizedReference[] Standardized,
    TermFeatures Features,
    StagedReference[] At,
    StagedReference Nst,
    TermEmbeddings Embeddings,
    SpReference Sp,
    EmbeddingReference Pkt,
    RkdReference Rkd,
    HintReference Hint);

/// <summary>
/// Reads Fixtures/distillation_terms.json, written by tests/fixtures/generate_distillation_term_fixtures.py (PyTorch 1.13,
/// float64, the authors' formulas), and builds the contract cases of the issue-14 terms from it.
/// </summary>
internal static class DistillationTermFixtures
{
    private static readonly Lazy<DistillationTermFixtureFile> File = new(Load);

    public static DistillationTermFixtureFile Data => File.Value;

    /// <summary>Asserts that <paramref name="actual"/> has the reference's shape and values within <paramref name="tolerance"/> (relative above 1).</summary>
    public static void ShouldMatch(this Tensor actual, FlatTensor expected, double tolerance, string what)
    {
        actual.shape.Should().Equal(expected.Shape, "{0}: shape", what);
        var values = actual.detach().cpu().to_type(ScalarType.Float64).contiguous().data<double>().ToArray();
        var worst = values.Zip(expected.Data, (a, e) => Math.Abs(a - e) / Math.Max(1.0, Math.Abs(e))).Max();
        worst.Should().BeLessThanOrEqualTo(tolerance, "{0} must match PyTorch", what);
    }

    /// <summary>The value of <paramref name="loss"/> and its gradient w.r.t. fresh float64 leaf copies of <paramref name="inputs"/>.</summary>
    public static (double Value, Tensor[] Grads) ValueAndGrads(Func<Tensor[], Tensor> loss, params Tensor[] inputs)
    {
        var leaves = inputs.Select(i => i.detach().clone().requires_grad_()).ToArray();
        var value = loss(leaves);
        value.backward();
        return (value.item<double>(), leaves.Select(l => l.grad ?? throw new InvalidOperationException("No gradient reached an input.")).ToArray());
    }

    /// <summary>
    /// A contract case whose student and teacher output the given features (the student's are trainable leaves, the
    /// teacher's frozen leaves), with logits [batch, 3] and labels so that terms reading neither still see a full output.
    /// </summary>
    public static LossContractCase FeatureCase(Device device, IReadOnlyList<(string Name, FlatTensor Value)> student, IReadOnlyList<(string Name, FlatTensor Value)> teacher, double? expected)
    {
        Tensor Leaf(FlatTensor t) => t.ToTensor().to(device).requires_grad_();
        var studentLeaves = student.Select(f => (f.Name, Leaf(f.Value))).ToArray();
        var teacherLeaves = teacher.Select(f => (f.Name, Leaf(f.Value))).ToArray();
        var batchSize = student[0].Value.Shape[0];
        var outputs = new Dictionary<string, ModelOutput>
        {
            ["student"] = new(zeros(batchSize, 3, ScalarType.Float64, device), studentLeaves.ToDictionary(f => f.Name, f => f.Item2)),
            ["teacher"] = new(zeros(batchSize, 3, ScalarType.Float64, device), teacherLeaves.ToDictionary(f => f.Name, f => f.Item2)),
        };
        var batch = new Batch(zeros(batchSize, 1, ScalarType.Float64, device), zeros(batchSize, ScalarType.Int64, device), arange(batchSize, ScalarType.Int64, device));
        return new LossContractCase(
            new DistillationContext(batch, outputs),
            studentLeaves.Select(f => ($"student.{f.Name}", f.Item2)).ToArray(),
            teacherLeaves.Select(f => ($"teacher.{f.Name}", f.Item2)).ToArray(),
            expected);
    }

    /// <summary>The case's context with one participant's feature replaced.</summary>
    public static DistillationContext WithFeature(LossContractCase valid, string participant, string feature, Tensor value)
    {
        var outputs = valid.Context.Outputs.ToDictionary(p => p.Key, p => p.Value);
        var old = outputs[participant];
        var features = old.Features.ToDictionary(f => f.Key, f => f.Value);
        features[feature] = value;
        outputs[participant] = new ModelOutput(old.Logits, features);
        return new DistillationContext(valid.Context.Batch, outputs);
    }

    /// <summary>The case's context with one participant's feature removed.</summary>
    public static DistillationContext WithoutFeature(LossContractCase valid, string participant, string feature)
    {
        var outputs = valid.Context.Outputs.ToDictionary(p => p.Key, p => p.Value);
        var old = outputs[participant];
        outputs[participant] = new ModelOutput(old.Logits, old.Features.Where(f => f.Key != feature).ToDictionary(f => f.Key, f => f.Value));
        return new DistillationContext(valid.Context.Batch, outputs);
    }

    /// <summary>Bad inputs every feature-pair term shares: missing features, batch, dtype and device mismatches.</summary>
    public static IEnumerable<LossBadInput> FeatureBadInputs(string studentFeature, string teacherFeature)
    {
        yield return new($"student feature '{studentFeature}' missing", c => WithoutFeature(c, "student", studentFeature), typeof(KeyNotFoundException));
        yield return new($"teacher feature '{teacherFeature}' missing", c => WithoutFeature(c, "teacher", teacherFeature), typeof(KeyNotFoundException));
        yield return new("teacher feature with another batch size", c =>
        {
            var t = c.Context.Output("teacher").Features[teacherFeature];
            return WithFeature(c, "teacher", teacherFeature, cat(new[] { t.detach(), t.detach() }, 0));
        }, typeof(ArgumentException));
        yield return new("teacher feature in float32", c =>
            WithFeature(c, "teacher", teacherFeature, c.Context.Output("teacher").Features[teacherFeature].detach().to_type(ScalarType.Float32)), typeof(ArgumentException));
        yield return new("integer student feature", c =>
            WithFeature(c, "student", studentFeature, c.Context.Output("student").Features[studentFeature].detach().to_type(ScalarType.Int64)), typeof(ArgumentException));
        yield return new("scalar student feature", c => WithFeature(c, "student", studentFeature, tensor(1.0, ScalarType.Float64)), typeof(ArgumentException));
    }

    /// <summary>A logits contract case from the fixture's logits: a trainable student, a frozen teacher, the fixture's labels.</summary>
    public static LossContractCase LogitsCase(Device device, double? expected, int epoch = 0)
    {
        var student = Data.Logits.Student.ToTensor().to(device).requires_grad_();
        var teacher = Data.Logits.Teacher.ToTensor().to(device).requires_grad_();
        var batchSize = student.shape[0];
        var outputs = new Dictionary<string, ModelOutput> { ["student"] = new(student), ["teacher"] = new(teacher) };
        var batch = new Batch(zeros(batchSize, 1, ScalarType.Float64, device), tensor(Data.Logits.Labels, ScalarType.Int64, device), arange(batchSize, ScalarType.Int64, device));
        return new LossContractCase(new DistillationContext(batch, outputs, epoch: epoch), [("student", student)], [("teacher", teacher)], expected);
    }

    private static DistillationTermFixtureFile Load()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "distillation_terms.json");
        using var stream = System.IO.File.OpenRead(path);
        var options = new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
        return JsonSerializer.Deserialize<DistillationTermFixtureFile>(stream, options) ?? throw new InvalidOperationException($"Could not read {path}.");
    }
}
