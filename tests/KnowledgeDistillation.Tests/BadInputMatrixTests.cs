using FluentAssertions;
using KnowledgeDistillation.Caching;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Metrics;
using KnowledgeDistillation.Models;
using KnowledgeDistillation.Serialization;
using KnowledgeDistillation.Tests.Support;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests;

/// <summary>
/// One place that tries distinct bad inputs across the public API (shapes, dtypes, devices, options, files)
/// and asserts that each fails with a specific .NET exception whose message says what was expected.
/// </summary>
public sealed class BadInputMatrixTests
{
    public static TheoryData<string> Cases => new(CaseTable.Keys);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Bad_input_gets_a_clear_exception(string name)
    {
        var (act, exceptionType, message) = CaseTable[name];
        var thrown = act.Should().Throw<Exception>().Which;
        thrown.Should().BeAssignableTo(exceptionType, $"case '{name}' threw {thrown.GetType().Name}: {thrown.Message}");
        thrown.Message.Should().MatchEquivalentOf(message, $"case '{name}'");
    }

    [Fact]
    public void The_matrix_has_at_least_thirty_cases() => CaseTable.Count.Should().BeGreaterThanOrEqualTo(30);

    private static readonly Dictionary<string, (Action Act, Type Exception, string Message)> CaseTable = new()
    {
        // Losses: hyper-parameters.
        ["KD temperature zero"] = (() => new KDLoss(0), typeof(ArgumentOutOfRangeException), "*temperature*> 0*"),
        ["KD temperature NaN"] = (() => new KDLoss(double.NaN), typeof(ArgumentOutOfRangeException), "*temperature*> 0*"),
        ["KD temperature infinite"] = (() => new KDLoss(double.PositiveInfinity), typeof(ArgumentOutOfRangeException), "*finite*"),
        ["negative loss weight"] = (() => _ = -0.5 * new CrossEntropyLoss(), typeof(ArgumentOutOfRangeException), "*weight*>= 0*"),
        ["label smoothing of one"] = (() => new CrossEntropyLoss(labelSmoothing: 1.0), typeof(ArgumentOutOfRangeException), "*labelSmoothing*[0, 1)*"),
        ["Hinton alpha above one"] = (() => Loss.Hinton(4, 1.5), typeof(ArgumentOutOfRangeException), "*alpha*[0, 1]*"),
        ["empty participant name"] = (() => new KDLoss(student: " "), typeof(ArgumentException), "*student*non-empty*"),
        ["duplicate loss names in a sum"] = (() => Loss.Sum(new KDLoss(), new KDLoss()), typeof(ArgumentException), "*both named 'kd'*"),

        // Losses: tensors.
        ["teacher and student class counts differ"] = (() => KDLoss.Value(zeros(4, 10), zeros(4, 7), 4), typeof(ArgumentException), "*Class counts differ*[4, 10]*[4, 7]*"),
        ["1-D logits"] = (() => KDLoss.Value(zeros(10), zeros(10), 4), typeof(ArgumentException), "*[batch, classes]*[10]*"),
        ["batch sizes differ"] = (() => LogitMatchingLoss.Value(zeros(4, 3), zeros(5, 3)), typeof(ArgumentException), "*Batch sizes differ*"),
        ["integer logits"] = (() => KDLoss.Value(zeros(new long[] { 2, 3 }, ScalarType.Int64), zeros(2, 3), 4), typeof(ArgumentException), "*floating point*"),
        ["labels out of range"] = (() => CrossEntropyLoss.Value(zeros(2, 3), tensor(new long[] { 0, 3 })), typeof(ArgumentException), "*[0, 2]*3 classes*[0, 3]*"),
        ["float labels"] = (() => CrossEntropyLoss.Value(zeros(2, 3), zeros(2)), typeof(ArgumentException), "*int64*Float32*"),
        ["labels of the wrong length"] = (() => CrossEntropyLoss.Value(zeros(2, 3), tensor(new long[] { 0 })), typeof(ArgumentException), "*shape [2]*"),
        ["non-scalar loss total"] = (() => new LossResult("x", zeros(3)), typeof(ArgumentException), "*scalar*[3]*"),

        // Data.
        ["batch targets disagree with inputs"] = (() => new Batch(zeros(4, 2), zeros(new long[] { 3 }, ScalarType.Int64), arange(4L)), typeof(ArgumentException), "*4 rows*[3]*"),
        ["batch indices of the wrong shape"] = (() => new Batch(zeros(4, 2), null, zeros(new long[] { 2, 2 }, ScalarType.Int64)), typeof(ArgumentException), "*indices*[4]*[2, 2]*"),
        ["empty dataset"] = (() => new TensorDataset(zeros(0, 3), null), typeof(ArgumentException), "*empty*"),
        ["negative class label"] = (() => new TensorDataset(zeros(2, 3), tensor(new long[] { 1, -2 })), typeof(ArgumentException), "*>= 0*-2*"),
        ["targets rows differ from inputs"] = (() => new TensorDataset(zeros(2, 3), tensor(new long[] { 1 })), typeof(ArgumentException), "*2 rows*"),
        ["batch size zero"] = (() => new DataLoader(SyntheticData.Blobs(4), 0), typeof(ArgumentOutOfRangeException), "*batch size*>= 1*"),
        ["dropLast leaves no batch"] = (() => new DataLoader(SyntheticData.Blobs(4), 8, dropLast: true), typeof(ArgumentException), "*no batch*"),
        ["not an IDX file"] = (() => IdxReader.Read(new MemoryStream(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 }), "garbage"), typeof(InvalidDataException), "*'garbage'*"),
        ["Fashion-MNIST limit of zero"] = (() => new FashionMnistOptions { TrainLimit = 0 }.Validate(), typeof(ArgumentOutOfRangeException), "*TrainLimit*"),

