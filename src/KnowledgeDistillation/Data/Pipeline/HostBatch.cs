using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Data;

/// <summary>
/// A batch built by a worker: CPU tensors that belong to no dispose scope until the training thread takes them with
/// <see cref="Take"/>. A batch never taken is disposed by whoever drops it.
/// </summary>
internal sealed class HostBatch : IDisposable
{
    private Tensor? _inputs;
    private Tensor? _targets;
    private Tensor? _indices;

    public HostBatch(Tensor inputs, Tensor? targets, Tensor indices)
    {
        _inputs = inputs;
        _targets = targets;
        _indices = indices;
    }

    /// <summary>
    /// Hands the tensors to the calling thread: each becomes a new handle on <paramref name="device"/> created here (so it
    /// joins this thread's current dispose scope), and the worker's handles are released.
    /// </summary>
    public Batch Take(Device device)
    {
        var inputs = _inputs ?? throw new ObjectDisposedException(nameof(HostBatch));
        try
        {
            return new Batch(Adopt(inputs, device), _targets is null ? null : Adopt(_targets, device), Adopt(_indices!, device));
        }
        finally
        {
            Dispose();
        }
    }

    public void Dispose()
    {
        _inputs?.Dispose();
        _targets?.Dispose();
        _indices?.Dispose();
        _inputs = _targets = _indices = null;
    }

    private static Tensor Adopt(Tensor t, Device device) =>
        t.device_type == device.type && (device.type == DeviceType.CPU || t.device_index == device.index) ? t.alias() : t.to(device);
}
