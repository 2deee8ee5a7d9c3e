using FluentAssertions;
using KnowledgeDistillation.Models;
using KnowledgeDistillation.Onnx;
using KnowledgeDistillation.Tests.Support;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace KnowledgeDistillation.Tests.Onnx;

/// <summary>
/// ONNX export round trips: every exported file runs in ONNX Runtime and matches TorchSharp's eval-mode forward
/// within 1e-5 (absolute up to magnitude 1, relative above), at the export batch size and at another one.
/// </summary>
public sealed class OnnxExportTests
{
    [Fact]
    public void SmallCnnTeacherAndStudentMatchOnnxRuntimeAtAnyBatchSize()
    {
        random.manual_seed(11);
        using var teacher = SmallCnn.Teacher();
        using var student = SmallCnn.Student();
        foreach (var model in new Module<Tensor, Tensor>[] { teacher, student })
        {
            OnnxRuntimeRunner.RandomiseNormalisation(model);
            model.train(); // export must give eval semantics whatever the mode, and leave the mode alone
            var bytes = OnnxExporter.ToBytes(model, new OnnxExportOptions { InputShape = new long[] { 2, 1, 28, 28 } });
            model.training.Should().BeTrue("export restores the module's mode");
            AssertRoundTrip(bytes, model, randn(2, 1, 28, 28));
            AssertRoundTrip(bytes, model, randn(5, 1, 28, 28));
        }
    }

    [Fact]
    public void MlpMatchesOnnxRuntime()
    {
        random.manual_seed(12);
        using var mlp = new Mlp(784, new[] { 64, 32 }, 10);
        var bytes = OnnxExporter.ToBytes(mlp, new OnnxExportOptions { InputShape = new long[] { 1, 1, 28, 28 } });
        AssertRoundTrip(bytes, mlp, randn(1, 1, 28, 28));
        AssertRoundTrip(bytes, mlp, randn(9, 1, 28, 28));
    }

    [Theory]
    [InlineData(8, 0.25)]  // resnet8x4 at quarter width: projection shortcuts
    [InlineData(14, 0.125)] // two blocks per stage: identity shortcuts too
    public void ResNetCifarMatchesOnnxRuntime(int depth, double widthScale)
    {
        random.manual_seed(13);
        using var net = depth == 8 ? ResNetCifar.ResNet8x4(10, 3, widthScale) : new ResNetCifar(depth, new[] { 8, 16, 32 }, 4, 10, 3);
        OnnxRuntimeRunner.RandomiseNormalisation(net);
        var bytes = OnnxExporter.ToBytes(net, new OnnxExportOptions { InputShape = new long[] { 1, 3, 32, 32 } });
        AssertRoundTrip(bytes, net, randn(1, 3, 32, 32));
        AssertRoundTrip(bytes, net, randn(4, 3, 32, 32));
    }

    [Fact]
    public void ResNetLastStageBranchMatchesOnnxRuntime()
    {
        random.manual_seed(14);
        using var net = ResNetCifar.ResNet8x4(10, 3, 0.25);
        OnnxRuntimeRunner.RandomiseNormalisation(net);
        using var branch = net.CreateLastStageBranch(10, copyWeights: true);
        var bytes = OnnxExporter.ToBytes(branch, new OnnxExportOptions { InputShape = new long[] { 1, 32, 16, 16 } });
        AssertRoundTrip(bytes, branch, randn(3, 32, 16, 16));
    }

