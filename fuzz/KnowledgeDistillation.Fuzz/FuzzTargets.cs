using KnowledgeDistillation.Fuzz.Targets;

namespace KnowledgeDistillation.Fuzz;

/// <summary>The registry of fuzz targets: one line per reader.</summary>
internal static class FuzzTargets
{
    /// <summary>Every target, in report order.</summary>
    public static IReadOnlyList<FuzzTarget> All { get; } = new FuzzTarget[]
    {
        new CheckpointTarget(),
        new TeacherCacheTarget(),
        new SampleStoreTarget(),
        new SafeTensorsTarget(),
        new IdxTarget(),
        new NpzGraphTarget(),
        new TriplesTarget(),
        new CifarTarget(),
        new ImageFolderTarget(),
        new Dbp5lTarget(),
        new InteractionsTarget(),
        new TextClassificationTarget(),
        new BertConfigTarget(),
        new SampleStoreMergeTarget(),
        new VocAnnotationTarget(),
        new CocoAnnotationTarget(),
        new NpyClipTarget(),
    };

    /// <summary>The target named <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">No target has that name.</exception>
    public static FuzzTarget Get(string name) =>
        All.FirstOrDefault(t => t.Name == name)
        ?? throw new ArgumentException($"Unknown fuzz target '{name}'; the targets are: {string.Join(", ", All.Select(t => t.Name))}.", nameof(name));
}
