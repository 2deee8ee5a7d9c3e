using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.KnowledgeGraphs;

/// <summary>
/// Platt scaling of a KGE model's scores: the affine map <c>f -> Scale * f + Shift</c> under which
/// <c>sigmoid(Scale * f + Shift)</c> is the probability that a triple is true rather than a uniformly corrupted one
/// (equal priors), fitted by logistic regression on held-out triples and their corruptions
/// (Tabacof and Costabello 2020, "Probability Calibration for Knowledge Graph Embedding Models").
/// </summary>
/// <remarks>
/// <para>
/// Losses that read a teacher's scores as logits of a per-triple probability (DualDE's soft labels
/// <c>sigmoid(f_T)</c> and its soft-label weights, <see cref="ScoreDistillationLoss"/>) assume the teacher was trained
/// with a sigmoid loss. A teacher trained with 1-N scoring (softmax cross-entropy over all entities,
/// <see cref="OneToNLoss"/>) has scores that are defined only up to a constant per query: on WN18RR our ComplEx-500
/// scores uniformly corrupted training triples around 0 (median -0.15), so <c>sigmoid(f_T)</c> calls them 46 % plausible.
/// Pass a fitted calibration to <see cref="KgeParticipant.Teacher(KgeModel, string, bool, ScoreCalibration?)"/> to give
/// such losses calibrated scores; the map is monotone, so rankings (and link-prediction metrics) do not change.
/// </para>
/// <para>
/// Fit on triples the model was not trained on (the validation split): on its own training triples a well-fitted model
/// separates positives from corruptions perfectly and the maximum-likelihood scale is unbounded
/// (<see cref="FitScores"/> then throws). Corruptions are drawn uniformly and are not filtered against known triples
/// (about one in 3,000 is a true triple on WN18RR).
/// </para>
/// </remarks>
/// <param name="Scale">The factor applied to a score (positive for a model whose higher scores mean more plausible).</param>
/// <param name="Shift">The offset added after scaling.</param>
public sealed record ScoreCalibration(double Scale, double Shift)
{
    /// <summary>The identity map (scale 1, shift 0): scores unchanged.</summary>
    public static ScoreCalibration Identity { get; } = new(1, 0);

    /// <summary>Whether this is the identity map.</summary>
    public bool IsIdentity => Scale == 1 && Shift == 0;

    /// <summary>Applies the map to a score tensor (returns <paramref name="scores"/> itself for the identity map).</summary>
    /// <param name="scores">Raw model scores, any shape.</param>
    /// <returns><c>Scale * scores + Shift</c>, differentiable in <paramref name="scores"/>.</returns>
    public Tensor Apply(Tensor scores)
    {
        ArgumentNullException.ThrowIfNull(scores);
        return IsIdentity ? scores : scores * Scale + Shift;
    }

