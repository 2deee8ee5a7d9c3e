namespace KnowledgeDistillation.Detection.Data;

/// <summary>Options of <see cref="VocReader"/>.</summary>
public sealed class VocOptions
{
    /// <summary>The image set: the file <c>ImageSets/Main/&lt;ImageSet&gt;.txt</c> lists the images (default "trainval"); <c>null</c> reads every file in <c>Annotations/</c>.</summary>
    public string? ImageSet { get; set; } = "trainval";

    /// <summary>The class names in index order; <c>null</c> collects the names found in the files, sorted ordinally.</summary>
    public IReadOnlyList<string>? Classes { get; set; }

    /// <summary>Objects whose class is not in <see cref="Classes"/>: an error (default) or skipped and recorded.</summary>
    public AnnotationPolicy UnknownClasses { get; set; } = AnnotationPolicy.Error;

    /// <summary>Annotation files that are not well-formed VOC XML (empty, cut, missing fields): an error (default) or skipped and recorded.</summary>
    public AnnotationPolicy MalformedFiles { get; set; } = AnnotationPolicy.Error;

    /// <summary>Whether difficult objects are kept (flagged; evaluation ignores them). Default true; false drops them.</summary>
    public bool KeepDifficult { get; set; } = true;
}
