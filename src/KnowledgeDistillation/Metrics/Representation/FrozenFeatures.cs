using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Metrics;

/// <summary>Features of a frozen encoder for representation evaluation (<see cref="KnnAccuracy"/>, <see cref="LinearProbe"/>).</summary>
public static class FrozenFeatures
{
    /// <summary>
    /// Runs <paramref name="encoder"/> in eval mode without gradient over <paramref name="inputs"/> in chunks and returns the
    /// flattened features [N, D] on the CPU (float32). The encoder's train/eval mode is restored afterwards.
    /// </summary>
    /// <param name="encoder">Any encoder (a backbone without its projection head is the usual choice).</param>
    /// <param name="inputs">Inputs [N, ...] on any device; each chunk is moved to <paramref name="device"/>.</param>
    /// <param name="device">The encoder's device; <c>null</c>: the CPU.</param>
    /// <param name="batchSize">Samples per forward pass, &gt;= 1.</param>
    /// <param name="cancellationToken">Checked between chunks.</param>
    /// <returns>Features [N, D].</returns>
    /// <exception cref="ArgumentException">The inputs are empty or a scalar.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The batch size is below 1.</exception>
    public static Tensor Extract(nn.Module<Tensor, Tensor> encoder, Tensor inputs, Device? device = null, int batchSize = 512, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.dim() < 1 || inputs.shape[0] < 1)
        {
            throw new ArgumentException($"The inputs must be [N, ...] with N >= 1; got {Guard.Shape(inputs)}.", nameof(inputs));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var target = device ?? CPU;
        var wasTraining = encoder.training;
        encoder.eval();
        try
        {
            var chunks = new List<Tensor>();
            using var noGrad = no_grad();
            for (long start = 0; start < inputs.shape[0]; start += batchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                var count = Math.Min(batchSize, inputs.shape[0] - start);
                var z = encoder.call(inputs.narrow(0, start, count).to(target));
                chunks.Add(z.reshape(count, -1).to_type(ScalarType.Float32).cpu().MoveToOuterDisposeScope());
            }

            var all = cat(chunks, 0);
            foreach (var chunk in chunks)
            {
                chunk.Dispose();
            }

            return all;
        }
        finally
        {
            encoder.train(wasTraining);
        }
    }
}
