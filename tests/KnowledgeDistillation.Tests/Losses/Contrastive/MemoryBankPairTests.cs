using FluentAssertions;
using KnowledgeDistillation.Losses;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Losses;

/// <summary>The memory banks CRD and HKD share (<see cref="MemoryBankPair"/>).</summary>
public sealed class MemoryBankPairTests
{
    [Fact]
    public void Apply_moves_only_the_remembered_rows_to_the_normalised_mix_and_counts()
    {
        using var scope = NewDisposeScope();
        using var banks = new MemoryBankPair(6, 3, seed: 4, momentum: 0.9, "CRD");
        var student0 = banks.Student.to_type(ScalarType.Float64).clone();
        var teacher0 = banks.Teacher.to_type(ScalarType.Float64).clone();
        var bound = 1 / Math.Sqrt(3 / 3.0);
        banks.Student.abs().max().item<float>().Should().BeLessThanOrEqualTo((float)bound, "uniform in ±1/√(D/3)");
        banks.Apply().Should().BeFalse("nothing remembered yet");

        var indices = tensor(new long[] { 4, 1 });
        var vs = tensor(new float[] { 1, 0, 0, 0, 1, 0 }, new long[] { 2, 3 });
        var vt = tensor(new float[] { 0, 0, 1, 0.6f, 0.8f, 0 }, new long[] { 2, 3 });
        banks.Remember(indices, vs, vt);
        banks.HasPending.Should().BeTrue();
        banks.Student.to_type(ScalarType.Float64).sub(student0).abs().max().item<double>().Should().Be(0, "remembering does not touch the banks");
        banks.Apply().Should().BeTrue();
        banks.HasPending.Should().BeFalse();
        banks.Updates.Should().Be(1);

        for (var row = 0; row < 6; row++)
        {
            var k = row == 4 ? 0 : row == 1 ? 1 : -1;
            foreach (var (bank, before, v) in new[] { (banks.Student, student0, vs), (banks.Teacher, teacher0, vt) })
            {
                var now = bank[row].to_type(ScalarType.Float64);
                if (k < 0)
                {
                    now.sub(before[row]).abs().max().item<double>().Should().Be(0, $"row {row} was not in the batch");
                    continue;
                }

                var mixed = (before[row] * 0.9) + (v[k].to_type(ScalarType.Float64) * 0.1);
                now.sub(mixed / mixed.norm()).abs().max().item<double>().Should().BeLessThan(1e-6, $"row {row} moves to normalize(0.9 m + 0.1 v)");
            }
        }
    }

    [Fact]
    public void A_bad_import_leaves_everything_as_it_was_and_bad_indices_name_the_method()
    {
        using var scope = NewDisposeScope();
        using var banks = new MemoryBankPair(5, 2, seed: 1, momentum: 0.5, "HKD");
        banks.Remember(tensor(new long[] { 0 }), ones(1, 2), ones(1, 2));
        var before = banks.Student.clone();
        var saved = banks.Export().ToDictionary(p => p.Key, p => p.Value.clone());
        saved.Keys.Should().Equal("student_bank", "teacher_bank", "updates");
        saved["teacher_bank"] = zeros(4, 2);
        ((Action)(() => banks.Import(saved))).Should().Throw<InvalidDataException>().WithMessage("*HKD*teacher_bank*[5, 2]*N = 5*");
        banks.HasPending.Should().BeTrue("a refused import changes nothing");
        banks.Student.sub(before).abs().max().item<float>().Should().Be(0);

        ((Action)(() => banks.CheckIndices(tensor(new long[] { 0, 5 }), 2, CPU))).Should().Throw<ArgumentOutOfRangeException>()
            .Where(e => e.ParamName == "indices").WithMessage("*[0, 5]*HKD memory banks have 5 rows*");
        ((Action)(() => banks.CheckIndices(null, 2, CPU))).Should().Throw<ArgumentException>().WithMessage("*HKD needs*Batch.Indices*");
        ((Action)(() => banks.CheckNegatives(tensor(new long[] { 0, 7 }).reshape(1, 2), 1, 2, CPU))).Should().Throw<InvalidOperationException>().WithMessage("*HKD*[0, 5)*");
        ((Action)(() => banks.CheckNegatives(zeros(1, 3, ScalarType.Int64), 1, 2, CPU))).Should().Throw<InvalidOperationException>().WithMessage("*int64 [1, 2]*[1, 3]*");
    }

    [Fact]
    public void Crd_and_hkd_checkpoints_keep_their_keys()
    {
        // The keys (and, for the byte layout of a checkpoint, their order) of the states written before the shared type.
        using var scope = NewDisposeScope();
        using var crd = new CrdLoss("x", new CrdEmbedding(4, 3), new CrdEmbedding(5, 3), dataSize: 8, negatives: 2);
        crd.State.Single().Export().Keys.Should().Equal("student_bank", "teacher_bank", "normalizers", "updates");
        using var hkd = new HkdLoss("x", new CrdEmbedding(4, 3), new CrdEmbedding(5, 3), new HkdGraphEncoder(3), new HkdGraphEncoder(3), dataSize: 8, negatives: 2);
        hkd.State.Single().Export().Keys.Should().Equal("student_bank", "teacher_bank", "updates");
    }
}
