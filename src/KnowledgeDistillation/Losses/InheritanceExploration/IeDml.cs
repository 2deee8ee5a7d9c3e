using KnowledgeDistillation.Engine;

namespace KnowledgeDistillation.Losses;

public static partial class Loss
{
    /// <summary>
    /// IE-DML's objective (Huang et al. 2021, "Revisiting Knowledge Distillation: An Inheritance and Exploration Framework",
    /// CVPR, arXiv 2107.00181): deep mutual learning of two peers, each also the other's IE-KD teacher. Per peer: CE, DML's
    /// KL towards the detached peer (<c>KL(p_peer ‖ p_self)</c>, T = 1, batch mean, as the official <c>DMLLoss</c>), and an
    /// <see cref="InheritanceExplorationLoss"/> against the peer's factor, whose autoencoder is trained online from the peer's
    /// detached feature (<see cref="TeacherAutoencoderMode.Online"/>). Every cross-peer input is detached, so with one
    /// optimiser over both peers the sum gives each peer exactly its own gradient. Parts: <c>ce-{peer}</c>,
    /// <c>kl-{peer}</c>, <c>ie-{peer}</c> (+ <c>.inherit</c>, <c>.explore</c>, <c>.reconstruct</c>). The official repository has
    /// no IE-DML code; see docs/methods/ie-kd-notes.md for what is official (DML) and what is our design (the online autoencoders).
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
    public static DistillationLoss IeDml(
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
                reconstructionWeight, student: self, teacher: peer, name: $"ie-{self}");

        return Sum(
            new CrossEntropyLoss(first, name: $"ce-{first}"),
            new CrossEntropyLoss(second, name: $"ce-{second}"),
            klWeight * new KDLoss(1.0, first, second, detachTeacher: true, name: $"kl-{first}"),
            klWeight * new KDLoss(1.0, second, first, detachTeacher: true, name: $"kl-{second}"),
            Ie(secondAutoencoder, firstSplit, first, second),
            Ie(firstAutoencoder, secondSplit, second, first));
    }
}

public static partial class Recipes
{
    /// <summary>
    /// IE-DML (Huang et al. 2021, "Revisiting Knowledge Distillation: An Inheritance and Exploration Framework", CVPR,
    /// arXiv 2107.00181): one stage of <see cref="Loss.IeDml"/> over two peers.
    /// </summary>
    /// <param name="firstAutoencoder">Encodes the first peer's map; the second peer's target.</param>
    /// <param name="secondAutoencoder">Encodes the second peer's map; the first peer's target.</param>
    /// <param name="firstSplit">The first peer's channel split.</param>
    /// <param name="secondSplit">The second peer's channel split.</param>
    /// <param name="feature">The feature name of both peers' maps.</param>
    /// <param name="first">The first peer's participant name.</param>
    /// <param name="second">The second peer's participant name.</param>
    /// <param name="inheritanceWeight">λ_inh &gt;= 0.</param>
    /// <param name="explorationWeight">λ_exp &gt;= 0.</param>
    /// <param name="klWeight">Weight &gt;= 0 of each KL term.</param>
    /// <param name="reconstructionWeight">Weight &gt;= 0 of each autoencoder's reconstruction term.</param>
    /// <param name="exploration">The exploration dis-similarity.</param>
    /// <param name="updateOrder">Simultaneous (default) or sequential (DML's Algorithm 1) updates.</param>
    public static DistillationRecipe IeDml(
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
        ExplorationForm exploration = ExplorationForm.NegativeL1,
        ParticipantUpdateOrder updateOrder = ParticipantUpdateOrder.Simultaneous) =>
        DistillationRecipe.FromLoss(
            "ie-dml",
            Loss.IeDml(firstAutoencoder, secondAutoencoder, firstSplit, secondSplit, feature, first, second, inheritanceWeight, explorationWeight, klWeight, reconstructionWeight, exploration),
            updateOrder);

    /// <summary>
    /// IE-KD (Huang et al. 2021, "Revisiting Knowledge Distillation: An Inheritance and Exploration Framework", CVPR, arXiv
    /// 2107.00181): stage <c>autoencoder</c> trains <paramref name="autoencoder"/> to reconstruct the frozen teacher's map
    /// (<see cref="Loss.FactorReconstruction"/>; only the teacher runs, only the loss's module learns); stage
    /// <c>distill</c> trains the student on <see cref="Loss.Hinton"/> (or plain CE when <paramref name="withKD"/> is false)
    /// plus <see cref="Loss.InheritanceExploration"/> against the now frozen autoencoder.
    /// </summary>
    /// <param name="autoencoder">The teacher's autoencoder (owned by the caller).</param>
    /// <param name="split">The student's channel split.</param>
    /// <param name="studentFeature">The student's feature name.</param>
    /// <param name="teacherFeature">The teacher's feature name; <c>null</c> uses <paramref name="studentFeature"/>.</param>
    /// <param name="autoencoderEpochs">Epochs of the autoencoder stage (the official code: 30), or <c>null</c> for the run's.</param>
    /// <param name="temperature">KD temperature T &gt; 0.</param>
    /// <param name="alpha">KD weight in [0, 1].</param>
    /// <param name="withKD">Whether the distillation stage includes Hinton's KD (IE-KD) or only CE (IE alone).</param>
    /// <param name="inheritanceWeight">λ_inh &gt;= 0.</param>
    /// <param name="explorationWeight">λ_exp &gt;= 0.</param>
    /// <param name="exploration">The exploration dis-similarity.</param>
    /// <param name="autoencoderOptimizer">The autoencoder stage's optimiser, or <c>null</c> for the run's (the code: SGD, lr 0.1).</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The frozen teacher's participant name.</param>
    public static DistillationRecipe IeKd(
        FactorAutoencoder autoencoder,
        ChannelSplit split,
        string studentFeature,
        string? teacherFeature = null,
        int? autoencoderEpochs = null,
        double temperature = 4.0,
        double alpha = 0.9,
        bool withKD = true,
        double inheritanceWeight = 1.0,
        double explorationWeight = 1.0,
        ExplorationForm exploration = ExplorationForm.NegativeL1,
        OptimizerOptions? autoencoderOptimizer = null,
        string student = "student",
        string teacher = "teacher")
    {
        var ie = new InheritanceExplorationLoss(
            autoencoder, split, studentFeature, teacherFeature, inheritanceWeight, explorationWeight, exploration, student: student, teacher: teacher);
        var task = withKD ? Loss.Hinton(temperature, alpha, student, teacher) : new CrossEntropyLoss(student);
        return new DistillationRecipe(withKD ? "ie-kd" : "ie", new[]
        {
            new DistillationStage("autoencoder", new FactorReconstructionLoss(autoencoder, ie.TeacherFeature, teacher))
            {
                Epochs = autoencoderEpochs, Active = new[] { teacher }, Trainable = Array.Empty<string>(), Optimizer = autoencoderOptimizer,
            },
            new DistillationStage(DistillationRecipe.SingleStage, task + ie),
        });
    }
}
