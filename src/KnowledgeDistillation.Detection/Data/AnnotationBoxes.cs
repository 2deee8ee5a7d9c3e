using System.Globalization;

namespace KnowledgeDistillation.Detection.Data;

/// <summary>The readers' shared box check: clip to the image, drop what has no area, record both.</summary>
internal static class AnnotationBoxes
{
    public static BoundingBox? Fit(string file, BoundingBox raw, int width, int height, List<AnnotationIssue> issues)
    {
        var clipped = raw.Clip(width, height);
        if (!clipped.IsValid)
        {
            issues.Add(new AnnotationIssue(file, string.Create(CultureInfo.InvariantCulture, $"dropped box ({raw.X1}, {raw.Y1}, {raw.X2}, {raw.Y2}): no area inside the {width}x{height} image")));
            return null;
        }

        if (clipped != raw)
        {
            issues.Add(new AnnotationIssue(file, string.Create(CultureInfo.InvariantCulture, $"clipped box ({raw.X1}, {raw.Y1}, {raw.X2}, {raw.Y2}) to the {width}x{height} image")));
        }

        return clipped;
    }
}
