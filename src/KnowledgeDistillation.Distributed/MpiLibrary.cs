using System.Runtime.InteropServices;

namespace KnowledgeDistillation.Distributed;

/// <summary>
/// The few Open MPI entry points this package uses, resolved from libmpi with <c>dlopen(RTLD_NOW | RTLD_GLOBAL)</c> (Open
/// MPI's plug-ins resolve their symbols against the global namespace, so a local load would break them). Open MPI's
/// handles (<c>MPI_COMM_WORLD</c>, <c>MPI_FLOAT</c>, <c>MPI_SUM</c>, ...) are addresses of global objects, resolved here
/// with <see cref="NativeLibrary.GetExport"/>.
/// </summary>
internal sealed unsafe class MpiLibrary
{
    private const int RtldNow = 0x2;
    private const int RtldGlobal = 0x100;

    /// <summary>The library names tried in order when none is given: Open MPI 4/5's soname, then the development link.</summary>
    public static readonly IReadOnlyList<string> DefaultNames = new[] { "libmpi.so.40", "libmpi.so" };

    private MpiLibrary(IntPtr handle, string path)
    {
        Path = path;
        InitThread = (delegate* unmanaged<int*, IntPtr, int, int*, int>)Export(handle, "MPI_Init_thread");
        Initialized = (delegate* unmanaged<int*, int>)Export(handle, "MPI_Initialized");
        Finalized = (delegate* unmanaged<int*, int>)Export(handle, "MPI_Finalized");
        Finalize = (delegate* unmanaged<int>)Export(handle, "MPI_Finalize");
        Abort = (delegate* unmanaged<IntPtr, int, int>)Export(handle, "MPI_Abort");
        CommRank = (delegate* unmanaged<IntPtr, int*, int>)Export(handle, "MPI_Comm_rank");
        CommSize = (delegate* unmanaged<IntPtr, int*, int>)Export(handle, "MPI_Comm_size");
        Allreduce = (delegate* unmanaged<void*, void*, int, IntPtr, IntPtr, IntPtr, int>)Export(handle, "MPI_Allreduce");
        Bcast = (delegate* unmanaged<void*, int, IntPtr, int, IntPtr, int>)Export(handle, "MPI_Bcast");
        Allgather = (delegate* unmanaged<void*, int, IntPtr, void*, int, IntPtr, IntPtr, int>)Export(handle, "MPI_Allgather");
        Barrier = (delegate* unmanaged<IntPtr, int>)Export(handle, "MPI_Barrier");
        ErrorString = (delegate* unmanaged<int, byte*, int*, int>)Export(handle, "MPI_Error_string");
        CommWorld = Export(handle, "ompi_mpi_comm_world");
        Float = Export(handle, "ompi_mpi_float");
        Double = Export(handle, "ompi_mpi_double");
        Byte = Export(handle, "ompi_mpi_byte");
        Sum = Export(handle, "ompi_mpi_op_sum");
    }

    /// <summary>The file that was loaded (as named to dlopen).</summary>
    public string Path { get; }

    /// <summary><c>MPI_Init_thread(argc, argv, required, provided)</c>.</summary>
    public delegate* unmanaged<int*, IntPtr, int, int*, int> InitThread { get; }

    public delegate* unmanaged<int*, int> Initialized { get; }

    public delegate* unmanaged<int*, int> Finalized { get; }

    public delegate* unmanaged<int> Finalize { get; }

    public delegate* unmanaged<IntPtr, int, int> Abort { get; }

    public delegate* unmanaged<IntPtr, int*, int> CommRank { get; }

    public delegate* unmanaged<IntPtr, int*, int> CommSize { get; }

    public delegate* unmanaged<void*, void*, int, IntPtr, IntPtr, IntPtr, int> Allreduce { get; }

    public delegate* unmanaged<void*, int, IntPtr, int, IntPtr, int> Bcast { get; }

    public delegate* unmanaged<void*, int, IntPtr, void*, int, IntPtr, IntPtr, int> Allgather { get; }

    public delegate* unmanaged<IntPtr, int> Barrier { get; }

    public delegate* unmanaged<int, byte*, int*, int> ErrorString { get; }

    public IntPtr CommWorld { get; }

    public IntPtr Float { get; }

    public IntPtr Double { get; }

    public IntPtr Byte { get; }

    public IntPtr Sum { get; }

    /// <summary><c>MPI_THREAD_SERIALIZED</c>: any thread may call MPI, one at a time.</summary>
    public const int ThreadSerialized = 2;

    /// <summary>Open MPI's <c>MPI_IN_PLACE</c>: the address 1.</summary>
    public static void* InPlace => (void*)1;

    /// <summary>Loads the library at <paramref name="path"/>, or the first of <see cref="DefaultNames"/> that loads.</summary>
    /// <exception cref="DllNotFoundException">No library loads; the message lists what was tried and how to install Open MPI.</exception>
    /// <exception cref="EntryPointNotFoundException">The library lacks an Open MPI symbol (another MPI implementation).</exception>
    public static MpiLibrary Load(string? path)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("KnowledgeDistillation.Distributed binds Open MPI on Linux only.");
        }

        var names = path is null ? DefaultNames : new[] { path };
        var errors = new List<string>();
        foreach (var name in names)
        {
            var handle = DlOpen(name, RtldNow | RtldGlobal);
            if (handle != IntPtr.Zero)
            {
                return new MpiLibrary(handle, name);
            }

            var error = DlError();
            errors.Add($"{name}: {(error == IntPtr.Zero ? "not found" : Marshal.PtrToStringUTF8(error))}");
        }

        throw new DllNotFoundException(
            $"Open MPI's library could not be loaded ({string.Join("; ", errors)}). Install Open MPI (Debian/Ubuntu: apt-get install openmpi-bin libopenmpi-dev), " +
            "or pass the path of libmpi.so.40 to MpiProcessGroup.Initialize.");
    }

    private static IntPtr Export(IntPtr handle, string name)
    {
        if (!NativeLibrary.TryGetExport(handle, name, out var address))
        {
            throw new EntryPointNotFoundException(
                $"The MPI library lacks '{name}'. KnowledgeDistillation.Distributed binds Open MPI (libmpi.so.40); MPICH and other implementations use different handles.");
        }

        return address;
    }

    [DllImport("libc.so.6", EntryPoint = "dlopen", CharSet = CharSet.Ansi)]
    private static extern IntPtr DlOpen([MarshalAs(UnmanagedType.LPUTF8Str)] string file, int mode);

    [DllImport("libc.so.6", EntryPoint = "dlerror")]
    private static extern IntPtr DlError();
}
