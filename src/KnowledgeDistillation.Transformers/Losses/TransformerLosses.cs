namespace KnowledgeDistillation.Transformers.Losses;

/// <summary>The catalogue of transformer distillation terms.</summary>
public static class TransformerLosses
{
    /// <summary>Attention-probability KL over the pairs of <paramref name="map"/> (<see cref="AttentionKLLoss"/>).</summary>
    /// <param name="map">Pairs of layers.</param>
    /// <param name="student">Student participant.</param>
    /// <param name="teacher">Teacher participant.</param>
    /// <returns>The term.</returns>
    public static AttentionKLLoss AttentionKL(LayerMap map, string student = "student", string teacher = "teacher") => new(map, student, teacher);

    /// <summary>[CLS] cosine over the pairs of <paramref name="map"/> (<see cref="ClsCosineLoss"/>).</summary>
    /// <param name="map">Pairs of layers.</param>
    /// <param name="projections">Projections when widths differ, or null.</param>
    /// <param name="student">Student participant.</param>
    /// <param name="teacher">Teacher participant.</param>
    /// <returns>The term.</returns>
    public static ClsCosineLoss ClsCosine(LayerMap map, LayerProjections? projections = null, string student = "student", string teacher = "teacher") =>
        new(map, projections, student, teacher);

    /// <summary>Hidden-state MSE over the pairs of <paramref name="map"/> (<see cref="HiddenStateMseLoss"/>).</summary>
    /// <param name="map">Pairs of layers.</param>
    /// <param name="projections">Projections when widths differ, or null.</param>
    /// <param name="student">Student participant.</param>
    /// <param name="teacher">Teacher participant.</param>
    /// <returns>The term.</returns>
    public static HiddenStateMseLoss HiddenMse(LayerMap map, LayerProjections? projections = null, string student = "student", string teacher = "teacher") =>
        new(map, projections, student, teacher);

    /// <summary>
    /// Embedding matching: the hidden-state MSE of the embedding outputs (layer 0 of both models), with a projection
    /// when widths differ (build it with <c>new LayerProjections(LayerMap.Explicit((0, 0)), studentWidth, teacherWidth)</c>).
    /// </summary>
    /// <param name="projection">The projection, or null.</param>
    /// <param name="student">Student participant.</param>
    /// <param name="teacher">Teacher participant.</param>
    /// <returns>The term (named <c>embedding_mse</c>).</returns>
    public static HiddenStateMseLoss EmbeddingMatch(LayerProjections? projection = null, string student = "student", string teacher = "teacher") =>
        new(LayerMap.Explicit((0, 0)), projection, student, teacher, name: "embedding_mse");
}
