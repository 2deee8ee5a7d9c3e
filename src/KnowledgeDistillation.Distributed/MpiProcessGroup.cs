using System.Text;
using KnowledgeDistillation.Engine;

namespace KnowledgeDistillation.Distributed;

/// <summary>
/// <c>MPI_COMM_WORLD</c> of Open MPI as an <see cref="IProcessGroup"/>: start the application with
/// <c>mpirun -np N dotnet App.dll</c>, call <see cref="Initialize"/> once per process, and set
/// <see cref="Distiller.ProcessGroup"/>. Every algorithm (sum, broadcast, gather, barrier) is MPI's; this class only
/// moves host buffers in and out, in chunks of at most <see cref="int.MaxValue"/> elements. MPI is initialised with
/// <c>MPI_THREAD_SERIALIZED</c>: any thread may use the group, but not two at once. <see cref="Dispose"/> finalises MPI when this instance initialised it.
/// </summary>
public sealed unsafe class MpiProcessGroup : IProcessGroup, IDisposable
{
    private static readonly object Gate = new();
    private static MpiProcessGroup? _current;
    private readonly MpiLibrary _mpi;
    private readonly bool _ownsInit;
    private bool _disposed;

    private MpiProcessGroup(MpiLibrary mpi, bool ownsInit)
    {
        _mpi = mpi;
        _ownsInit = ownsInit;
        int rank, size;
        Check("MPI_Comm_rank", _mpi.CommRank(_mpi.CommWorld, &rank));
        Check("MPI_Comm_size", _mpi.CommSize(_mpi.CommWorld, &size));
        Rank = rank;
        Size = size;
    }

    /// <inheritdoc />
    public int Rank { get; }

    /// <inheritdoc />
    public int Size { get; }

    /// <summary>The MPI library that was loaded.</summary>
    public string LibraryPath => _mpi.Path;

    /// <summary>
    /// Loads Open MPI and initialises it (unless the process already did), once per process; later calls return the same
    /// group until it is disposed.
    /// </summary>
    /// <param name="libraryPath">The MPI library; default: <c>libmpi.so.40</c>, then <c>libmpi.so</c>, from the loader's path.</param>
    /// <returns>The world group.</returns>
    /// <exception cref="DllNotFoundException">Open MPI is not installed (or not at <paramref name="libraryPath"/>); the message says how to install it.</exception>
    /// <exception cref="EntryPointNotFoundException">The library is not Open MPI.</exception>
    /// <exception cref="PlatformNotSupportedException">Not on Linux.</exception>
    /// <exception cref="InvalidOperationException">MPI was already finalised in this process (it cannot start twice).</exception>
    public static MpiProcessGroup Initialize(string? libraryPath = null)
    {
        if (libraryPath is not null)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(libraryPath);
        }

