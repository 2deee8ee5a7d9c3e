using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.KnowledgeGraphs;

/// <summary>
/// L3 regularisation of a KGE model's whole embedding tables, as NeuralKG (and so the DualDE code) adds it for ComplEx and
/// DistMult: <c>λ (‖E‖₃³ + ‖R‖₃³) = λ (Σ|e|³ + Σ|r|³)</c> over every entity and relation weight (real and imaginary parts),
/// added to the batch's loss at every step. Not the batch-wise N3 of Lacroix et al. (2018), which weights only the rows a
/// batch uses; the full-table form touches every row every step, so each step costs O(entities × width) more.
/// </summary>
public sealed class EmbeddingL3Regularization : Losses.DistillationLoss
{
    /// <summary>Creates the term.</summary>
    /// <param name="model">The model whose tables are regularised (a participant of the run).</param>
    /// <param name="weight">λ &gt; 0 (DualDE's WN18RR scripts: 5e-6).</param>
    /// <param name="name">Reporting name (default "l3").</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="weight"/> is not a finite number &gt; 0.</exception>
    public EmbeddingL3Regularization(KgeModel model, double weight, string name = "l3")
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!(weight > 0) || double.IsInfinity(weight))
        {
            throw new ArgumentOutOfRangeException(nameof(weight), weight, "'weight' must be a finite number > 0.");
        }

        Model = model;
        Weight = weight;
    }

    /// <summary>The regularised model.</summary>
    public KgeModel Model { get; }

    /// <summary>λ.</summary>
    public double Weight { get; }

    /// <summary>The term's value for <paramref name="model"/>: <c>weight · (Σ|E|³ + Σ|R|³)</c>.</summary>
    /// <param name="model">The model.</param>
    /// <param name="weight">λ.</param>
    public static Tensor Value(KgeModel model, double weight)
    {
        ArgumentNullException.ThrowIfNull(model);
        return weight * (model.EntityEmbeddings.abs().pow(3).sum() + model.RelationEmbeddings.abs().pow(3).sum());
    }

    /// <inheritdoc />
    public override LossResult Compute(DistillationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new LossResult(Name, Value(Model, Weight));
    }
}
