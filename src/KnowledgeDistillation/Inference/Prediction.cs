using KnowledgeDistillation.Data;
using KnowledgeDistillation.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Inference;

/// <summary>
/// Inference helpers: run a trained model (e.g. the distilled student) over a tensor or an <see cref="IBatchSource"/>
/// in eval mode (BatchNorm running statistics, dropout off) without gradients, batch by batch with a dispose scope per
/// batch, and return logits, probabilities or class indices on the configured device. The model's train/eval mode is
/// restored afterwards. Not thread-safe for one model: do not predict while the same model trains.
/// </summary>
public static class Prediction
{
    /// <summary>Predicts every row of <paramref name="inputs"/> (batch dimension first), <see cref="PredictionOptions.BatchSize"/> rows per forward pass.</summary>
    /// <param name="model">The model.</param>
    /// <param name="inputs">The inputs [N, ...], N &gt;= 1, on any device (moved to the model's device per batch).</param>
    /// <param name="options">Batch size, device and output; default <see cref="PredictionOptions"/>.</param>
    /// <param name="cancellationToken">Checked between batches.</param>
    /// <returns>One row per input row, see <see cref="PredictionOutput"/>.</returns>
    /// <exception cref="ArgumentException">An empty or scalar input, a batch size below 1, or an unknown device.</exception>
    public static Tensor Predict(this nn.Module<Tensor, Tensor> model, Tensor inputs, PredictionOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputs);
        options ??= new PredictionOptions();
        CheckBatchSize(options);
        if (inputs.dim() == 0 || inputs.shape[0] == 0)
        {
            throw new ArgumentException($"'inputs' must have a batch dimension with at least one row; got shape {Guard.Shape(inputs)}.", nameof(inputs));
        }

        var device = Prepare(model, options);
        var rows = inputs.shape[0];
        var wasTraining = model.training;
        var parts = new List<Tensor>();
        try
        {
            model.eval();
            for (long start = 0; start < rows; start += options.BatchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                var batch = inputs.narrow(0, start, Math.Min(options.BatchSize, rows - start)).to(device);
                parts.Add(Transform(model.call(batch), options.Output).MoveToOuterDisposeScope());
            }

            return Concatenate(parts);
        }
        finally
        {
            model.train(wasTraining);
            foreach (var part in parts)
            {
                part.Dispose();
            }
        }
    }

    /// <summary>
    /// Predicts every batch of <paramref name="data"/> (epoch 0; the rows come in the order the source yields them, so
    /// use an unshuffled source such as <c>new DataLoader(set, 1000, shuffle: false)</c> for dataset order).
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="data">The batches (their <see cref="Batch.Inputs"/> are used).</param>
    /// <param name="options">Device and output (<see cref="PredictionOptions.BatchSize"/> is the source's); default <see cref="PredictionOptions"/>.</param>
    /// <param name="cancellationToken">Checked between batches.</param>
    /// <returns>One row per sample, see <see cref="PredictionOutput"/>.</returns>
    /// <exception cref="ArgumentException">An unknown device, or a source without batches.</exception>
    public static Tensor Predict(this nn.Module<Tensor, Tensor> model, IBatchSource data, PredictionOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        return PredictBatches(model, options ?? new PredictionOptions(), data, batch => model.call(batch.Inputs), cancellationToken);
    }

    /// <summary>Predicts every batch of <paramref name="data"/> with a participant (its <see cref="IDistillationModel.Forward"/> logits), as the module overload does.</summary>
    /// <param name="model">A participant, e.g. <c>Student.FromModule(net)</c>.</param>
    /// <param name="data">The batches.</param>
    /// <param name="options">Device and output; default <see cref="PredictionOptions"/>.</param>
    /// <param name="cancellationToken">Checked between batches.</param>
    /// <returns>One row per sample, see <see cref="PredictionOutput"/>.</returns>
    /// <exception cref="ArgumentException">An unknown device, or a source without batches.</exception>
    /// <exception cref="InvalidOperationException">The participant produces no logits.</exception>
    public static Tensor Predict(this IDistillationModel model, IBatchSource data, PredictionOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        return PredictBatches(model.Module, options ?? new PredictionOptions(), data,
            batch => model.Forward(batch).Logits ?? throw new InvalidOperationException($"Participant '{model.Name}' produced no logits to predict from."),
            cancellationToken);
    }

    private static Tensor PredictBatches(nn.Module module, PredictionOptions options, IBatchSource data, Func<Batch, Tensor> forward, CancellationToken cancellationToken)
    {
        var device = Prepare(module, options);
        var wasTraining = module.training;
        var parts = new List<Tensor>();
        try
        {
            module.eval();
            using var batches = data.GetBatches(0, device).GetEnumerator();
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                if (!batches.MoveNext())
                {
                    break;
                }

                parts.Add(Transform(forward(batches.Current), options.Output).MoveToOuterDisposeScope());
            }

            if (parts.Count == 0)
            {
                throw new ArgumentException("The batch source yielded no batches to predict.", nameof(data));
            }

            return Concatenate(parts);
        }
        finally
        {
            module.train(wasTraining);
            foreach (var part in parts)
            {
                part.Dispose();
            }
        }
    }

    private static Tensor Concatenate(List<Tensor> parts) => parts.Count == 1 ? parts[0].alias() : cat(parts, 0);

    private static Tensor Transform(Tensor logits, PredictionOutput output) => output switch
    {
        PredictionOutput.Logits => logits.detach(),
        PredictionOutput.Probabilities => nn.functional.softmax(logits.detach(), 1),
        PredictionOutput.ClassIndices => logits.detach().argmax(1),
        _ => throw new ArgumentOutOfRangeException(nameof(output), output, "Unknown prediction output."),
    };

    private static Device Prepare(nn.Module model, PredictionOptions options)
    {
        if (!Enum.IsDefined(options.Output))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Output, $"'{nameof(PredictionOptions.Output)}' is not a {nameof(PredictionOutput)} value.");
        }

        if (options.Device is null)
        {
            return model.parameters().Select(p => p.device).FirstOrDefault() ?? CPU;
        }

        var device = DeviceParser.Parse(options.Device, nameof(PredictionOptions.Device));
        model.to(device);
        return device;
    }

    private static void CheckBatchSize(PredictionOptions options)
    {
        if (options.BatchSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.BatchSize, $"'{nameof(PredictionOptions.BatchSize)}' must be >= 1.");
        }
    }
}
