using KnowledgeDistillation.Data;
using KnowledgeDistillation.Metrics;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Engine;

/// <summary>Runs models over evaluation data in eval mode without gradients and computes their metrics.</summary>
public static class Evaluation
{
    /// <summary>Evaluates one model.</summary>
    /// <param name="model">The model (already on <paramref name="device"/>).</param>
    /// <param name="data">The evaluation data.</param>
    /// <param name="device">Where the batches go.</param>
    /// <param name="metrics">Metric factories; default top-1 accuracy.</param>
    /// <param name="cancellationToken">Checked between batches.</param>
    /// <returns>Metric name to value.</returns>
    public static IReadOnlyDictionary<string, double> Run(
        IDistillationModel model,
        IBatchSource data,
        Device device,
        IReadOnlyList<Func<IMetric>>? metrics = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Run(new[] { model }, data, device, metrics, cancellationToken)[model.Name];
    }

    /// <summary>Evaluates several models over one pass of the data.</summary>
    /// <param name="models">The models (already on <paramref name="device"/>).</param>
    /// <param name="data">The evaluation data.</param>
    /// <param name="device">Where the batches go.</param>
    /// <param name="metrics">Metric factories; default top-1 accuracy.</param>
    /// <param name="cancellationToken">Checked between batches.</param>
    /// <returns>Participant name to (metric name to value). Metrics that saw no usable batch are omitted.</returns>
    public static IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> Run(
        IReadOnlyList<IDistillationModel> models,
        IBatchSource data,
        Device device,
        IReadOnlyList<Func<IMetric>>? metrics = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(models);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(device);
        if (data.SampleCount == 0)
        {
            throw new ArgumentException("The evaluation data is empty.", nameof(data));
        }

        metrics ??= new Func<IMetric>[] { () => new Accuracy() };
        var perModel = models.ToDictionary(m => m.Name, _ => metrics.Select(f => f()).ToArray());
        var modes = models.Select(m => m.Module.training).ToArray();
        try
        {
            foreach (var model in models)
            {
                model.Module.eval();
            }

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

                var batch = batches.Current;
                foreach (var model in models)
                {
                    var output = model.Forward(batch);
                    foreach (var metric in perModel[model.Name])
                    {
                        metric.Update(output, batch);
                    }
                }
            }

            return perModel.ToDictionary(
                p => p.Key,
                p => (IReadOnlyDictionary<string, double>)p.Value
                    .Select(m => (m.Name, Value: m.Compute()))
                    .Where(m => !double.IsNaN(m.Value))
                    .ToDictionary(m => m.Name, m => m.Value));
        }
        finally
        {
            for (var i = 0; i < models.Count; i++)
            {
                models[i].Module.train(modes[i]);
            }

            foreach (var metric in perModel.Values.SelectMany(m => m))
            {
                metric.Dispose();
            }
        }
    }
}
