using System.Diagnostics;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Data;

/// <summary>Builds each batch on the calling thread when it advances (<see cref="DataPipelineOptions.Workers"/> = 0).</summary>
internal sealed class SynchronousBatchEnumerator : IEnumerator<Batch>
{
    private readonly DataPipeline _pipeline;
    private readonly int _epoch;
    private readonly Device _device;
    private readonly CancellationToken _ct;
    private readonly long[] _order;
    private readonly int _batches;
    private readonly Stopwatch _waited = new();
    private int _next;
    private Batch? _current;

    public SynchronousBatchEnumerator(DataPipeline pipeline, int epoch, Device device, CancellationToken ct)
    {
        _pipeline = pipeline;
        _epoch = epoch;
        _device = device;
        _ct = ct;
        _order = pipeline.Order(epoch);
        _batches = pipeline.BatchCount;
    }

    public Batch Current => _current ?? throw new InvalidOperationException("The enumerator is not positioned on a batch.");

    object System.Collections.IEnumerator.Current => Current;

    public bool MoveNext()
    {
        if (_next >= _batches)
        {
            _current = null;
            return false;
        }

        _ct.ThrowIfCancellationRequested();
        _waited.Start();
        try
        {
            using var host = _pipeline.Build(_order, _epoch, _next, _ct);
            _current = host.Take(_device);
        }
        finally
        {
            _waited.Stop();
        }

        if (++_next == _batches)
        {
            _pipeline.LogWait(_epoch, _batches, _waited.Elapsed);
        }

        return true;
    }

    public void Reset() => throw new NotSupportedException("Ask the pipeline for the epoch's batches again.");

    public void Dispose() => _current = null;
}
