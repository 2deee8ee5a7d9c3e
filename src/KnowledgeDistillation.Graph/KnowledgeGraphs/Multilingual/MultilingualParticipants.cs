using KnowledgeDistillation.Data;

namespace KnowledgeDistillation.Graph.KnowledgeGraphs.Multilingual;

/// <summary>
/// One trainable participant per language (named by the language), each wrapping that language's
/// <see cref="KgeModel"/>. On a knowledge batch of its own language a participant returns the usual KGE features
/// (<see cref="KgeParticipant.PositiveScores"/>, <see cref="KgeParticipant.NegativeScores"/>); on any other batch it
/// returns no features (it computes nothing).
/// </summary>
public static class MultilingualParticipants
{
    /// <summary>Creates the participants.</summary>
    /// <param name="graph">The multilingual graph (language order = participant order).</param>
    /// <param name="models">One model per language, by language.</param>
    /// <returns>The participants.</returns>
    /// <exception cref="ArgumentException">A language has no model, or a model's entity or relation count differs from its graph.</exception>
    public static IReadOnlyList<IDistillationModel> Create(MultilingualKnowledgeGraph graph, IReadOnlyDictionary<string, KgeModel> models)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(models);
        CheckModels(graph, models);
        return graph.Languages.Select((language, index) =>
        {
            var model = models[language];
            var forward = KgeParticipant.Forward(model);
            return (IDistillationModel)Student.Create(language, model, batch =>
                MultilingualBatchSource.LanguageOf(batch) == index ? forward(batch) : new ModelOutput(null));
        }).ToArray();
    }

    /// <summary>Checks that every language has a model of the graph's sizes.</summary>
    /// <param name="graph">The graph.</param>
    /// <param name="models">The models by language.</param>
    public static void CheckModels(MultilingualKnowledgeGraph graph, IReadOnlyDictionary<string, KgeModel> models)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(models);
        foreach (var language in graph.Languages)
        {
            if (!models.TryGetValue(language, out var model))
            {
                throw new ArgumentException($"No model for language '{language}'.", nameof(models));
            }
            if (model.EntityCount != graph[language].EntityCount || model.RelationCount != graph.RelationCount)
            {
                throw new ArgumentException(
                    $"The model of '{language}' has {model.EntityCount} entities / {model.RelationCount} relations; the graph has {graph[language].EntityCount} / {graph.RelationCount}.",
                    nameof(models));
            }
        }
        var widths = graph.Languages.Select(l => models[l].EntityWidth).Distinct().ToArray();
        if (widths.Length != 1)
        {
            throw new ArgumentException($"All languages' models must embed entities in one space (same width); got widths {string.Join(", ", widths)}.", nameof(models));
        }
    }
}
