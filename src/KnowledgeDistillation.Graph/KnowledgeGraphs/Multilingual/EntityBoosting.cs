namespace KnowledgeDistillation.Graph.KnowledgeGraphs.Multilingual;

/// <summary>
/// KEnS_b's entity-specific model weights, learned by AdaBoost-style rounds on the validation triples of each entity
/// (Chen et al. 2020, Sec. 3.3; official <c>src/weightlearning.py</c>).
/// <para>
/// Data points are "pairs" (true tail t, other entity e'): model j ranks the pair correctly (+1) or wrongly (-1). With
/// pair weights D (uniform at start), each round computes <c>a_j = 0.5 ln((eps_j+ + 1e-7) / (eps_j- + 1e-7))</c>, where
/// eps± sum D over the pairs model j ranks correctly / wrongly, picks the best model not chosen before, adds its a_j to
/// its weight, and re-weights <c>D &lt;- D exp(-a_j y_j)</c>, normalised. Final weight = accumulated + 1 (models never
/// chosen keep 1). Rounds = min(5, models).
/// </para>
/// </summary>
public static class EntityBoosting
{
    /// <summary>Boosting rounds of the official code.</summary>
    public const int DefaultRounds = 5;

    /// <summary>Entities with at most this many validation triples keep weight 1 for every model (official code: 10).</summary>
    public const int DefaultMinTriples = 10;

    /// <summary>Model weights from the correctness of each model on each pair.</summary>
    /// <param name="correct">[pairs][models]: +1 correctly ranked, -1 wrongly.</param>
    /// <param name="models">Number of models.</param>
    /// <param name="rounds">Boosting rounds (at most <paramref name="models"/> are used).</param>
    /// <returns>The weights (length <paramref name="models"/>).</returns>
    public static double[] Learn(IReadOnlyList<sbyte[]> correct, int models, int rounds = DefaultRounds)
    {
        ArgumentNullException.ThrowIfNull(correct);
        ArgumentOutOfRangeException.ThrowIfLessThan(models, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(rounds, 1);
        var weights = new double[models];
        if (correct.Count == 0)
        {
            return weights.Select(_ => 1.0).ToArray();
        }
        foreach (var row in correct)
        {
            if (row.Length != models || row.Any(y => y is not (1 or -1)))
            {
                throw new ArgumentException($"Every pair needs {models} entries of +1 or -1.", nameof(correct));
            }
        }
        var d = Enumerable.Repeat(1.0 / correct.Count, correct.Count).ToArray();
        var chosen = new bool[models];
        for (var round = 0; round < Math.Min(rounds, models); round++)
        {
            var alpha = new double[models];
            for (var j = 0; j < models; j++)
            {
                double plus = 0, minus = 0;
                for (var p = 0; p < d.Length; p++)
                {
                    if (correct[p][j] > 0)
                    {
                        plus += d[p];
                    }
                    else
                    {
                        minus += d[p];
                    }
                }
                alpha[j] = 0.5 * Math.Log((plus + 1e-7) / (minus + 1e-7));
            }
            var best = -1;
            for (var j = 0; j < models; j++)
            {
                if (!chosen[j] && (best < 0 || alpha[j] > alpha[best]))
                {
                    best = j;
                }
            }
            chosen[best] = true;
            weights[best] += alpha[best];
            var sum = 0.0;
            for (var p = 0; p < d.Length; p++)
            {
                d[p] *= Math.Exp(-alpha[best] * correct[p][best]);
                sum += d[p];
            }
            for (var p = 0; p < d.Length; p++)
            {
                d[p] /= sum;
            }
        }
        return weights.Select(w => w + 1).ToArray();
    }

    /// <summary>
    /// The pairs of one validation query: for each entity e' (other than the true tail t) that some model lists, model j
    /// is correct (+1) when t is in j's list ahead of e' or e' is not in j's list while t is; wrong (-1) when e' is ahead of
    /// t in j's list, or when t is missing from j's list (then j ranks t below everything it listed, and nothing is known
    /// about the rest: counted as wrong, where the official code instead marks a random sample of entities wrong).
    /// </summary>
    /// <param name="lists">[models][k] candidate ids (-1: empty slot).</param>
    /// <param name="trueTail">t.</param>
    /// <returns>One row per pair.</returns>
    public static IReadOnlyList<sbyte[]> Pairs(IReadOnlyList<long[]> lists, long trueTail)
    {
        ArgumentNullException.ThrowIfNull(lists);
        var others = lists.SelectMany(l => l).Where(e => e >= 0 && e != trueTail).Distinct().Order().ToArray();
        var rows = new List<sbyte[]>(others.Length);
        foreach (var e in others)
        {
            var row = new sbyte[lists.Count];
            for (var j = 0; j < lists.Count; j++)
            {
                var tPos = Array.IndexOf(lists[j], trueTail);
                var ePos = Array.IndexOf(lists[j], e);
                row[j] = (sbyte)(tPos >= 0 && (ePos < 0 || tPos < ePos) ? 1 : -1);
            }
            rows.Add(row);
        }
        return rows;
    }
}
