using static TorchSharp.torch;

namespace KnowledgeDistillation.Detection.Losses;

/// <summary>
/// Measures whether ICD's auxiliary task has learned anything beyond its prior: real/fake identification per class on
/// one context's queries (drawn for the context's epoch and step, so a held-out draw comes from an epoch/step the
/// training never used). Nothing is trained and the global generator is untouched.
/// </summary>
public static class IcdIdentification
{
    /// <summary>Runs the auxiliary task on <paramref name="context"/> without gradients and counts its decisions.</summary>
    /// <param name="loss">The ICD term (its encoder, decoder and heads as trained so far).</param>
    /// <param name="context">A context with the batch's targets and image sizes and the teacher's FPN levels.</param>
    /// <returns>The counts per class.</returns>
    public static IcdIdentificationReport Measure(IcdLoss loss, DistillationContext context)
    {
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(context);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var pass = loss.Auxiliary(context);
        using var logits = pass.Outputs[.., .., 0].cpu();
        using var classes = pass.Queries.Classes.cpu();
        using var valid = pass.Queries.Valid.cpu();
        using var real = pass.Queries.Real.cpu();
        var (l, c, v, r) = (logits.to_type(ScalarType.Float32).data<float>().ToArray(), classes.data<long>().ToArray(), valid.data<bool>().ToArray(), real.data<bool>().ToArray());
        var k = loss.Options.Classes;
        var (realCount, realIdentified, fakeCount, fakeRejected) = (new long[k], new long[k], new long[k], new long[k]);
        for (var i = 0; i < l.Length; i++)
        {
            if (!v[i])
            {
                continue;
            }

            var cls = (int)c[i];
            if (r[i])
            {
                realCount[cls]++;
                realIdentified[cls] += l[i] > 0 ? 1 : 0;
            }
            else
            {
                fakeCount[cls]++;
                fakeRejected[cls] += l[i] > 0 ? 0 : 1;
            }
        }

        return new IcdIdentificationReport(realCount, realIdentified, fakeCount, fakeRejected);
    }
}
