using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Data;

/// <summary>
/// Two-view batches (<see cref="TwoViewTransform"/>: inputs <c>[B, 2, ...]</c>) as the self-supervised terms read them:
/// <see cref="Split"/> and <see cref="Stack"/> convert between the stacked inputs and the views, <see cref="EncodeBoth"/>
/// runs one encoder on both views (SimCLR's student: features "view1" and "view2"), and <see cref="EncodeView"/> one view
/// (MoCo's query sees view 1, its key encoder view 2). Use them as the forward of
/// <see cref="Student.Create"/> / <see cref="Teacher.Create"/>.
/// </summary>
public static class TwoViews
{
    /// <summary>The two views of stacked inputs <c>[B, 2, ...]</c>.</summary>
    /// <param name="inputs">The batch's inputs.</param>
    /// <returns>Views [B, ...] each.</returns>
    /// <exception cref="ArgumentException">The inputs are not [B, 2, ...].</exception>
    public static (Tensor First, Tensor Second) Split(Tensor inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.dim() < 3 || inputs.shape[1] != 2)
        {
            throw new ArgumentException($"Two-view inputs must be [batch, 2, ...] (a TwoViewTransform's output); got {Guard.Shape(inputs)}.", nameof(inputs));
        }

        return (inputs.select(1, 0), inputs.select(1, 1));
    }

    /// <summary>Stacks two views [B, ...] into inputs [B, 2, ...].</summary>
    /// <param name="first">The first view.</param>
    /// <param name="second">The second view.</param>
    /// <returns>The stacked inputs.</returns>
    /// <exception cref="ArgumentException">The views have different shapes or dtypes.</exception>
    public static Tensor Stack(Tensor first, Tensor second)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        if (!first.shape.SequenceEqual(second.shape) || first.dtype != second.dtype)
        {
            throw new ArgumentException(
                $"The two views must have one shape and dtype: the first is {first.dtype} {Guard.Shape(first)}, the second {second.dtype} {Guard.Shape(second)}.", nameof(second));
        }

        if (first.dim() < 2)
        {
            throw new ArgumentException($"A view must be [batch, ...]; got {Guard.Shape(first)}.", nameof(first));
        }

        Guard.SameDevice(second, nameof(second), first, nameof(first));
        return stack(new[] { first, second }, 1);
    }

    /// <summary>Runs <paramref name="encoder"/> once on both views (concatenated along the batch) and returns the halves as two features.</summary>
    /// <param name="encoder">The encoder (its output is the projection, [2B, D]).</param>
    /// <param name="batch">A two-view batch.</param>
    /// <param name="first">The first view's feature name.</param>
    /// <param name="second">The second view's feature name.</param>
    /// <returns>An output without logits and with the two features.</returns>
    public static ModelOutput EncodeBoth(nn.Module<Tensor, Tensor> encoder, Batch batch, string first = Losses.TwoViewNames.First, string second = Losses.TwoViewNames.Second)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(batch);
        var (a, b) = Split(batch.Inputs);
        var size = a.shape[0];
        var z = encoder.call(cat(new[] { a, b }, 0));
        return new ModelOutput(null, new Dictionary<string, Tensor> { [first] = z.narrow(0, 0, size), [second] = z.narrow(0, size, size) });
    }

    /// <summary>Runs <paramref name="encoder"/> on one view and returns its output as a feature (and as the logits).</summary>
    /// <param name="encoder">The encoder.</param>
    /// <param name="batch">A two-view batch.</param>
    /// <param name="view">0 or 1.</param>
    /// <param name="feature">The feature's name.</param>
    /// <returns>The output.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The view is not 0 or 1.</exception>
    public static ModelOutput EncodeView(nn.Module<Tensor, Tensor> encoder, Batch batch, int view, string feature = "embedding")
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(batch);
        if (view is not (0 or 1))
        {
            throw new ArgumentOutOfRangeException(nameof(view), view, "A two-view batch has views 0 and 1.");
        }

        var (a, b) = Split(batch.Inputs);
        var z = encoder.call(view == 0 ? a : b);
        return new ModelOutput(z, new Dictionary<string, Tensor> { [feature] = z });
    }
}
