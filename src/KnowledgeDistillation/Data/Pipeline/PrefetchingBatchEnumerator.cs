using System.Diagnostics;
using System.Runtime.ExceptionServices;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Data;

/// <summary>
/// Builds an epoch's batches on worker threads, at most <see cref="DataPipeline.PrefetchBatches"/> ahead of the
/// consumer, and hands them out in order. A worker's exception is rethrown to the consumer when it reaches the failed
/// batch; <see cref="Dispose"/> (or cancellation) stops the workers, waits for them, and disposes every batch not taken.
/// </summary>
internal sealed class PrefetchingBatchEnumerator : IEnumerator<Batch>
{
    private readonly object _gate = new();
    private readonly DataPipeline _pipeline;
    private readonly int _epoch;
    private readonly Device _device;
    private readonly CancellationTokenSource _stop;
    private readonly long[] _order;
    private readonly int _batches;
    private readonly int _window;
    private readonly Dictionary<int, HostBatch> _ready = new();
    private readonly Dictionary<int, ExceptionDispatchInfo> _failed = new();
    private readonly Thread[] _workers;
    private readonly Stopwatch _waited = new();
    private int _claimed;
    private int _consumed;
    private bool _failure;
    private bool _disposed;
    private Batch? _current;

    public PrefetchingBatchEnumerator(DataPipeline pipeline, int epoch, Device device, CancellationToken ct)
    {
        _pipeline = pipeline;
        _epoch = epoch;
        _device = device;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        _order = pipeline.Order(epoch);
        _batches = pipeline.BatchCount;
        _window = pipeline.PrefetchBatches;
        _stop.Token.Register(() =>
        {
            lock (_gate)
            {
                Monitor.PulseAll(_gate);
            }
        });
        _workers = new Thread[Math.Min(pipeline.Workers, _batches)];
        for (var w = 0; w < _workers.Length; w++)
        {
            _workers[w] = new Thread(Work) { IsBackground = true, Name = $"KnowledgeDistillation data worker {w}" };
            _workers[w].Start();
        }
    }

    public Batch Current => _current ?? throw new InvalidOperationException("The enumerator is not positioned on a batch.");

    object System.Collections.IEnumerator.Current => Current;

    public bool MoveNext()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _current = null;
        if (_consumed >= _batches)
        {
            return false;
        }

        HostBatch host;
        _waited.Start();
        lock (_gate)
        {
            try
            {
                while (true)
                {
                    _stop.Token.ThrowIfCancellationRequested();
                    if (_ready.Remove(_consumed, out host!))
                    {
                        break;
                    }

                    if (_failed.TryGetValue(_consumed, out var error))
                    {
                        error.Throw();
                    }

                    Monitor.Wait(_gate);
                }
            }
            finally
            {
                _waited.Stop();
            }

            _consumed++;
            Monitor.PulseAll(_gate); // a slot in the window is free
        }

        _current = host.Take(_device);
        if (_consumed == _batches)
        {
            _pipeline.LogWait(_epoch, _batches, _waited.Elapsed);
        }

        return true;
    }

    public void Reset() => throw new NotSupportedException("Ask the pipeline for the epoch's batches again.");

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _current = null;
        _stop.Cancel();
        foreach (var worker in _workers)
        {
            worker.Join();
        }

        foreach (var batch in _ready.Values)
        {
            batch.Dispose();
        }

        _ready.Clear();
        _stop.Dispose();
    }

    private void Work()
    {
        var token = _stop.Token;
        while (true)
        {
            int batch;
            lock (_gate)
            {
                while (!token.IsCancellationRequested && !_failure && _claimed < _batches && _claimed - _consumed >= _window)
                {
                    Monitor.Wait(_gate);
                }

                if (token.IsCancellationRequested || _failure || _claimed >= _batches)
                {
                    return;
                }

                batch = _claimed++;
            }

            HostBatch? built = null;
            ExceptionDispatchInfo? error = null;
            try
            {
                built = _pipeline.Build(_order, _epoch, batch, token);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                error = ExceptionDispatchInfo.Capture(e);
            }

            lock (_gate)
            {
                if (token.IsCancellationRequested)
                {
                    built?.Dispose();
                    return;
                }

                if (error is not null)
                {
                    _failed[batch] = error;
                    _failure = true; // claim no more batches; the consumer sees the error when it reaches this one
                }
                else
                {
                    _ready[batch] = built!;
                }

                Monitor.PulseAll(_gate);
            }
        }
    }
}
