namespace KnowledgeDistillation.Graph.Graphs;

/// <summary>A sparse matrix in compressed sparse row (CSR) form, as SciPy stores it in the gnn-benchmark <c>.npz</c> files.</summary>
public sealed class CsrMatrix
{
    /// <summary>Creates a CSR matrix and checks that its arrays are consistent.</summary>
    /// <param name="rows">Number of rows.</param>
    /// <param name="columns">Number of columns.</param>
    /// <param name="rowPointers">Row start offsets, length <paramref name="rows"/> + 1, non-decreasing, from 0 to the entry count.</param>
    /// <param name="columnIndices">Column of each stored entry, each in [0, <paramref name="columns"/>).</param>
    /// <param name="values">Value of each stored entry, same length as <paramref name="columnIndices"/>.</param>
    public CsrMatrix(long rows, long columns, long[] rowPointers, long[] columnIndices, float[] values)
    {
        ArgumentNullException.ThrowIfNull(rowPointers);
        ArgumentNullException.ThrowIfNull(columnIndices);
        ArgumentNullException.ThrowIfNull(values);
        if (rows < 0 || columns < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(rows), $"A CSR matrix needs a non-negative shape; got {Guard.FormatShape([rows, columns])}.");
        }

        if (rowPointers.LongLength != rows + 1)
        {
            throw new ArgumentException($"rowPointers must have rows + 1 = {rows + 1} entries; got {rowPointers.LongLength}.", nameof(rowPointers));
        }

        if (columnIndices.LongLength != values.LongLength)
        {
            throw new ArgumentException(
                $"columnIndices ({columnIndices.LongLength}) and values ({values.LongLength}) must have the same length.", nameof(values));
        }

        if (rowPointers[0] != 0 || rowPointers[^1] != columnIndices.LongLength)
        {
            throw new ArgumentException(
                $"rowPointers must start at 0 and end at the entry count {columnIndices.LongLength}; got {rowPointers[0]}..{rowPointers[^1]}.",
                nameof(rowPointers));
        }

        for (var i = 0; i < rows; i++)
        {
            if (rowPointers[i + 1] < rowPointers[i])
            {
                throw new ArgumentException($"rowPointers must be non-decreasing; row {i} starts at {rowPointers[i]} and ends at {rowPointers[i + 1]}.", nameof(rowPointers));
            }
        }

        foreach (var c in columnIndices)
        {
            if (c < 0 || c >= columns)
            {
                throw new ArgumentException($"columnIndices must be in [0, {columns}); found {c}.", nameof(columnIndices));
            }
        }

        Rows = rows;
        Columns = columns;
        RowPointers = rowPointers;
        ColumnIndices = columnIndices;
        Values = values;
    }

    /// <summary>Number of rows.</summary>
    public long Rows { get; }

    /// <summary>Number of columns.</summary>
    public long Columns { get; }

    /// <summary>Row start offsets (length <see cref="Rows"/> + 1).</summary>
    public long[] RowPointers { get; }

    /// <summary>Column index of each stored entry.</summary>
    public long[] ColumnIndices { get; }

    /// <summary>Value of each stored entry.</summary>
    public float[] Values { get; }

    /// <summary>Number of stored entries.</summary>
    public long EntryCount => Values.LongLength;

    /// <summary>The stored entries as (row, column, value) triples in row order.</summary>
    public IEnumerable<(long Row, long Column, float Value)> Entries()
    {
        for (long r = 0; r < Rows; r++)
        {
            for (var k = RowPointers[r]; k < RowPointers[r + 1]; k++)
            {
                yield return (r, ColumnIndices[k], Values[k]);
            }
        }
    }

    /// <summary>Builds a CSR matrix from (row, column, value) entries; duplicates are summed.</summary>
    public static CsrMatrix FromEntries(long rows, long columns, IEnumerable<(long Row, long Column, float Value)> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var sorted = entries
            .GroupBy(e => (e.Row, e.Column))
            .Select(g => (g.Key.Row, g.Key.Column, Value: g.Sum(e => e.Value)))
            .OrderBy(e => e.Row).ThenBy(e => e.Column)
            .ToArray();
        var pointers = new long[rows + 1];
        foreach (var e in sorted)
        {
            if (e.Row < 0 || e.Row >= rows)
            {
                throw new ArgumentException($"Entry row {e.Row} is outside [0, {rows}).", nameof(entries));
            }

            pointers[e.Row + 1]++;
        }

        for (var i = 0; i < rows; i++)
        {
            pointers[i + 1] += pointers[i];
        }

        return new CsrMatrix(rows, columns, pointers, sorted.Select(e => e.Column).ToArray(), sorted.Select(e => e.Value).ToArray());
    }

    /// <summary>The dense row-major values (rows x columns); for features and tests, not for large adjacency matrices.</summary>
    public float[] ToDense()
    {
        var dense = new float[checked(Rows * Columns)];
        foreach (var (r, c, v) in Entries())
        {
            dense[(r * Columns) + c] += v;
        }

        return dense;
    }
}