        // Options.
        ["zero epochs"] = (() => new DistillerOptions { Epochs = 0 }.Validate(), typeof(ArgumentOutOfRangeException), "*Epochs*>= 1*"),
        ["NaN learning rate"] = (() => new DistillerOptions { Optimizer = new OptimizerOptions { LearningRate = double.NaN } }.Validate(), typeof(ArgumentOutOfRangeException), "*Optimizer.LearningRate*> 0*"),
        ["skip without a per-step check"] = (() => new DistillerOptions { NonFiniteLoss = NonFiniteLossPolicy.Skip, NonFiniteCheck = NonFiniteCheck.EpochEnd }.Validate(), typeof(ArgumentException), "*Skip*EveryStep*"),
        ["checkpoint file name with a path"] = (() => new DistillerOptions { Checkpoint = new CheckpointOptions { FileName = "a/b" } }.Validate(), typeof(ArgumentException), "*not a valid file name*"),
        ["unknown device"] = (() => Fit(o => o.Device = "tpu"), typeof(ArgumentException), "*'tpu' is not a device*"),
        ["negative warm-up"] = (() => new LearningRateScheduleOptions { WarmupEpochs = -1 }.Validate(), typeof(ArgumentOutOfRangeException), "*WarmupEpochs*"),

        // Engine setup and runs.
        ["duplicate participant names"] = (() => new Distiller(new[] { Student.FromModule(Net(), "s"), Student.FromModule(Net(), "s") }, new CrossEntropyLoss("s")), typeof(ArgumentException), "*'s'*unique*"),
        ["stage names an unknown participant"] = (() => new Distiller(new[] { Student.FromModule(Net()) }, new[] { new DistillationStage("x", new CrossEntropyLoss()) { Trainable = new[] { "ghost" } } }), typeof(ArgumentException), "*'ghost'*does not exist*"),
        ["labels beyond the model's classes"] = (() => Fit(data: SyntheticData.Blobs(16, classes: 5)), typeof(ArgumentException), "*label 4*3 logits*0..2*"),
        ["NaN loss"] = (() => Fit(loss: new CrossEntropyLoss() + new ScaledLoss(double.NaN)), typeof(NonFiniteLossException), "*epoch 0, step 0*"),
        ["unknown submodule to capture"] = (() => Student.FromModule(Net(), captureFeatures: "layers.missing"), typeof(ArgumentException), "*no submodule 'layers.missing'*"),
        ["resume from a missing checkpoint"] = (() => new Distiller(new[] { Student.FromModule(Net()) }, new CrossEntropyLoss()).Resume("/nonexistent/checkpoint.kdck", new DataLoader(SyntheticData.Blobs(4), 4)), typeof(FileNotFoundException), "*No checkpoint*"),
        ["resume from a file that is not a checkpoint"] = (() => new Distiller(new[] { Student.FromModule(Net()) }, new CrossEntropyLoss()).Resume(GarbageFile(), new DataLoader(SyntheticData.Blobs(4), 4)), typeof(InvalidDataException), "*not a usable checkpoint*"),
        ["missing participant output"] = (() => new DistillationContext(new Batch(zeros(1, 8), null, arange(1L)), new Dictionary<string, ModelOutput>()).Output("teacher"), typeof(KeyNotFoundException), "*'teacher'*"),
        ["missing feature"] = (() => new ModelOutput(zeros(1, 3)).Feature("hidden", "teacher"), typeof(KeyNotFoundException), "*'teacher' has no feature 'hidden'*"),