    [Fact]
    public void SequentialOfStandardImageLayersMatchesOnnxRuntime()
    {
        random.manual_seed(15);
        using var model = Sequential(
            ("conv1", Conv2d(3, 8, 3, stride: 2, padding: 1)),
            ("bn1", BatchNorm2d(8)),
            ("relu", ReLU()),
            ("conv2", Conv2d(8, 8, 3, padding: 2, dilation: 2, groups: 2, bias: false)),
            ("leaky", LeakyReLU(0.1)),
            ("maxpool", MaxPool2d(3, stride: 1, padding: 1)),
            ("conv3", Conv2d(8, 6, 3, padding: Padding.Same)),
            ("elu", ELU(0.7)),
            ("avgpool", AvgPool2d(2)),
            ("drop2d", Dropout2d(0.3)),
            ("gelu", GELU()),
            ("conv4", Conv2d(6, 6, 1)),
            ("silu", SiLU()),
            ("gap", AdaptiveAvgPool2d(1)),
            ("flatten", Flatten()),
            ("fc1", Linear(6, 16)),
            ("bn1d", BatchNorm1d(16)),
            ("mish", Mish()),
            ("dropout", Dropout(0.5)),
            ("fc2", Linear(16, 16)),
            ("hardswish", Hardswish()),
            ("ln", LayerNorm(16)),
            ("fc3", Linear(16, 16)),
            ("tanh", Tanh()),
            ("fc4", Linear(16, 16)),
            ("relu6", ReLU6()),
            ("hardsigmoid", Hardsigmoid()),
            ("gelu_tanh", GELU(TorchSharp.Modules.GELU.Approximate.tanh)),
            ("sigmoid", Sigmoid()),
            ("softplus", Softplus()),
            ("identity", Identity()),
            ("head", Linear(16, 5)),
            ("logsoftmax", LogSoftmax(1)));
        OnnxRuntimeRunner.RandomiseNormalisation(model);
        var bytes = OnnxExporter.ToBytes(model, new OnnxExportOptions { InputShape = new long[] { 2, 3, 20, 20 } });
        AssertRoundTrip(bytes, model, randn(2, 3, 20, 20));
        AssertRoundTrip(bytes, model, randn(6, 3, 20, 20));
    }

    [Fact]
    public void SequentialOfOneDimensionalLayersAndPartialFlattenMatchesOnnxRuntime()
    {
        random.manual_seed(16);
        using var model = Sequential(
            ("conv", Conv1d(4, 6, 3, padding: 1)),
            ("bn", BatchNorm1d(6)),
            ("relu", ReLU()),
            ("maxpool", MaxPool1d(2)),
            ("avgpool", AvgPool1d(3, stride: 1, padding: 1)),
            ("flatten2", Flatten(2)),
            ("gap", AdaptiveAvgPool1d(1)),
            ("flatten", Flatten()),
            ("head", Linear(6, 3)),
            ("softmax", Softmax(1)));
        OnnxRuntimeRunner.RandomiseNormalisation(model);
        var bytes = OnnxExporter.ToBytes(model, new OnnxExportOptions { InputShape = new long[] { 1, 4, 16 } });
        AssertRoundTrip(bytes, model, randn(7, 4, 16));
    }

    [Fact]
    public void StandardLayerAtTheRootIsExported()
    {
        using var gelu = GELU();
        var bytes = OnnxExporter.ToBytes(gelu, new OnnxExportOptions { InputShape = new long[] { 2, 5 } });
        AssertRoundTrip(bytes, gelu, randn(3, 5));
    }

    [Fact]
    public void UserModuleImplementingTheInterfaceIsExported()
    {
        random.manual_seed(17);
        using var model = Sequential(("stem", Linear(8, 8)), ("block", new ResidualMlp(8)), ("head", Linear(8, 3)));
        var bytes = OnnxExporter.ToBytes(model, new OnnxExportOptions { InputShape = new long[] { 1, 8 } });
        AssertRoundTrip(bytes, model, randn(4, 8));
    }

    [Fact]
    public void FixedBatchExportKeepsTheShapeAndNamesTheGraphValues()
    {
        random.manual_seed(18);
        using var mlp = new Mlp(6, new[] { 5 }, 3);
        var bytes = OnnxExporter.ToBytes(mlp, new OnnxExportOptions { InputShape = new long[] { 2, 6 }, DynamicBatch = false, InputName = "x", OutputName = "logits" });
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(bytes);
        session.InputMetadata["x"].Dimensions.Should().Equal(2, 6);
        session.OutputMetadata["logits"].Dimensions.Should().Equal(2, 3);
        AssertRoundTrip(bytes, mlp, randn(2, 6), "x");
    }

    [Fact]
    public void DynamicBatchIsDeclaredSymbolic()
    {
        using var mlp = new Mlp(6, new[] { 5 }, 3);
        var bytes = OnnxExporter.ToBytes(mlp, new OnnxExportOptions { InputShape = new long[] { 2, 6 } });
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(bytes);
        session.InputMetadata["input"].Dimensions.Should().Equal(-1, 6);
        session.InputMetadata["input"].SymbolicDimensions[0].Should().Be("batch");
        session.OutputMetadata["output"].Dimensions.Should().Equal(-1, 3);
    }

