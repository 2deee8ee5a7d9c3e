using System.Text.Json.Nodes;
using FluentAssertions;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Models;
using KnowledgeDistillation.Tests.Support;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Engine;

/// <summary>
/// Mutated checkpoints with a consistent SHA-256 trailer (so only the field checks can refuse them): each is refused with
/// an <see cref="InvalidDataException"/> naming the file and the field, never a process abort or another exception type,
/// and nothing is restored. Regression tests for the mutation-fuzzing findings of issue 22.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class CheckpointHardeningTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("kd-ckpt-harden-").FullName;
    private readonly string _checkpoint;

    public CheckpointHardeningTests()
    {
        _checkpoint = Path.Combine(_directory, "checkpoint.kdck");
        using var cts = new CancellationTokenSource();
        var act = () => Train(cts, cancelAtStep: 13); // stage 'distill' (steps 12-23), epoch 0, batch 1: partial epoch and optimiser state
        act.Should().Throw<OperationCanceledException>();
        File.Exists(_checkpoint).Should().BeTrue();
    }

    private static int RngBytes
    {
        get
        {
            using var state = random.get_rng_state();
            return (int)state.NumberOfElements;
        }
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void An_unchanged_checkpoint_rewritten_by_the_helper_resumes()
    {
        var file = CheckpointMutator.Decode(_checkpoint).WriteTo(Path.Combine(_directory, "same.kdck"));
        var result = Train(resumeFrom: file);
        result.History.Should().HaveCount(6);
    }

    [Theory]
    [InlineData(0)] // was: process abort (c10::Error "Expected a CPUGeneratorImplState of size 5056 ... 0")
    [InlineData(-1)] // was: ArgumentOutOfRangeException "count ('-1')"
    [InlineData(int.MaxValue)] // was: OutOfMemoryException
    [InlineData(100)]
    public void Rng_length_field_out_of_range_is_refused(int length)
    {
        var mutator = CheckpointMutator.Decode(_checkpoint);
        BitConverter.TryWriteBytes(mutator.Payload.AsSpan(mutator.RngLengthOffset(RngBytes), 4), length).Should().BeTrue();
        ExpectRefused(mutator, "*random generator state length is " + length + "*");
    }

    [Theory]
    [InlineData(8, 0)] // left = 0: was a process abort (c10::Error "Invalid mt19937 state"), found by the fuzz campaign
    [InlineData(8, 625)] // left beyond the state
    [InlineData(12, 0)] // not seeded
    [InlineData(16, 700)] // next beyond the state
    public void Inconsistent_mersenne_twister_fields_are_refused(int offset, int value)
    {
        RngBytes.Should().Be(5056, "the test knows libtorch 2.x's CPUGeneratorImplState layout");
        var mutator = CheckpointMutator.Decode(_checkpoint);
        var state = mutator.RngLengthOffset(RngBytes) + 4;
        BitConverter.TryWriteBytes(mutator.Payload.AsSpan(state + offset, 4), value).Should().BeTrue();
        ExpectRefused(mutator, "*not a valid Mersenne Twister state*");
    }

    [Fact]
    public void Truncated_rng_state_is_refused()
    {
        var mutator = CheckpointMutator.Decode(_checkpoint);
        mutator.Payload = mutator.Payload[..^100]; // was: BinaryReader.ReadBytes returned a short array, then a process abort
        ExpectRefused(mutator, "*random generator state*");
    }

    [Fact]
    public void Null_optimizer_inside_a_stage_is_refused()
    {
        var mutator = CheckpointMutator.Decode(_checkpoint);
        mutator.Header["Optimizer"] = null;
        ExpectRefused(mutator, "*field 'Optimizer'*");
    }

    [Fact]
    public void Optimizer_state_present_where_the_header_says_none_is_refused()
    {
        // A consistent stage-boundary header (stage 'distill', epoch 0, batch 0, no partial epoch, no optimiser) over a
        // payload that still holds the optimiser state.
        var mutator = CheckpointMutator.Decode(_checkpoint);
        mutator.Header["Optimizer"] = null;
        mutator.Header["BatchInEpoch"] = 0;
        mutator.Header["Partial"] = null;
        mutator.Header["Step"] = 12;
        ExpectRefused(mutator, "*field 'Optimizer' is null, but*");
    }

    [Theory]
    [InlineData("StageIndex", 7)]
    [InlineData("StageIndex", -1)]
    [InlineData("Epoch", -1)]
    [InlineData("Epoch", 3)]
    [InlineData("BatchInEpoch", -1)]
    [InlineData("BatchInEpoch", 5)]
    [InlineData("Step", -1)]
    [InlineData("Step", 14)]
    [InlineData("DataEpoch", -1)]
    [InlineData("DataEpoch", 2)]
    [InlineData("LossModules", -1)]
    public void Position_field_out_of_range_is_refused(string field, int value)
    {
        var mutator = CheckpointMutator.Decode(_checkpoint);
        mutator.Header[field] = value;
        ExpectRefused(mutator, $"*field '{field}'*");
    }

    [Theory]
    [InlineData(0, "Epoch", -1, "History[0].Epoch")] // was: accepted, and a wrong history
    [InlineData(1, "Epoch", 0, "History[1].Epoch")]
    [InlineData(2, "Epoch", 5, "History[2].Epoch")]
    [InlineData(1, "Stage", "distill", "History[1].Stage")]
    [InlineData(0, "Stage", "elsewhere", "History[0].Stage")]
    [InlineData(0, "Steps", -4, "History[0].Steps")]
    [InlineData(0, "Steps", 3, "Step")]
    [InlineData(0, "SkippedSteps", -1, "History[0].SkippedSteps")]
    public void History_edit_is_refused(int record, string field, object value, string named)
    {
        var mutator = CheckpointMutator.Decode(_checkpoint);
        var history = mutator.Header["History"]!.AsArray();
        history[record]![field] = value is string text ? JsonValue.Create(text) : JsonValue.Create((int)value);
        ExpectRefused(mutator, $"*field '{named}'*");
    }

    [Fact]
    public void History_missing_an_epoch_is_refused()
    {
        var mutator = CheckpointMutator.Decode(_checkpoint);
        mutator.Header["History"]!.AsArray().RemoveAt(2);
        mutator.Header["DataEpoch"] = 2;
        mutator.Header["Step"] = 9;
        ExpectRefused(mutator, "*field 'History*'*all its epochs*");
    }

    [Theory]
    [InlineData("Steps", 5, "Partial.Steps")]
    [InlineData("Steps", -1, "Partial.Steps")]
    [InlineData("Skipped", 1, "Partial.Steps")]
    [InlineData("TotalSum", null, "Partial.TotalSum")]
    public void Partial_sums_inconsistent_are_refused(string field, object? value, string named)
    {
        var mutator = CheckpointMutator.Decode(_checkpoint);
        mutator.Header["Partial"]![field] = value is null ? null : JsonValue.Create((int)value);
        ExpectRefused(mutator, $"*field '{named}'*");
    }

    [Theory]
    [InlineData("SavedParticipants")]
    [InlineData("Stages")]
    [InlineData("History")]
    [InlineData("FrozenFingerprints")]
    public void Null_list_is_refused(string field)
    {
        var mutator = CheckpointMutator.Decode(_checkpoint);
        mutator.Header[field] = null;
        ExpectRefused(mutator, $"*field '{field}'*");
    }

    [Fact]
    public void Module_block_with_a_wrong_entry_count_is_refused()
    {
        var mutator = CheckpointMutator.Decode(_checkpoint);
        mutator.Payload[0] = 0x7F; // the teacher's block starts the payload: its LEB128 entry count
        ExpectRefused(mutator, "*module state of 'teacher'*entries*");
    }

    [Fact]
    public void Module_block_with_a_malformed_name_length_is_refused()
    {
        var mutator = CheckpointMutator.Decode(_checkpoint);
        mutator.Payload.AsSpan(1, 5).Fill(0xFF); // was: FormatException (bad 7-bit encoded integer)
        ExpectRefused(mutator, "*module state of 'teacher'*name of entry 0*");
    }

    [Fact]
    public void Module_block_with_an_unknown_name_is_refused()
    {
        var mutator = CheckpointMutator.Decode(_checkpoint);
        mutator.Payload[2] ^= 0x20; // first character of the first entry's name
        ExpectRefused(mutator, "*module state of 'teacher'*does not have*");
    }

    [Theory]
    [InlineData(0, 99, "element type")] // was: ExternalException "Unsupported TypeMeta in ATen: nullptr"
    [InlineData(1, 7, "rank")]
    [InlineData(2, 0x7F, "size")]
    public void Module_block_with_a_wrong_tensor_header_is_refused(int field, byte value, string named)
    {
        var mutator = CheckpointMutator.Decode(_checkpoint);
        var nameLength = mutator.Payload[1];
        mutator.Payload[2 + nameLength + field] = value; // after the name: element type, rank, first size (each one LEB128 byte here)
        ExpectRefused(mutator, $"*module state of 'teacher'*{named}*");
    }

    [Fact]
    public void Corrupted_optimizer_block_is_refused_naming_the_optimizer()
    {
        var mutator = CheckpointMutator.Decode(_checkpoint);
        var rngOffset = mutator.RngLengthOffset(RngBytes);
        var withoutOptimizerTail = mutator.Payload[..(rngOffset - 8)].Concat(mutator.Payload[rngOffset..]).ToArray();
        mutator.Payload = withoutOptimizerTail; // the optimiser block loses its last 8 bytes
        ExpectRefused(mutator, "*optimiser state [student:SGD]*");
    }

    [Fact]
    public void Optimizer_momentum_buffer_with_another_shape_of_the_same_size_is_refused()
    {
        // was: accepted (TorchSharp's SGD builds the buffer from the file's shape), then a native error at the first step
        var mutator = CheckpointMutator.Decode(_checkpoint);
        var state = FirstSgdState(mutator);
        mutator.Payload[state].Should().Be(1, "the first parameter has a momentum buffer");
        mutator.Payload.AsSpan(state + 1, 4).ToArray().Should().Equal(6, 2, 16, 8); // Float32, rank 2, 16 x 8
        mutator.Payload[state + 3] = 8;
        mutator.Payload[state + 4] = 16;
        ExpectRefused(mutator, "*optimiser state [student:SGD]*state 0 momentum buffer size 0*16*[16, 8]*");
    }

    [Fact]
    public void Optimizer_hyperparameter_not_finite_is_refused()
    {
        // was: accepted (the NaN replaced the configured momentum), then NonFiniteLossException at the next step
        var mutator = CheckpointMutator.Decode(_checkpoint);
        var options = FirstSgdState(mutator) - 42; // InitialLearningRate, LearningRate, momentum, dampening, weight_decay, nesterov, maximize
        BitConverter.ToDouble(mutator.Payload, options + 16).Should().Be(0.9);
        BitConverter.TryWriteBytes(mutator.Payload.AsSpan(options + 16, 8), double.NaN).Should().BeTrue();
        ExpectRefused(mutator, "*optimiser state [student:SGD]*group 0 momentum*finite*NaN*");
    }

    [Fact]
    public void Optimizer_state_with_a_non_finite_value_is_refused()
    {
        // was: accepted, then NonFiniteLossException once the infinite buffer reached the parameters
        var mutator = CheckpointMutator.Decode(_checkpoint);
        var data = FirstSgdState(mutator) + 5; // after the flag, element type, rank and two sizes
        BitConverter.TryWriteBytes(mutator.Payload.AsSpan(data + 4 * 5, 4), float.PositiveInfinity).Should().BeTrue();
        ExpectRefused(mutator, "*optimiser state [student:SGD]*state 0 momentum buffer data*element 5*");
    }

    [Fact]
    public void Optimizer_flag_other_than_zero_or_one_is_refused()
    {
        // was: accepted (BinaryReader.ReadBoolean reads any non-zero byte as true)
        var mutator = CheckpointMutator.Decode(_checkpoint);
        mutator.Payload[FirstSgdState(mutator)] = 7;
        ExpectRefused(mutator, "*optimiser state [student:SGD]*state 0 has-momentum-buffer*0 or 1, not 7*");
    }

    [Fact]
    public void A_refused_checkpoint_restores_nothing()
    {
        var mutator = CheckpointMutator.Decode(_checkpoint);
        BitConverter.TryWriteBytes(mutator.Payload.AsSpan(mutator.RngLengthOffset(RngBytes), 4), 0).Should().BeTrue();
        var file = mutator.WriteTo(Path.Combine(_directory, "mutated.kdck"));

        random.manual_seed(123);
        using var teacherNet = new Mlp(8, new[] { 16 }, numClasses: 3);
        using var studentNet = new Mlp(8, new[] { 16 }, numClasses: 3);
        var before = studentNet.parameters().Concat(teacherNet.parameters()).Select(p => p.detach().clone()).ToArray();
        var act = () => Train(resumeFrom: file, teacherNet: teacherNet, studentNet: studentNet);
        act.Should().Throw<InvalidDataException>();

        var after = studentNet.parameters().Concat(teacherNet.parameters()).ToArray();
        after.Zip(before).Should().OnlyContain(p => p.First.allclose(p.Second, 0, 0, false), "no module was loaded");
    }

    /// <summary>
    /// Where the student's SGD state for its first parameter starts in the payload: after the type name ("SGD"), the group and
    /// state counts (one 7-bit byte each) and the group's options (five doubles and two flags).
    /// </summary>
    private static int FirstSgdState(CheckpointMutator mutator)
    {
        var name = new byte[] { 3, (byte)'S', (byte)'G', (byte)'D' };
        var start = mutator.Payload.AsSpan().LastIndexOf(name);
        start.Should().BePositive("the payload holds the student's SGD state");
        mutator.Payload[start + 4].Should().Be(1, "one parameter group");
        mutator.Payload[start + 5].Should().Be(4, "four parameters");
        return start + 6 + 42;
    }

    private void ExpectRefused(CheckpointMutator mutator, string message)
    {
        var file = mutator.WriteTo(Path.Combine(_directory, "mutated.kdck"));
        var act = () => Train(resumeFrom: file);
        act.Should().Throw<InvalidDataException>().WithMessage($"*{Path.GetFileName(file)}*not a usable checkpoint*").WithMessage(message);
    }

    private FitResult Train(CancellationTokenSource? cancel = null, int cancelAtStep = -1, string? resumeFrom = null, Mlp? teacherNet = null, Mlp? studentNet = null)
    {
        using var data = SyntheticData.Blobs(64, classes: 3, seed: 3);
        if (resumeFrom is null)
        {
            random.manual_seed(4);
        }

        using var ownTeacher = teacherNet is null ? new Mlp(8, new[] { 16 }, numClasses: 3) : null;
        using var ownStudent = studentNet is null ? new Mlp(8, new[] { 16 }, numClasses: 3) : null;
        using var teacher = Teacher.FromModule(teacherNet ?? ownTeacher!, trainable: true);
        using var student = Student.FromModule(studentNet ?? ownStudent!);
        var options = new DistillerOptions
        {
            Seed = 5,
            Optimizer = new OptimizerOptions { Kind = OptimizerKind.Sgd, Momentum = 0.9, LearningRate = 0.1 },
            Checkpoint = new CheckpointOptions { Directory = _directory, Overwrite = true },
        };
        var stages = new[]
        {
            new DistillationStage("warm-up", new CrossEntropyLoss() + new CrossEntropyLoss("teacher", name: "ce_teacher")) { Epochs = 3 },
            new DistillationStage("distill", Loss.Hinton(4, 0.9)) { Epochs = 3, Trainable = new[] { "student" } },
        };
        var distiller = new Distiller(new IDistillationModel[] { teacher, student }, stages, options);
        if (cancel is not null)
        {
            distiller.Callbacks.Add(new CancelAfterSteps(cancel, cancelAtStep));
        }

        var loader = new DataLoader(data, 16, seed: 6);
        return resumeFrom is null ? distiller.Fit(loader, cancellationToken: cancel?.Token ?? default) : distiller.Resume(resumeFrom, loader);
    }
}
