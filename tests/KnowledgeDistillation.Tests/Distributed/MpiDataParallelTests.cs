using System.Globalization;
using System.Text.RegularExpressions;
using FluentAssertions;
using Xunit;

namespace KnowledgeDistillation.Tests.Distributed;

/// <summary>
/// Data-parallel distillation under <c>mpirun -np 2</c> on loopback (tests/KnowledgeDistillation.MpiHost), against the
/// plain single-process engine as the reference. The host trains an MLP student with KD + CE + a loss with its own
/// trainable projection (no batch norm: its batch statistics are per rank, docs/scaling.md); rank 1 starts from other
/// weights, so agreement also shows that rank 0's are broadcast.
/// </summary>
[Collection(MpiCollection.Name)]
public sealed class MpiDataParallelTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "kd-mpi-" + Guid.NewGuid().ToString("N"));

    public MpiDataParallelTests() => Directory.CreateDirectory(_directory);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [FactRequiresMpi]
    public void TwoRanksWithHalfBatchesEndWithTheParametersOfOneProcessWithFullBatches()
    {
        var single = Path.Combine(_directory, "single.bin");
        var parallel = Path.Combine(_directory, "parallel.bin");

        var (singleExit, singleOutput) = MpiRun.Host(0, "train", "--out", single);
        var (parallelExit, parallelOutput) = MpiRun.Host(2, "train", "--out", parallel);

        singleExit.Should().Be(0, singleOutput);
        parallelExit.Should().Be(0, parallelOutput);
        var expected = MpiRun.ReadTensors(single);
        var actual = MpiRun.ReadTensors(parallel);
        actual.Keys.Should().BeEquivalentTo(expected.Keys);
        expected.Keys.Should().Contain(k => k.StartsWith("projection.", StringComparison.Ordinal), "the loss module's parameters are averaged too");
        foreach (var (name, values) in expected)
        {
            for (var i = 0; i < values.Length; i++)
            {
                actual[name][i].Should().BeApproximately(values[i], 1e-5f, $"{name}[{i}] after 18 steps");
            }
        }

        // The reduced records: the mean loss over both ranks equals the full-batch loss, the accuracy counts all samples.
        Losses(parallelOutput).Should().HaveCount(3);
        Losses(parallelOutput).Zip(Losses(singleOutput)).Should().OnlyContain(p => Math.Abs(p.First - p.Second) < 1e-6);
        Accuracies(parallelOutput).Should().Equal(Accuracies(singleOutput));
    }

    [FactRequiresMpi]
    public void ARunWhoseRanksWereAllKilledResumesToTheUninterruptedParameters()
    {
        var reference = Path.Combine(_directory, "reference.bin");
        var resumed = Path.Combine(_directory, "resumed.bin");
        var checkpoints = Path.Combine(_directory, "checkpoints");
        MpiRun.Host(2, "train", "--out", reference).ExitCode.Should().Be(0);

        // Both ranks SIGKILL themselves at global step 8 (epoch 2); the epoch-1 checkpoint is what survives.
        var (killedExit, killedOutput) = MpiRun.Host(2, "train", "--out", Path.Combine(_directory, "never.bin"), "--checkpoint", checkpoints, "--kill-at-step", "8");
        killedExit.Should().NotBe(0, killedOutput);
        File.Exists(Path.Combine(_directory, "never.bin")).Should().BeFalse();
        File.Exists(Path.Combine(checkpoints, "checkpoint.kdck")).Should().BeTrue(killedOutput);

        var (resumedExit, resumedOutput) = MpiRun.Host(2, "train", "--out", resumed, "--checkpoint", checkpoints, "--resume");

        resumedExit.Should().Be(0, resumedOutput);
        File.ReadAllBytes(resumed).Should().Equal(File.ReadAllBytes(reference), "resuming with the same number of ranks continues bit for bit");
    }

    [FactRequiresMpi]
    public void ATeacherCacheBuiltInShardsEqualsTheSingleProcessCacheByteForByte()
    {
        var single = Path.Combine(_directory, "single.kdc");
        var sharded = Path.Combine(_directory, "sharded.kdc");

        MpiRun.Host(0, "cache", "--out", single).ExitCode.Should().Be(0);
        var (exit, output) = MpiRun.Host(2, "cache", "--out", sharded);

        exit.Should().Be(0, output);
        output.Should().Contain("rank 0: samples 0..47").And.Contain("rank 1: samples 48..99");
        File.Exists(sharded + ".shard-0-of-2").Should().BeFalse("the shards are deleted after the merge");
        File.ReadAllBytes(sharded).Should().Equal(File.ReadAllBytes(single));
    }

    [FactRequiresMpi]
    public void RanksWithDifferentDataFailBeforeAnyStepNamingTheDifference()
    {
        var (exit, output) = MpiRun.Host(2, "train", "--out", Path.Combine(_directory, "x.bin"), "--disagree");

        exit.Should().NotBe(0);
        output.Should().Contain("disagree on the setup, so no step was taken")
            .And.Contain("training data (rank(s) 1 differ from rank 0")
            .And.NotContain("epoch 1:");
    }

    private static double[] Losses(string output) =>
        Regex.Matches(output, @"epoch \d+: loss (\S+)").Select(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToArray();

    private static string[] Accuracies(string output) =>
        Regex.Matches(output, @"accuracy (\S+)").Select(m => m.Groups[1].Value).ToArray();
}

/// <summary>The MPI tests run alone, after the parallel ones: each starts two ranks on a small machine.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MpiCollection
{
    public const string Name = "MPI";
}
