using KnowledgeDistillation.Data;
using KnowledgeDistillation.Transformers.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Transformers.Data;

/// <summary>
/// Tokenised sentences as an <see cref="IBatchSource"/>: inputs are token ids <c>[batch, longest in batch]</c> (int64),
/// padded per batch with the pad id (dynamic padding), targets the class ids. The order is a pure function of
/// (seed, epoch); with <see cref="BucketBatches"/>, consecutive groups of <c>batchSize * BucketBatches</c> shuffled samples are
/// sorted by length before batching (less padding), and the batches are then shuffled.
/// </summary>
public sealed class TextBatchSource : IBatchSource
{
    private readonly long[][] ids;
    private readonly long[] labels;
    private readonly int batchSize;
    private readonly bool shuffle;
    private readonly ulong seed;
    private readonly long padId;

    /// <summary>Tokenises <paramref name="data"/>.</summary>
    /// <param name="data">Sentences and labels.</param>
    /// <param name="tokenizer">The WordPiece tokenizer.</param>
    /// <param name="maxLength">Longest sequence including [CLS] and [SEP] (>= 2).</param>
    /// <param name="batchSize">Sentences per batch (>= 1).</param>
    /// <param name="shuffle">Shuffle every epoch.</param>
    /// <param name="seed">Seed of the order.</param>
    /// <param name="bucketBatches">0 for no length bucketing; otherwise batches per sorted bucket.</param>
    public TextBatchSource(TextClassificationData data, WordPieceTokenizer tokenizer, int maxLength, int batchSize, bool shuffle = true, int seed = 0, int bucketBatches = 0)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(bucketBatches);
        if (data.Count == 0)
        {
            throw new ArgumentException("The data holds no sentences.", nameof(data));
        }

        ids = data.Texts.Select(t => tokenizer.Encode(t, maxLength)).ToArray();
        labels = data.Labels.Select(l => (long)l).ToArray();
        this.batchSize = batchSize;
        this.shuffle = shuffle;
        this.seed = unchecked((ulong)seed);
        padId = tokenizer.PadId;
        BucketBatches = bucketBatches;
        ClassCount = data.LabelNames.Count;
    }

    /// <summary>Batches per length-sorted bucket (0: none).</summary>
    public int BucketBatches { get; }

    /// <inheritdoc />
    public long SampleCount => ids.Length;

    /// <inheritdoc />
    public int BatchCount => (ids.Length + batchSize - 1) / batchSize;

    /// <inheritdoc />
    public int? ClassCount { get; }

    /// <summary>The token ids of sample <paramref name="index"/>.</summary>
    /// <param name="index">A sample.</param>
    /// <returns>[CLS] ... [SEP].</returns>
    public IReadOnlyList<long> Ids(int index) => ids[index];

    /// <summary>The sample indices of each batch of <paramref name="epoch"/>.</summary>
    /// <param name="epoch">The epoch.</param>
    /// <returns>One array per batch.</returns>
    public IReadOnlyList<long[]> BatchIndices(int epoch)
    {
        var order = ShuffleOrder.Create(ids.Length, shuffle, seed, epoch);
        if (BucketBatches == 0)
        {
            return order.Chunk(batchSize).ToArray();
        }

        var batches = new List<long[]>();
        foreach (var bucket in order.Chunk(batchSize * BucketBatches))
        {
            batches.AddRange(bucket.OrderBy(i => ids[i].Length).ThenBy(i => i).Chunk(batchSize));
        }

        var batchOrder = ShuffleOrder.Create(batches.Count, shuffle, seed ^ 0x5DEECE66DUL, epoch);
        return batchOrder.Select(b => batches[(int)b]).ToArray();
    }

    /// <inheritdoc />
    public IEnumerable<Batch> GetBatches(int epoch, Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        foreach (var indices in BatchIndices(epoch))
        {
            var longest = indices.Max(i => ids[i].Length);
            var flat = new long[indices.Length * longest];
            Array.Fill(flat, padId);
            var targets = new long[indices.Length];
            for (var r = 0; r < indices.Length; r++)
            {
                ids[indices[r]].CopyTo(flat, r * longest);
                targets[r] = labels[indices[r]];
            }

            yield return new Batch(
                tensor(flat, new long[] { indices.Length, longest }).to(device),
                tensor(targets).to(device),
                tensor(indices).to(device));
        }
    }
}