    /// <summary>
    /// Fits the calibration of <paramref name="model"/> on <paramref name="triples"/> (use held-out ones) and
    /// <paramref name="negativesPerTriple"/> uniform corruptions of each (head or tail, chosen at random per corruption).
    /// </summary>
    /// <param name="model">The model whose scores are calibrated; scored without gradients on its own device.</param>
    /// <param name="triples">Held-out true triples (for example the validation split); must not be empty.</param>
    /// <param name="negativesPerTriple">Corruptions per triple (default 32).</param>
    /// <param name="seed">Seed of the corruptions.</param>
    /// <param name="batchSize">Held-out triples scored per call, each with its corruptions (default 512: with 32 corruptions
    /// and a 1,000-wide ComplEx-500 row, about 70 MB per gathered table).</param>
    /// <param name="cancellationToken">Cancels between batches.</param>
    /// <returns>The fitted map.</returns>
    /// <exception cref="ArgumentException">No triples, an id outside the model's tables, or arguments out of range.</exception>
    public static ScoreCalibration Fit(
        KgeModel model,
        IReadOnlyList<Triple> triples,
        int negativesPerTriple = 32,
        int seed = 0,
        int batchSize = 512,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(triples);
        if (triples.Count == 0)
        {
            throw new ArgumentException("'triples' is empty: calibration needs held-out true triples (for example the validation split).", nameof(triples));
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(negativesPerTriple, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if ((long)triples.Count * negativesPerTriple > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(negativesPerTriple), negativesPerTriple,
                $"{triples.Count} triples x {negativesPerTriple} corruptions must fit in one array ({Array.MaxLength} elements).");
        }
        foreach (var x in triples)
        {
            if ((uint)x.Head >= (uint)model.EntityCount || (uint)x.Tail >= (uint)model.EntityCount || (uint)x.Relation >= (uint)model.RelationCount)
            {
                throw new ArgumentException(
                    $"Triple {x} is outside the model's tables ({model.EntityCount} entities, {model.RelationCount} relations).", nameof(triples));
            }
        }

        var rng = new Random(seed);
        var positives = new double[triples.Count];
        var negatives = new double[triples.Count * (long)negativesPerTriple];
        var device = model.EntityEmbeddings.device;
        using var noGrad = no_grad();
        for (var start = 0; start < triples.Count; start += batchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var count = Math.Min(batchSize, triples.Count - start);
            var h = new long[count];
            var r = new long[count];
            var t = new long[count];
            var nh = new long[count * negativesPerTriple];
            var nr = new long[count * negativesPerTriple];
            var nt = new long[count * negativesPerTriple];
            for (var i = 0; i < count; i++)
            {
                var x = triples[start + i];
                (h[i], r[i], t[i]) = (x.Head, x.Relation, x.Tail);
                for (var j = 0; j < negativesPerTriple; j++)
                {
                    var k = i * negativesPerTriple + j;
                    var corrupt = rng.Next(model.EntityCount);
                    var head = rng.Next(2) == 0;
                    (nh[k], nr[k], nt[k]) = (head ? corrupt : x.Head, x.Relation, head ? x.Tail : corrupt);
                }
            }

            using var scope = NewDisposeScope();
            Copy(Score(model, h, r, t, device), positives, start);
            Copy(Score(model, nh, nr, nt, device), negatives, (long)start * negativesPerTriple);
        }
        return FitScores(positives, negatives);
    }

    /// <summary>
    /// Fits the map by logistic regression of "true" on the score, positives against negatives with equal total weight
    /// (so the result does not depend on how many negatives were drawn), by Newton's method in double precision.
    /// </summary>
    /// <param name="positiveScores">Scores of true triples; not empty, finite.</param>
    /// <param name="negativeScores">Scores of corrupted triples; not empty, finite.</param>
    /// <returns>The maximum-likelihood map.</returns>
    /// <exception cref="ArgumentException">Empty or non-finite scores, or scores that separate the two sets perfectly
    /// (no finite maximum-likelihood scale exists: calibrate on held-out triples).</exception>
    /// <exception cref="InvalidOperationException">All scores are equal (no slope can be fitted), or Newton's method did not
    /// converge.</exception>
    public static ScoreCalibration FitScores(IReadOnlyList<double> positiveScores, IReadOnlyList<double> negativeScores)
    {
        ArgumentNullException.ThrowIfNull(positiveScores);
        ArgumentNullException.ThrowIfNull(negativeScores);
        Check(positiveScores, nameof(positiveScores));
        Check(negativeScores, nameof(negativeScores));
        if (positiveScores.Min() > negativeScores.Max() || positiveScores.Max() < negativeScores.Min())
        {
            throw new ArgumentException(
                "The scores separate positives from negatives perfectly, so no finite calibration fits them; "
                + "calibrate on triples the model was not trained on (for example the validation split).",
                nameof(positiveScores));
        }

        var wPos = 0.5 / positiveScores.Count;
        var wNeg = 0.5 / negativeScores.Count;
        double a = 0, b = 0;
        var loss = Loss(positiveScores, negativeScores, wPos, wNeg, a, b);
        for (var iteration = 0; iteration < 100; iteration++)
        {
            var (ga, gb, haa, hab, hbb) = Derivatives(positiveScores, 1, wPos, a, b);
            var (na, nb, naa, nab, nbb) = Derivatives(negativeScores, 0, wNeg, a, b);
            (ga, gb, haa, hab, hbb) = (ga + na, gb + nb, haa + naa, hab + nab, hbb + nbb);
            var det = haa * hbb - hab * hab;
            if (!(det > 0))
            {
                throw new InvalidOperationException($"Score calibration: the Hessian is singular (determinant {det}); the scores may be constant.");
            }
            var da = (hbb * ga - hab * gb) / det;
            var db = (haa * gb - hab * ga) / det;
            var step = 1.0;
            double next;
            while ((next = Loss(positiveScores, negativeScores, wPos, wNeg, a - step * da, b - step * db)) > loss && step > 1e-12)
            {
                step /= 2;
            }
            a -= step * da;
            b -= step * db;
            var converged = Math.Abs(loss - next) <= 1e-14 * Math.Max(1, Math.Abs(loss)) || Math.Abs(step * da) + Math.Abs(step * db) < 1e-12;
            loss = next;
            if (converged)
            {
                return new ScoreCalibration(a, b);
            }
        }
        throw new InvalidOperationException("Score calibration: Newton's method did not converge in 100 iterations.");
    }

    // Gradient and Hessian of the weighted negative log-likelihood over one class (label y, weight w per score).
    private static (double Ga, double Gb, double Haa, double Hab, double Hbb) Derivatives(IReadOnlyList<double> scores, double y, double w, double a, double b)
    {
        double ga = 0, gb = 0, haa = 0, hab = 0, hbb = 0;
        foreach (var x in scores)
        {
            var p = Sigmoid(a * x + b);
            var g = w * (p - y);
            var h = w * p * (1 - p);
            ga += g * x;
            gb += g;
            haa += h * x * x;
            hab += h * x;
            hbb += h;
        }
        return (ga, gb, haa, hab, hbb);
    }

    private static Tensor Score(KgeModel model, long[] h, long[] r, long[] t, Device device) =>
        model.Score(tensor(h, device: device), tensor(r, device: device), tensor(t, device: device));

    private static void Copy(Tensor scores, double[] target, long offset)
    {
        var values = scores.to_type(ScalarType.Float64).cpu().data<double>().ToArray();
        Array.Copy(values, 0, target, offset, values.Length);
    }

    private static void Check(IReadOnlyList<double> scores, string name)
    {
        if (scores.Count == 0)
        {
            throw new ArgumentException($"'{name}' is empty.", name);
        }
        foreach (var x in scores)
        {
            if (!double.IsFinite(x))
            {
                throw new ArgumentException($"'{name}' holds a non-finite score ({x}).", name);
            }
        }
    }

    private static double Sigmoid(double z) => z >= 0 ? 1 / (1 + Math.Exp(-z)) : Math.Exp(z) / (1 + Math.Exp(z));

    // -log sigmoid(z) = softplus(-z), computed without overflow.
    private static double Softplus(double z) => z > 0 ? z + Math.Log(1 + Math.Exp(-z)) : Math.Log(1 + Math.Exp(z));

    private static double Loss(IReadOnlyList<double> positives, IReadOnlyList<double> negatives, double wPos, double wNeg, double a, double b)
    {
        double sum = 0;
        foreach (var x in positives)
        {
            sum += wPos * Softplus(-(a * x + b));
        }
        foreach (var x in negatives)
        {
            sum += wNeg * Softplus(a * x + b);
        }
        return sum;
    }
}