    [Fact]
    public void ExportWritesAFileAtomically()
    {
        using var mlp = new Mlp(6, new[] { 5 }, 3);
        var dir = Directory.CreateTempSubdirectory("kd-onnx-");
        try
        {
            var path = Path.Combine(dir.FullName, "mlp.onnx");
            OnnxExporter.Export(mlp, path, new OnnxExportOptions { InputShape = new long[] { 1, 6 } });
            AssertRoundTrip(File.ReadAllBytes(path), mlp, randn(3, 6));
            dir.GetFiles().Select(f => f.Name).Should().Equal("mlp.onnx");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void UnsupportedLayerIsNamedByPathAndType()
    {
        using var model = Sequential(
            ("features", Sequential(("conv", Conv2d(1, 2, 3)), ("act", PReLU(1)))),
            ("flatten", Flatten()));
        var act = () => OnnxExporter.ToBytes(model, new OnnxExportOptions { InputShape = new long[] { 1, 1, 8, 8 } });
        var error = act.Should().Throw<OnnxExportException>().Which;
        error.LayerPath.Should().Be("features.act");
        error.LayerType.Should().Contain("PReLU");
        error.Message.Should().Contain("'features.act'").And.Contain("PReLU").And.Contain(nameof(IOnnxExportable));
    }

    [Fact]
    public void CustomForwardWithoutTheInterfaceIsRejectedAtItsPath()
    {
        using var model = Sequential(("fc", Linear(4, 4)), ("custom", new OpaqueModule()));
        var act = () => OnnxExporter.ToBytes(model, new OnnxExportOptions { InputShape = new long[] { 1, 4 } });
        var error = act.Should().Throw<OnnxExportException>().Which;
        error.LayerPath.Should().Be("custom");
        error.LayerType.Should().Contain(nameof(OpaqueModule));

        using var root = new OpaqueModule();
        var atRoot = () => OnnxExporter.ToBytes(root, new OnnxExportOptions { InputShape = new long[] { 1, 4 } });
        atRoot.Should().Throw<OnnxExportException>().WithMessage("*'<root>'*");
    }

    [Fact]
    public void UnsupportedSettingsOfStandardLayersAreNamed()
    {
        using var adaptive = Sequential(("pool", AdaptiveAvgPool2d(2)));
        var pool = () => OnnxExporter.ToBytes(adaptive, new OnnxExportOptions { InputShape = new long[] { 1, 1, 4, 4 } });
        pool.Should().Throw<OnnxExportException>().Where(e => e.LayerPath == "pool" && e.Message.Contains("output size of 1"));

        using var partial = Sequential(("flat", Flatten(1, 2)));
        var flatten = () => OnnxExporter.ToBytes(partial, new OnnxExportOptions { InputShape = new long[] { 1, 2, 3, 4 } });
        flatten.Should().Throw<OnnxExportException>().Where(e => e.LayerPath == "flat");

        using var reflect = Sequential(("conv", Conv2d(1, 1, 3, padding: 1, padding_mode: PaddingModes.Reflect)));
        var conv = () => OnnxExporter.ToBytes(reflect, new OnnxExportOptions { InputShape = new long[] { 1, 1, 4, 4 } });
        conv.Should().Throw<OnnxExportException>().Where(e => e.LayerPath == "conv" && e.Message.Contains("Reflect"));
    }

    [Fact]
    public void BadArgumentsFailWithTheirNames()
    {
        using var cnn = SmallCnn.Student();
        FluentActions.Invoking(() => OnnxExporter.ToBytes(null!, new OnnxExportOptions { InputShape = new long[] { 1, 1, 28, 28 } }))
            .Should().Throw<ArgumentNullException>().WithParameterName("module");
        FluentActions.Invoking(() => OnnxExporter.ToBytes(cnn, null!)).Should().Throw<ArgumentNullException>().WithParameterName("options");
        FluentActions.Invoking(() => OnnxExporter.ToBytes(cnn, new OnnxExportOptions()))
            .Should().Throw<ArgumentException>().WithMessage("*InputShape*");
        FluentActions.Invoking(() => OnnxExporter.ToBytes(cnn, new OnnxExportOptions { InputShape = new long[] { 1, 0, 28, 28 } }))
            .Should().Throw<ArgumentException>().WithMessage("*InputShape*[1, 0, 28, 28]*");
        FluentActions.Invoking(() => OnnxExporter.ToBytes(cnn, new OnnxExportOptions { InputShape = new long[] { 1, 3, 28, 28 } }))
            .Should().Throw<ArgumentException>().WithMessage("*[1, 3, 28, 28]*InputShape*").Which.ParamName.Should().Be("InputShape");
        FluentActions.Invoking(() => OnnxExporter.ToBytes(cnn, new OnnxExportOptions { InputShape = new long[] { 1, 1, 28, 28 }, Opset = 16 }))
            .Should().Throw<ArgumentOutOfRangeException>().WithMessage("*Opset*[17, 21]*");
        FluentActions.Invoking(() => OnnxExporter.ToBytes(cnn, new OnnxExportOptions { InputShape = new long[] { 1, 1, 28, 28 }, OutputName = "input" }))
            .Should().Throw<ArgumentException>().WithMessage("*must differ*");
        FluentActions.Invoking(() => OnnxExporter.ToBytes(cnn, new OnnxExportOptions { InputShape = new long[] { 1, 1, 28, 28 }, InputName = " " }))
            .Should().Throw<ArgumentException>().WithParameterName("InputName");
        FluentActions.Invoking(() => OnnxExporter.Export(cnn, " ", new OnnxExportOptions { InputShape = new long[] { 1, 1, 28, 28 } }))
            .Should().Throw<ArgumentException>().WithParameterName("path");
        FluentActions.Invoking(() => new OnnxGraphBuilder(22)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("opset");
    }

    [Fact]
    public void StaticShapeEmittersRefuseADynamicBatch()
    {
        using var model = new FixedNodeCount();
        var dynamic = () => OnnxExporter.ToBytes(model, new OnnxExportOptions { InputShape = new long[] { 3, 2 } });
        dynamic.Should().Throw<ArgumentException>().WithMessage("*dynamic batch*three nodes*DynamicBatch = false*");
        var bytes = OnnxExporter.ToBytes(model, new OnnxExportOptions { InputShape = new long[] { 3, 2 }, DynamicBatch = false });
        AssertRoundTrip(bytes, model, randn(3, 2));
    }

    [Fact]
    public void ProtobufVarintsFollowTheWireFormat()
    {
        var writer = new ProtoWriter();
        writer.Varint(1, 300);
        writer.Varint(2, -1);
        writer.String(3, "é");
        writer.ToArray().Should().Equal(
            0x08, 0xAC, 0x02,
            0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01,
            0x1A, 0x02, 0xC3, 0xA9);
    }

    private static void AssertRoundTrip(byte[] bytes, Module<Tensor, Tensor> model, Tensor input, string inputName = "input")
    {
        using var scope = NewDisposeScope();
        var expected = OnnxRuntimeRunner.EvalForward(model, input);
        OnnxRuntimeRunner.ShouldMatch(OnnxRuntimeRunner.Run(bytes, (inputName, input)), expected, $"at batch {input.shape[0]}");
    }

    /// <summary>x + fc2(relu(fc1(x))): custom forward code, exported through the interface.</summary>
    private sealed class ResidualMlp : Module<Tensor, Tensor>, IOnnxExportable
    {
        private readonly Linear fc1;
        private readonly Linear fc2;

        public ResidualMlp(int width)
            : base(nameof(ResidualMlp))
        {
            fc1 = Linear(width, width);
            fc2 = Linear(width, width);
            RegisterComponents();
        }

        public override Tensor forward(Tensor input) => input + fc2.call(functional.relu(fc1.call(input)));

        public OnnxValue EmitOnnx(OnnxGraphBuilder graph, OnnxValue input) =>
            graph.Add(input, graph.Emit(fc2, graph.Relu(graph.Emit(fc1, input, "fc1")), "fc2"));
    }

    private sealed class OpaqueModule : Module<Tensor, Tensor>
    {
        public OpaqueModule()
            : base(nameof(OpaqueModule))
        {
        }

        public override Tensor forward(Tensor input) => input * 2;
    }

    /// <summary>Adds a constant per node of a three-node graph: only the exact shape works.</summary>
    private sealed class FixedNodeCount : Module<Tensor, Tensor>, IOnnxExportable
    {
        private readonly Tensor offsets = tensor(new float[] { 1, 2, 3 }).reshape(3, 1);

        public FixedNodeCount()
            : base(nameof(FixedNodeCount))
        {
            RegisterComponents();
        }

        public override Tensor forward(Tensor input) => input + offsets;

        public OnnxValue EmitOnnx(OnnxGraphBuilder graph, OnnxValue input)
        {
            graph.RequireStaticInputShape("the offsets are for three nodes.");
            return graph.Add(input, graph.Initializer(offsets, "offsets"));
        }
    }
}
