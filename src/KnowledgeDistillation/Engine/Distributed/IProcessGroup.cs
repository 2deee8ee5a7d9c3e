namespace KnowledgeDistillation.Engine;

/// <summary>
/// The processes of a data-parallel run (ranks 0..Size-1), as the engine needs them: collective calls over host
/// memory that every rank makes in the same order. <c>KnowledgeDistillation.Distributed</c> implements it over MPI
/// (<c>MpiProcessGroup</c>); set <see cref="Distiller.ProcessGroup"/> to run one <see cref="Distiller.Fit"/> per rank.
/// Every method is collective: all ranks must call it with buffers of the same length, or the run hangs or fails.
/// </summary>
public interface IProcessGroup
{
    /// <summary>This process's rank, 0..<see cref="Size"/>-1.</summary>
    int Rank { get; }

    /// <summary>The number of processes.</summary>
    int Size { get; }

    /// <summary>Replaces <paramref name="values"/> on every rank with the element-wise sum over all ranks.</summary>
    /// <param name="values">The local values (the same length on every rank).</param>
    void AllReduceSum(Span<float> values);

    /// <summary>Replaces <paramref name="values"/> on every rank with the element-wise sum over all ranks.</summary>
    /// <param name="values">The local values (the same length on every rank).</param>
    void AllReduceSum(Span<double> values);

    /// <summary>Copies <paramref name="buffer"/> of rank <paramref name="root"/> into <paramref name="buffer"/> on every other rank.</summary>
    /// <param name="buffer">The root's data, or the destination on the other ranks (the same length on every rank).</param>
    /// <param name="root">The sending rank.</param>
    void Broadcast(Span<byte> buffer, int root);

    /// <summary>Gathers every rank's <paramref name="local"/> bytes on every rank, in rank order.</summary>
    /// <param name="local">This rank's bytes (the same length on every rank).</param>
    /// <returns>One array per rank.</returns>
    byte[][] AllGather(ReadOnlySpan<byte> local);

    /// <summary>Returns when every rank has called it.</summary>
    void Barrier();
}
