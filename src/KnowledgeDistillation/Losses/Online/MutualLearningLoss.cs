using KnowledgeDistillation.Internal;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// Zhang, Xiang, Hospedales and Lu (CVPR 2018), "Deep Mutual Learning": a cohort of K &gt;= 2 peers trained together,
/// each matching the others' class distributions. This is the mutual (KL) part only; add one
/// <see cref="CrossEntropyLoss"/> per peer (or use <see cref="Loss.MutualLearning"/>). For peer k:
/// <c>L_k = (1 / (K - 1)) Σ_{l≠k} T² · KL(p_l ‖ p_k)</c>, <c>p = softmax(z / T)</c>, batch mean, with the peers' p_l
/// detached, and the loss is <c>Σ_k L_k</c>: the gradient of the sum w.r.t. z_k is the gradient of L_k alone,
/// <c>(T / B)(1 / (K - 1)) Σ_{l≠k} (p_k − p_l)</c>, so one backward pass trains every peer on its own objective
/// (the simultaneous update). The paper uses T = 1 and no T² factor, which is the default here (T² = 1).
/// </summary>
public sealed class MutualLearningLoss : DistillationLoss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="peers">The cohort's participant names: at least two, distinct.</param>
    /// <param name="temperature">Softmax temperature T &gt; 0 (the paper: 1). Each KL term is scaled by T².</param>
    /// <param name="target">Each peer matches every other peer (default) or the mean of their distributions.</param>
    /// <param name="name">Reporting name (default "dml"); peer k's term is reported as "&lt;name&gt;.&lt;peer&gt;".</param>
    /// <exception cref="ArgumentException">Fewer than two peers, an empty or repeated name, T &lt;= 0, or an unknown target.</exception>
    public MutualLearningLoss(IReadOnlyList<string> peers, double temperature = 1.0, MutualLearningTarget target = MutualLearningTarget.PerPeer, string name = "dml")
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(peers);
        if (peers.Count < 2)
        {
            throw new ArgumentException($"Mutual learning needs at least two peers; got {peers.Count}.", nameof(peers));
        }

        foreach (var peer in peers)
        {
            Guard.Name(peer, nameof(peers));
        }

        var duplicate = peers.GroupBy(p => p, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new ArgumentException($"Peer '{duplicate.Key}' is listed twice; peers must be distinct participants.", nameof(peers));
        }

        Peers = peers.ToArray();
        Temperature = Guard.Positive(temperature, nameof(temperature));
        Target = CheckTarget(target);
    }

    /// <summary>The cohort's participant names.</summary>
    public IReadOnlyList<string> Peers { get; }

    /// <summary>The softmax temperature.</summary>
    public double Temperature { get; }

    /// <summary>What each peer matches: every other peer, or their mean distribution.</summary>
    public MutualLearningTarget Target { get; }

    /// <summary>
    /// The whole cohort's mutual loss, <c>Σ_k L_k</c> (see <see cref="PeerValue"/>); each peer's logits receive the
    /// gradient of their own term only.
    /// </summary>
    /// <param name="logits">Each peer's logits [batch, classes] (at least two, same shape and device).</param>
    /// <param name="temperature">T &gt; 0.</param>
    /// <param name="target">Per-peer targets or the peers' mean.</param>
    /// <exception cref="ArgumentException">Fewer than two logits tensors, or shapes, class counts or devices differ.</exception>
    public static Tensor Value(IReadOnlyList<Tensor> logits, double temperature = 1.0, MutualLearningTarget target = MutualLearningTarget.PerPeer)
    {
        var logP = LogProbabilities(logits, i => $"logits[{i}]", temperature, target);
        return Enumerable.Range(0, logP.Length).Select(k => Term(logP, k, temperature, target)).Aggregate((a, b) => a + b);
    }

    /// <summary>
    /// Peer k's mimicry term: <c>(1 / (K - 1)) Σ_{l≠k} T² · KL(p_l ‖ p_k)</c> (per peer) or <c>T² · KL(p̄_{-k} ‖ p_k)</c>
    /// (ensemble), batch mean, with the other peers detached: only <c>logits[peer]</c> receives a gradient. Adding
    /// peer k's cross-entropy gives the paper's <c>L_Θk</c>.
    /// </summary>
    /// <param name="logits">Each peer's logits [batch, classes] (at least two, same shape and device).</param>
    /// <param name="peer">The index k of the peer being trained.</param>
    /// <param name="temperature">T &gt; 0.</param>
    /// <param name="target">Per-peer targets or the peers' mean.</param>
    /// <exception cref="ArgumentException">Fewer than two logits tensors, shapes, class counts or devices differ, or <paramref name="peer"/> is out of range.</exception>
    public static Tensor PeerValue(IReadOnlyList<Tensor> logits, int peer, double temperature = 1.0, MutualLearningTarget target = MutualLearningTarget.PerPeer)
    {
        ArgumentNullException.ThrowIfNull(logits);
        if (peer < 0 || peer >= logits.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(peer), peer, $"'peer' must index one of the {logits.Count} logits tensors.");
        }

        return Term(LogProbabilities(logits, i => $"logits[{i}]", temperature, target), peer, temperature, target);
    }

    /// <inheritdoc />
    public override LossRequirements Requirements => LossRequirements.None.Logits(Peers.ToArray());

    /// <inheritdoc />
    public override LossResult Compute(DistillationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var logits = Peers.Select(p => context.Output(p).RequireLogits(p)).ToArray();
        var logP = LogProbabilities(logits, i => $"logits of peer '{Peers[i]}'", Temperature, Target);
        var parts = new Dictionary<string, Tensor>();
        Tensor? total = null;
        for (var k = 0; k < logP.Length; k++)
        {
            var term = Term(logP, k, Temperature, Target);
            parts[$"{Name}.{Peers[k]}"] = term;
            total = total is null ? term : total + term;
        }

        parts[Name] = total!;
        return new LossResult(total!, parts);
    }

    /// <summary>Validates the cohort's logits and returns <c>log softmax(z / T)</c> per peer (with their autograd history).</summary>
    private static Tensor[] LogProbabilities(IReadOnlyList<Tensor> logits, Func<int, string> what, double temperature, MutualLearningTarget target)
    {
        ArgumentNullException.ThrowIfNull(logits);
        if (logits.Count < 2)
        {
            throw new ArgumentException($"Mutual learning needs the logits of at least two peers; got {logits.Count}.", nameof(logits));
        }

        Guard.Positive(temperature, nameof(temperature));
        CheckTarget(target);
        for (var i = 0; i < logits.Count; i++)
        {
            if (logits[i] is null)
            {
                throw new ArgumentNullException(nameof(logits), $"{what(i)} is null.");
            }

            Guard.MatchingLogits(logits[i], what(i), logits[0], what(0));
        }

        return logits.Select(z => nn.functional.log_softmax(z / temperature, 1)).ToArray();
    }

    private static Tensor Term(Tensor[] logP, int k, double temperature, MutualLearningTarget target)
    {
        var count = logP.Length;
        var others = Enumerable.Range(0, count).Where(l => l != k).Select(l => logP[l].detach()).ToArray();
        var kl = target == MutualLearningTarget.PerPeer
            ? others.Select(logTarget => KlSum(logTarget, logP[k])).Aggregate((a, b) => a + b) / (count - 1)
            : KlSum(stack(others).logsumexp(0) - Math.Log(count - 1), logP[k]);
        return kl * (temperature * temperature / logP[k].shape[0]);
    }

    /// <summary><c>Σ_i Σ_m q (log q − log p)</c> from log-probabilities; a zero target probability contributes 0 (PyTorch's xlogy).</summary>
    private static Tensor KlSum(Tensor logTarget, Tensor logOwn)
    {
        var target = logTarget.exp();
        return (target * (logTarget - logOwn)).masked_fill(target.eq(0), 0.0).sum();
    }

    private static MutualLearningTarget CheckTarget(MutualLearningTarget target) =>
        Enum.IsDefined(target)
            ? target
            : throw new ArgumentOutOfRangeException(nameof(target), target, $"'target' must be one of {string.Join(", ", Enum.GetNames<MutualLearningTarget>())}.");
}

public static partial class Loss
{
    /// <summary>
    /// Deep Mutual Learning's mutual term (Zhang, Xiang, Hospedales and Lu 2018, "Deep Mutual Learning", CVPR): each peer's
    /// KL towards the detached others. Reports "NAME" and "NAME.&lt;peer&gt;". The whole objective is <see cref="MutualLearning"/>.
    /// </summary>
    /// <param name="peers">The cohort's participant names: at least two, distinct.</param>
    /// <param name="temperature">Softmax temperature T &gt; 0 (the paper: 1).</param>
    /// <param name="target">Each peer matches every other peer (default) or the mean of their distributions.</param>
    /// <param name="name">Reporting name.</param>
    public static MutualLearningLoss MutualKL(IReadOnlyList<string> peers, double temperature = 1.0, MutualLearningTarget target = MutualLearningTarget.PerPeer, string name = "dml") =>
        new(peers, temperature, target, name);
}
