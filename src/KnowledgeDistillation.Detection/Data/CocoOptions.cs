namespace KnowledgeDistillation.Detection.Data;

/// <summary>Options of <see cref="CocoReader"/>.</summary>
public sealed class CocoOptions
{
    /// <summary>Annotations whose <c>category_id</c> is not among the file's categories: an error (default) or skipped and recorded.</summary>
    public AnnotationPolicy UnknownClasses { get; set; } = AnnotationPolicy.Error;

    /// <summary>Whether crowd annotations (<c>iscrowd = 1</c>) are kept, flagged as difficult (evaluation ignores them). Default true.</summary>
    public bool KeepCrowd { get; set; } = true;

    /// <summary>Whether images without annotations are kept (background images). Default true.</summary>
    public bool KeepEmptyImages { get; set; } = true;
}
