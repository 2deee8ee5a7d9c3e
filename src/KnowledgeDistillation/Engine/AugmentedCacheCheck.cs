using KnowledgeDistillation.Caching;
using KnowledgeDistillation.Data;

namespace KnowledgeDistillation.Engine;

/// <summary>
/// Refuses, before the first step, a cached teacher combined with training data whose inputs change every epoch
/// (a <see cref="DataPipeline"/> with random transforms): the cache would otherwise fail at the first repeated sample
/// of the second epoch. Augmented runs run the teacher every step.
/// </summary>
internal static class AugmentedCacheCheck
{
    public static void Check(IEnumerable<IDistillationModel> participants, IBatchSource train)
    {
        if (train is not DataPipeline { HasRandomTransforms: true } pipeline)
        {
            return;
        }

        foreach (var participant in participants)
        {
            if (participant is CachedTeacher { RefusesChangedInputs: true } cached)
            {
                var random = string.Join(", ", pipeline.Transforms.Where(t => t.IsRandom).Select(t => t.GetType().Name));
                throw new ArgumentException(
                    $"Teacher '{cached.Name}' caches its outputs per sample, but the training data applies random transforms ({random}), so every " +
                    "epoch gives the teacher different inputs and the cache would refuse them. Augmented runs must run the teacher every step: " +
                    "pass the teacher itself instead of its cache, or remove the random transforms (or, to knowingly distil from the outputs " +
                    "on the first-seen inputs, set TeacherCacheOptions.AllowChangedInputs).",
                    nameof(train));
            }
        }
    }
}
