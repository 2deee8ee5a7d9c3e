using System.Runtime.InteropServices;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Engine;

/// <summary>
/// The engine's side of a data-parallel run over an <see cref="IProcessGroup"/>: parameters from rank 0 at the start,
/// gradients averaged in buckets after each backward pass, epoch sums reduced for the record. With no group (or a group
/// of one) every call returns at once, so the single-process path is unchanged.
/// </summary>
internal sealed class DataParallel
{
    private readonly IProcessGroup? _group;
    private readonly long _bucketElements;

    public DataParallel(IProcessGroup? group, int bucketBytes)
    {
        _group = group is { Size: > 1 } ? group : null;
        _bucketElements = Math.Max(1, bucketBytes / sizeof(float));
    }

    /// <summary>Whether more than one process takes part.</summary>
    public bool Enabled => _group is not null;

    /// <summary>Whether this process writes checkpoints (rank 0, or the only process).</summary>
    public bool IsRoot => _group is null || _group.Rank == 0;

    /// <summary>This process's rank (0 without a group).</summary>
    public int Rank => _group?.Rank ?? 0;

    /// <summary>The number of processes (1 without a group).</summary>
    public int Size => _group?.Size ?? 1;

    /// <summary>Returns when every rank got here (after rank 0 wrote a checkpoint).</summary>
    public void Barrier() => _group?.Barrier();

    /// <summary>
    /// Copies every tensor of the modules' state (parameters and buffers) from rank 0 to the other ranks, so every rank
    /// starts from the same weights whatever its own initialisation was.
    /// </summary>
    public void BroadcastFromRoot(IEnumerable<nn.Module> modules)
    {
        if (_group is null)
        {
            return;
        }

        using var noGrad = no_grad();
        foreach (var module in modules)
        {
            foreach (var (_, value) in module.state_dict().OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                using var scope = NewDisposeScope();
                var host = value.detach().cpu().contiguous().clone();
                _group.Broadcast(host.bytes, 0);
                value.detach().copy_(host.to(value.device));
            }
        }
    }

    /// <summary>
    /// Averages the gradients of <paramref name="parameters"/> over the ranks: float32 gradients are packed into buckets of
    /// at most the configured size, each bucket is summed with one allreduce (through host memory) and divided by the
    /// rank count. Parameters without a gradient are skipped (the same ones on every rank, as every rank runs the same graph).
    /// </summary>
    public void AverageGradients(IReadOnlyList<Parameter> parameters)
    {
        if (_group is null)
        {
            return;
        }

        using var noGrad = no_grad();
        var grads = new List<Tensor>();
        foreach (var parameter in parameters)
        {
            if (parameter.grad is { } grad)
            {
                if (grad.dtype != ScalarType.Float32)
                {
                    throw new InvalidOperationException(
                        $"Data-parallel training averages float32 gradients; a parameter of shape {Guard.FormatShape(parameter.shape)} has {grad.dtype} gradients.");
                }

                grads.Add(grad);
            }
        }

        var start = 0;
        while (start < grads.Count)
        {
            var end = start;
            long elements = 0;
            while (end < grads.Count && (end == start || elements + grads[end].numel() <= _bucketElements))
            {
                elements += grads[end].numel();
                end++;
            }

            Reduce(grads.GetRange(start, end - start));
            start = end;
        }
    }

    private void Reduce(IReadOnlyList<Tensor> grads)
    {
        using var scope = NewDisposeScope();
        var flat = cat(grads.Select(g => g.reshape(-1)).ToArray()).cpu().contiguous(); // a new tensor: host staging on CUDA
        var values = MemoryMarshal.Cast<byte, float>(flat.bytes);
        _group!.AllReduceSum(values);
        flat.div_(_group.Size);
        var device = flat.to(grads[0].device);
        long offset = 0;
        foreach (var grad in grads)
        {
            grad.copy_(device.narrow(0, offset, grad.numel()).view(grad.shape));
            offset += grad.numel();
        }
    }

    /// <summary>
    /// Throws on every rank when the ranks disagree on any item of the setup (participants, stages, options, data): each
    /// item is hashed, the hashes are gathered, and the message names the items and ranks that differ from rank 0, with
    /// this rank's description of them.
    /// </summary>
    public void CheckAgreement(IReadOnlyList<(string Item, string Description)> setup)
    {
        if (_group is null)
        {
            return;
        }

        var local = setup.SelectMany(s => System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(s.Item + "\n" + s.Description))).ToArray();
        var all = _group.AllGather(local);
        var differences = new List<string>();
        for (var i = 0; i < setup.Count; i++)
        {
            var ranks = Enumerable.Range(1, all.Length - 1).Where(r => !all[r].AsSpan(i * 32, 32).SequenceEqual(all[0].AsSpan(i * 32, 32))).ToArray();
            if (ranks.Length > 0)
            {
                differences.Add($"{setup[i].Item} (rank(s) {string.Join(", ", ranks)} differ from rank 0; here: {setup[i].Description})");
            }
        }

        if (differences.Count > 0)
        {
            throw new InvalidOperationException(
                $"The {_group.Size} ranks of this data-parallel run disagree on the setup, so no step was taken. This is rank {_group.Rank}. " +
                $"Different: {string.Join("; ", differences)}. Start every rank with the same participants, stages, options and data.");
        }
    }

    /// <summary>Sums <paramref name="values"/> over the ranks in place.</summary>
    public void SumInPlace(double[] values)
    {
        if (_group is not null && values.Length > 0)
        {
            _group.AllReduceSum(values);
        }
    }
}