        // Models, metrics, caches, files.
        ["top-0 accuracy"] = (() => new Accuracy(0), typeof(ArgumentOutOfRangeException), "*topK*>= 1*"),
        ["CNN without blocks"] = (() => new SmallCnn(Array.Empty<int>()), typeof(ArgumentException), "*at least one block*"),
        ["MLP of input size zero"] = (() => new Mlp(0, Array.Empty<int>()), typeof(ArgumentOutOfRangeException), "*inputSize*"),
        ["caching a trainable teacher"] = (() => Teacher.FromModule(Net(), trainable: true).WithOutputCache(4), typeof(ArgumentException), "*frozen*"),
        ["cache for zero samples"] = (() => Teacher.FromModule(Net()).WithOutputCache(0), typeof(ArgumentOutOfRangeException), "*sample count*"),
        ["DR-KD alpha above one"] = (() => Loss.DrKd(alpha: 1.2), typeof(ArgumentOutOfRangeException), "*alpha*[0, 1]*"),
        ["DR-KD temperature zero"] = (() => new DrKdLoss(temperature: 0), typeof(ArgumentOutOfRangeException), "*temperature*> 0*"),
        ["DR-KD with one class"] = (() => DrKdLoss.Rectify(zeros(3, 1), zeros(3, ScalarType.Int64)), typeof(ArgumentException), "*K >= 2*"),
        ["Tf-KD reg a of one"] = (() => new TfKdRegularizationLoss(correctProbability: 1.0), typeof(ArgumentOutOfRangeException), "*correctProbability*(0, 1)*"),
        ["Tf-KD reg a of zero"] = (() => TfKdRegularizationLoss.VirtualTeacher(zeros(2, ScalarType.Int64), 3, 0.0), typeof(ArgumentOutOfRangeException), "*correctProbability*(0, 1)*"),
        ["Tf-KD reg with one class"] = (() => TfKdRegularizationLoss.VirtualTeacher(zeros(2, ScalarType.Int64), 1, 0.9), typeof(ArgumentOutOfRangeException), "*K >= 2*"),
        ["sample store index out of range"] = (() => new MemorySampleStore(3).Contains(tensor(new long[] { 3 })), typeof(ArgumentException), "*index 3*0..2*"),
        ["sample field of int32"] = (() => _ = new SampleField("x", new long[] { 2 }, ScalarType.Int32), typeof(ArgumentException), "*float32 or float64*"),
        ["safetensors file that is garbage"] = (() => SafeTensorsFile.Open(GarbageFile()), typeof(InvalidDataException), "*header*"),
    };

    private static Mlp Net() => new(8, Array.Empty<int>(), numClasses: 3);

    private static string GarbageFile()
    {
        var path = Path.Combine(Path.GetTempPath(), $"kd-garbage-{Guid.NewGuid():N}.bin");
        File.WriteAllBytes(path, new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 1, 2, 3 });
        return path;
    }

    private static void Fit(Action<DistillerOptions>? configure = null, TensorDataset? data = null, IDistillationLoss? loss = null)
    {
        var options = new DistillerOptions { Epochs = 1 };
        configure?.Invoke(options);
        using var dataset = data ?? SyntheticData.Blobs(16);
        using var student = Student.FromModule(Net());
        new Distiller(new[] { student }, loss ?? new CrossEntropyLoss(), options).Fit(new DataLoader(dataset, 8));
    }

    private sealed class ScaledLoss(double factor) : DistillationLoss("scaled")
    {
        public override LossResult Compute(DistillationContext context) =>
            new(Name, context.Output("student").RequireLogits("student").sum() * factor);
    }
}
