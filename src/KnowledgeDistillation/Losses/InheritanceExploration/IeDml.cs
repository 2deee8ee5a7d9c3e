namespace KnowledgeDistillation.Losses;

/// <summary>
/// IE-DML (Huang et al., CVPR 2021): deep mutual learning of two peers, each also the other's IE-KD teacher. Per peer:
/// CE, DML's KL towards the detached peer (<c>KL(p_peer ‖ p_self)</c>, T = 1, batch mean, as the official <c>DMLLoss</c>), and
/// an <see cref="InheritanceExplorationLoss"/> against the peer's factor, whose autoencoder is trained online from the
/// peer's detached feature (<see cref="TeacherAutoencoderMode.Online"/>). The official repository has no IE-DML code; see
/// docs/methods/ie-kd-notes.md for what is official (DML) and what is our design (the online autoencoders).
/// </summary>
public static class IeDml
{
    /// <summary>
    /// The summed objective of both peers. Every cross-peer input is detached, so with one optimiser over both peers the
    /// sum gives each peer exactly its own gradient. Parts: <c>ce_{peer}</c>, <c>kl_{peer}</c>, <c>ie_{peer}</c> (+ <c>.inherit</c>,
    /// <c>.explore</c>, <c>.reconstruct</c>).
    /// </summary>
    /// <param name="firstAutoencoder">Encodes the first peer's map (its C → C'); trained here, and the second peer's target.</param>
    /// <param name="secondAutoencoder">Encodes the second peer's map; the first peer's target.</param>
    /// <param name="firstSplit">The first peer's channel split.</param>
    /// <param name="secondSplit">The second peer's channel split.</param>
    /// <param name="feature">The feature name of both peers' maps (same batch, height and width).</param>
    /// <param name="first">The first peer's participant name.</param>
    /// <param name="second">The second peer's participant name.</param>
    /// <param name="inheritanceWeight">λ_inh &gt;= 0.</param>
    /// <param name="explorationWeight">λ_exp &gt;= 0.</param>
    /// <param name="klWeight">Weight &gt;= 0 of each KL term (official DML configuration: 1).</param>
    /// <param name="reconstructionWeight">Weight &gt;= 0 of each autoencoder's reconstruction term.</param>
    /// <param name="exploration">The exploration dis-similarity.</param>
    public static DistillationLoss Loss(
        FactorAutoencoder firstAutoencoder,
        FactorAutoencoder secondAutoencoder,
        ChannelSplit firstSplit,
        ChannelSplit secondSplit,
        string feature,
        string first = "first",
        string second = "second",
        double inheritanceWeight = 1.0,
        double explorationWeight = 1.0,
        double klWeight = 1.0,
        double reconstructionWeight = 1.0,
        ExplorationForm exploration = ExplorationForm.NegativeL1)
    {
        InheritanceExplorationLoss Ie(FactorAutoencoder peerAutoencoder, ChannelSplit split, string self, string peer) =>
            new(peerAutoencoder, split, feature, null, inheritanceWeight, explorationWeight, exploration, TeacherAutoencoderMode.Online,
                reconstructionWeight, student: self, teacher: peer, name: $"ie_{self}");

        return Losses.Loss.Sum(
            new CrossEntropyLoss(first, name: $"ce_{first}"),
            new CrossEntropyLoss(second, name: $"ce_{second}"),
            klWeight * new KDLoss(1.0, first, second, detachTeacher: true, name: $"kl_{first}"),
            klWeight * new KDLoss(1.0, second, first, detachTeacher: true, name: $"kl_{second}"),
            Ie(secondAutoencoder, firstSplit, first, second),
            Ie(firstAutoencoder, secondSplit, second, first));
    }
}