        lock (Gate)
        {
            if (_current is { _disposed: false } current)
            {
                return current;
            }

            var mpi = MpiLibrary.Load(libraryPath);
            int initialized, finalized;
            Check(mpi, "MPI_Finalized", mpi.Finalized(&finalized));
            if (finalized != 0)
            {
                throw new InvalidOperationException("MPI was already finalised in this process; MPI cannot be initialised again (start a new process).");
            }

            Check(mpi, "MPI_Initialized", mpi.Initialized(&initialized));
            if (initialized == 0)
            {
                // Serialized: the training loop may run on another thread than the one that initialised (FitAsync).
                int provided;
                Check(mpi, "MPI_Init_thread", mpi.InitThread(null, IntPtr.Zero, MpiLibrary.ThreadSerialized, &provided));
                if (provided < MpiLibrary.ThreadSerialized)
                {
                    mpi.Finalize();
                    throw new InvalidOperationException(
                        $"This MPI library provides thread level {provided}, below MPI_THREAD_SERIALIZED; build Open MPI with thread support.");
                }
            }

            _current = new MpiProcessGroup(mpi, initialized == 0);
            return _current;
        }
    }

    /// <inheritdoc />
    public void AllReduceSum(Span<float> values)
    {
        ThrowIfDisposed();
        fixed (float* start = values)
        {
            for (var offset = 0L; offset < values.Length; offset += int.MaxValue)
            {
                var count = (int)Math.Min(int.MaxValue, values.Length - offset);
                Check("MPI_Allreduce", _mpi.Allreduce(MpiLibrary.InPlace, start + offset, count, _mpi.Float, _mpi.Sum, _mpi.CommWorld));
            }
        }
    }

    /// <inheritdoc />
    public void AllReduceSum(Span<double> values)
    {
        ThrowIfDisposed();
        fixed (double* start = values)
        {
            for (var offset = 0L; offset < values.Length; offset += int.MaxValue)
            {
                var count = (int)Math.Min(int.MaxValue, values.Length - offset);
                Check("MPI_Allreduce", _mpi.Allreduce(MpiLibrary.InPlace, start + offset, count, _mpi.Double, _mpi.Sum, _mpi.CommWorld));
            }
        }
    }

    /// <inheritdoc />
    public void Broadcast(Span<byte> buffer, int root)
    {
        ThrowIfDisposed();
        if (root < 0 || root >= Size)
        {
            throw new ArgumentOutOfRangeException(nameof(root), root, $"The root must be a rank, 0..{Size - 1}.");
        }

        fixed (byte* start = buffer)
        {
            for (var offset = 0L; offset < buffer.Length; offset += int.MaxValue)
            {
                var count = (int)Math.Min(int.MaxValue, buffer.Length - offset);
                Check("MPI_Bcast", _mpi.Bcast(start + offset, count, _mpi.Byte, root, _mpi.CommWorld));
            }
        }
    }

    /// <inheritdoc />
    public byte[][] AllGather(ReadOnlySpan<byte> local)
    {
        ThrowIfDisposed();
        if ((long)local.Length * Size > int.MaxValue)
        {
            throw new ArgumentException($"AllGather gathers at most {int.MaxValue} bytes in all; {local.Length} bytes from {Size} ranks is more.", nameof(local));
        }

        var all = new byte[local.Length * Size];
        fixed (byte* send = local)
        fixed (byte* receive = all)
        {
            Check("MPI_Allgather", _mpi.Allgather(send, local.Length, _mpi.Byte, receive, local.Length, _mpi.Byte, _mpi.CommWorld));
        }

        var length = local.Length;
        return Enumerable.Range(0, Size).Select(r => all.AsSpan(r * length, length).ToArray()).ToArray();
    }

    /// <inheritdoc />
    public void Barrier()
    {
        ThrowIfDisposed();
        Check("MPI_Barrier", _mpi.Barrier(_mpi.CommWorld));
    }

    /// <summary>
    /// Ends every rank of the job now (<c>MPI_Abort</c>): what to call when this rank fails while the others may be waiting
    /// in a collective call, which would otherwise hang.
    /// </summary>
    /// <param name="exitCode">The exit code mpirun reports.</param>
    public void Abort(int exitCode)
    {
        _mpi.Abort(_mpi.CommWorld, exitCode);
    }

    /// <summary>Finalises MPI (collective: every rank must dispose) when <see cref="Initialize"/> initialised it. Safe to call more than once.</summary>
    public void Dispose()
    {
        lock (Gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            if (_ownsInit)
            {
                int finalized;
                Check("MPI_Finalized", _mpi.Finalized(&finalized));
                if (finalized == 0)
                {
                    Check("MPI_Finalize", _mpi.Finalize());
                }
            }
        }
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    private void Check(string function, int code) => Check(_mpi, function, code);

    private static void Check(MpiLibrary mpi, string function, int code)
    {
        if (code == 0)
        {
            return;
        }

        var text = new byte[1024]; // MPI_MAX_ERROR_STRING is 256 in Open MPI
        int length = 0;
        fixed (byte* buffer = text)
        {
            mpi.ErrorString(code, buffer, &length);
        }

        throw new MpiException(function, code, Encoding.ASCII.GetString(text, 0, Math.Clamp(length, 0, text.Length)));
    }
}
