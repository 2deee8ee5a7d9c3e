using FluentAssertions;
using KnowledgeDistillation.Graph.KnowledgeGraphs;
using KnowledgeDistillation.Onnx;
using KnowledgeDistillation.Tests.Support;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Tests.KnowledgeGraphs;

/// <summary>
/// KGE scoring functions exported to ONNX (embedding Gather + the score) and run in ONNX Runtime match
/// <see cref="KgeModel.Score"/> within 1e-5 (absolute up to magnitude 1, relative above) at two batch sizes.
/// </summary>
public sealed class KgeOnnxExportTests
{
    private const int Entities = 30;
    private const int Relations = 5;

    public static TheoryData<string> Models() => new("TransE-L1", "TransE-L2", "DistMult", "ComplEx", "RotatE");

    [Theory]
    [MemberData(nameof(Models))]
    public void ScoresMatchOnnxRuntime(string name)
    {
        random.manual_seed(31);
        using var model = Create(name);
        var bytes = KgeOnnxExporter.ToBytes(model);
        foreach (var batch in new[] { 7, 2 })
        {
            using var scope = NewDisposeScope();
            var generator = new Generator((ulong)batch);
            var heads = randint(0, Entities, new long[] { batch }, generator: generator);
            var relations = randint(0, Relations, new long[] { batch }, generator: generator);
            var tails = randint(0, Entities, new long[] { batch }, generator: generator);
            Tensor expected;
            using (no_grad())
            {
                expected = model.Score(heads, relations, tails);
            }

            var actual = OnnxRuntimeRunner.Run(bytes, ("heads", heads), ("relations", relations), ("tails", tails));
            OnnxRuntimeRunner.ShouldMatch(actual, expected, $"{name} at batch {batch}");
        }
    }

    [Fact]
    public void ExportWritesAFile()
    {
        using var model = new DistMult(Entities, Relations, 4);
        var path = Path.Combine(Path.GetTempPath(), $"kge-{Guid.NewGuid():N}.onnx");
        try
        {
            KgeOnnxExporter.Export(model, path);
            using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(path);
            session.InputNames.Should().Equal("heads", "relations", "tails");
            session.OutputNames.Should().Equal(KgeOnnxExporter.OutputName);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void UnknownScoringFunctionIsNamed()
    {
        using var model = new Custom();
        var act = () => KgeOnnxExporter.ToBytes(model);
        act.Should().Throw<OnnxExportException>().Which.LayerType.Should().Contain(nameof(Custom));
        FluentActions.Invoking(() => KgeOnnxExporter.ToBytes(null!)).Should().Throw<ArgumentNullException>().WithParameterName("model");
        FluentActions.Invoking(() => KgeOnnxExporter.ToBytes(new DistMult(3, 1, 2), opset: 12)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("opset");
    }

    private static KgeModel Create(string name) => name switch
    {
        "TransE-L1" => new TransE(Entities, Relations, 8, margin: 6, norm: 1),
        "TransE-L2" => new TransE(Entities, Relations, 8, margin: 6, norm: 2),
        "DistMult" => new DistMult(Entities, Relations, 8),
        "ComplEx" => new ComplEx(Entities, Relations, 8),
        _ => new RotatE(Entities, Relations, 8, margin: 6),
    };

    private sealed class Custom : KgeModel
    {
        public Custom()
            : base(nameof(Custom), 3, 1, 2, 2, 2, 0.1)
        {
        }

        public override Tensor ScoreEmbeddings(Tensor h, Tensor r, Tensor t) => (h - t).sum(-1);
    }
}
