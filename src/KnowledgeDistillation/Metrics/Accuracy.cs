using KnowledgeDistillation.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Metrics;

/// <summary>Top-k classification accuracy, accumulated on the device. Batches without logits or class targets are skipped.</summary>
public sealed class Accuracy : IResumableMetric
{
    private Tensor? _correct;
    private long _count;

    /// <summary>Creates the metric.</summary>
    /// <param name="topK">Count a sample as correct when its label is among the <paramref name="topK"/> highest logits (&gt;= 1).</param>
    public Accuracy(int topK = 1)
    {
        if (topK < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(topK), topK, "'topK' must be >= 1.");
        }

        TopK = topK;
        Name = topK == 1 ? "accuracy" : $"top{topK}_accuracy";
    }

    /// <summary>The k of top-k.</summary>
    public int TopK { get; }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public bool HigherIsBetter => true;

    /// <inheritdoc />
    public void Update(ModelOutput output, Batch batch)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(batch);
        if (output.Logits is not { } logits || batch.Targets is not { } targets)
        {
            return;
        }

        using var scope = NewDisposeScope();
        Tensor hits;
        if (TopK == 1)
        {
            hits = logits.argmax(1).eq(targets).sum();
        }
        else
        {
            var k = Math.Min(TopK, (int)logits.shape[1]);
            var top = logits.topk(k, 1).indexes;
            hits = top.eq(targets.unsqueeze(1)).any(1).sum();
        }

        if (_correct is null)
        {
            _correct = zeros(1, ScalarType.Int64, hits.device).DetachFromDisposeScope();
        }
        else if (_correct.device_type != hits.device_type || _correct.device_index != hits.device_index)
        {
            var moved = _correct.to(hits.device).DetachFromDisposeScope();
            _correct.Dispose();
            _correct = moved;
        }

        _correct.add_(hits);
        _count += batch.Size;
    }

    /// <inheritdoc />
    public double Compute() => _count == 0 || _correct is null ? double.NaN : (double)_correct.item<long>() / _count;

    /// <inheritdoc />
    public double[] GetState() => new[] { _correct is null ? 0.0 : _correct.item<long>(), _count };

    /// <inheritdoc />
    public void SetState(double[] state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Length != 2)
        {
            throw new ArgumentException($"An accuracy state has 2 numbers (correct, count); got {state.Length}.", nameof(state));
        }

        Reset();
        _count = (long)state[1];
        if (_count > 0)
        {
            _correct = tensor(new[] { (long)state[0] }).DetachFromDisposeScope();
        }
    }

    /// <inheritdoc />
    public void Reset()
    {
        _correct?.Dispose();
        _correct = null;
        _count = 0;
    }

    /// <inheritdoc />
    public void Dispose() => Reset();
}
