using System.Text;
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
/// Checkpoints whose loss-state block (DR-KD's previous-epoch self-teacher store) was altered behind a consistent SHA-256
/// trailer: each is refused with an <see cref="InvalidDataException"/> naming the file and the state before any module
/// is restored. Regression tests for the fuzzing campaign's findings (issue 22).
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class LossStateHardeningTests : IDisposable
{
    private const string FieldKey = "field0:self-teacher-logits";
    private readonly string _directory = Directory.CreateTempSubdirectory("kd-lossstate-harden-").FullName;
    private readonly string _checkpoint;

    public LossStateHardeningTests()
    {
        _checkpoint = Path.Combine(_directory, "checkpoint.kdck");
        using var cts = new CancellationTokenSource();
        var act = () => Train(cts, cancelAtStep: 6); // epoch 1, batch 2: the store holds epoch 0's logits
        act.Should().Throw<OperationCanceledException>();
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void An_unchanged_checkpoint_resumes()
    {
        var file = CheckpointMutator.Decode(_checkpoint).WriteTo(Path.Combine(_directory, "same.kdck"));
        Train(resumeFrom: file).History.Should().HaveCount(3);
    }

    [Fact]
    public void Field_key_without_a_number_is_refused()
    {
        // was: FormatException from Int32.Parse in SampleStoreState.Import
        ExpectRefused(ReplaceKey("field0:", "field :"), "*self-teacher-logits*key 'field :self-teacher-logits'*");
    }

    [Fact]
    public void Field_with_another_name_is_refused()
    {
        // was: accepted into the fresh store, then InvalidOperationException from the self-teacher at the next step
        ExpectRefused(ReplaceKey("self-teacher-logits", "self-teacher-logitz"), "*self-teacher-logits*[self-teacher-logitz]*owner uses [self-teacher-logits]*");
    }

    [Fact]
    public void Non_finite_logits_of_a_written_sample_are_refused()
    {
        // was: accepted; the NaN self-teacher logits reached DrKdLoss.Rectify (a native index error) or made the loss NaN
        var mutator = CheckpointMutator.Decode(_checkpoint);
        var key = Encoding.UTF8.GetBytes(FieldKey);
        var at = mutator.Payload.AsSpan().IndexOf(key);
        at.Should().BePositive();
        var header = at + key.Length; // Int32 element type (Float32 = 6), Int32 rank 2, Int64 sizes 48 and 3, Int32 byte length
        BitConverter.ToInt32(mutator.Payload, header).Should().Be(6);
        BitConverter.ToInt32(mutator.Payload, header + 4).Should().Be(2);
        BitConverter.ToInt64(mutator.Payload, header + 8).Should().Be(48);
        BitConverter.ToInt64(mutator.Payload, header + 16).Should().Be(3);
        var data = header + 28;
        BitConverter.TryWriteBytes(mutator.Payload.AsSpan(data + 4, 4), float.NaN).Should().BeTrue(); // sample 0 (written in epoch 0)
        ExpectRefused(mutator, "*self-teacher-logits*not finite*");
    }

    private CheckpointMutator ReplaceKey(string from, string to)
    {
        from.Length.Should().Be(to.Length);
        var mutator = CheckpointMutator.Decode(_checkpoint);
        var key = Encoding.UTF8.GetBytes(FieldKey);
        var at = mutator.Payload.AsSpan().IndexOf(key);
        at.Should().BePositive("the payload holds the self-teacher's store");
        var replaced = Encoding.UTF8.GetBytes(FieldKey.Replace(from, to, StringComparison.Ordinal));
        replaced.CopyTo(mutator.Payload, at);
        return mutator;
    }

    private void ExpectRefused(CheckpointMutator mutator, string message)
    {
        var file = mutator.WriteTo(Path.Combine(_directory, "mutated.kdck"));
        random.manual_seed(9);
        using var studentNet = new Mlp(8, new[] { 16 }, numClasses: 3);
        var before = studentNet.parameters().Select(p => p.detach().clone()).ToArray();
        var act = () => Train(resumeFrom: file, studentNet: studentNet);
        act.Should().Throw<InvalidDataException>().WithMessage($"*{Path.GetFileName(file)}*not a usable checkpoint*").WithMessage(message);
        studentNet.parameters().Zip(before).Should().OnlyContain(p => p.First.allclose(p.Second, 0, 0, false), "no module was loaded");
    }

    private FitResult Train(CancellationTokenSource? cancel = null, int cancelAtStep = -1, string? resumeFrom = null, Mlp? studentNet = null)
    {
        using var data = SyntheticData.Blobs(48, classes: 3, seed: 3);
        if (resumeFrom is null)
        {
            random.manual_seed(4);
        }

        using var ownStudent = studentNet is null ? new Mlp(8, new[] { 16 }, numClasses: 3) : null;
        using var student = Student.FromModule(studentNet ?? ownStudent!);
        using var source = new PreviousEpochSelfTeacher(48);
        var options = new DistillerOptions { Epochs = 3, Seed = 5, Checkpoint = new CheckpointOptions { Directory = _directory, Overwrite = true } }; // the reference run and the interrupted run share the directory
        var distiller = new Distiller(new IDistillationModel[] { student }, Recipes.DrKd(4, 0.9, source), options);
        if (cancel is not null)
        {
            distiller.Callbacks.Add(new CancelAfterSteps(cancel, cancelAtStep));
        }

        var loader = new DataLoader(data, 16, seed: 6);
        return resumeFrom is null ? distiller.Fit(loader, cancellationToken: cancel?.Token ?? default) : distiller.Resume(resumeFrom, loader);
    }
}
