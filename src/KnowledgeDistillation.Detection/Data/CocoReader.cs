using System.Text.Json;

namespace KnowledgeDistillation.Detection.Data;

/// <summary>
/// Reads COCO-style JSON (<c>images</c> with <c>id</c>, <c>file_name</c>, <c>width</c>, <c>height</c>; <c>annotations</c>
/// with <c>image_id</c>, <c>category_id</c>, <c>bbox</c> = [x, y, width, height], optional <c>iscrowd</c>;
/// <c>categories</c> with <c>id</c>, <c>name</c>). Classes are the categories in ascending id order. Boxes reaching
/// outside the image are clipped and recorded, boxes with no area are dropped and recorded. A file that is not valid
/// JSON, lacks a field, or refers to a missing image is an <see cref="InvalidDataException"/> naming the file and field.
/// </summary>
public static class CocoReader
{
    /// <summary>Reads the annotation file.</summary>
    /// <param name="annotationFile">The JSON file.</param>
    /// <param name="imageDirectory">The folder the <c>file_name</c>s are relative to.</param>
    /// <param name="options">Options; <c>null</c> for the defaults.</param>
    /// <exception cref="FileNotFoundException">The annotation file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is malformed (message names the file and the field), or an unknown category under <see cref="AnnotationPolicy.Error"/>.</exception>
    public static DetectionDataset Read(string annotationFile, string imageDirectory, CocoOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(annotationFile);
        ArgumentException.ThrowIfNullOrWhiteSpace(imageDirectory);
        options ??= new CocoOptions();
        if (!File.Exists(annotationFile))
        {
            throw new FileNotFoundException($"The COCO annotation file '{annotationFile}' does not exist.", annotationFile);
        }

        JsonDocument doc;
        try
        {
            using var stream = File.OpenRead(annotationFile);
            doc = JsonDocument.Parse(stream, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{annotationFile}' is not valid JSON: {e.Message}", e);
        }

        using (doc)
        {
            var root = doc.RootElement.ValueKind == JsonValueKind.Object ? doc.RootElement : throw Bad(annotationFile, "the top level", "an object");
            var categories = Array(annotationFile, root, "categories")
                .Select(c => (Id: Int(annotationFile, c, "categories[].id"), Name: Str(annotationFile, c, "categories[].name")))
                .OrderBy(c => c.Id).ToArray();
            if (categories.Length == 0)
            {
                throw Bad(annotationFile, "categories", "a non-empty array (the classes)");
            }

            if (categories.Select(c => c.Id).Distinct().Count() != categories.Length)
            {
                throw Bad(annotationFile, "categories[].id", "unique ids");
            }

            var classOf = categories.Select((c, i) => (c.Id, i)).ToDictionary(p => p.Id, p => p.i);
            var images = new List<(long Id, string Path, int Width, int Height)>();
            foreach (var image in Array(annotationFile, root, "images"))
            {
                var path = Path.Combine(imageDirectory, Str(annotationFile, image, "images[].file_name"));
                var (w, h) = ((int)Int(annotationFile, image, "images[].width"), (int)Int(annotationFile, image, "images[].height"));
                if (w < 1 || h < 1)
                {
                    throw Bad(annotationFile, "images[].width/height", $"positive sizes (got {w}x{h} for '{path}')");
                }

                images.Add((Int(annotationFile, image, "images[].id"), path, w, h));
            }

            var byImage = images.Select((im, i) => (im.Id, i)).ToDictionary(p => p.Id, p => p.i);
            if (byImage.Count != images.Count)
            {
                throw Bad(annotationFile, "images[].id", "unique ids");
            }

            var issues = new List<AnnotationIssue>();
            var objects = images.Select(_ => new List<DetectionObject>()).ToArray();
            foreach (var a in Array(annotationFile, root, "annotations"))
            {
                var imageId = Int(annotationFile, a, "annotations[].image_id");
                if (!byImage.TryGetValue(imageId, out var slot))
                {
                    throw Bad(annotationFile, "annotations[].image_id", $"the id of an image in 'images' (got {imageId})");
                }

                var category = Int(annotationFile, a, "annotations[].category_id");
                if (!classOf.TryGetValue(category, out var cls))
                {
                    if (options.UnknownClasses == AnnotationPolicy.Error)
                    {
                        throw Bad(annotationFile, "annotations[].category_id", $"one of the category ids [{string.Join(", ", categories.Select(c => c.Id))}] (got {category}; set CocoOptions.UnknownClasses = Skip to skip it)");
                    }

                    issues.Add(new AnnotationIssue(annotationFile, $"skipped an annotation of unknown category {category}"));
                    continue;
                }

                var crowd = a.TryGetProperty("iscrowd", out var c) && c.ValueKind == JsonValueKind.Number && c.TryGetInt32(out var crowdFlag) && crowdFlag == 1;
                if (crowd && !options.KeepCrowd)
                {
                    continue;
                }

                var bbox = a.TryGetProperty("bbox", out var b) && b.ValueKind == JsonValueKind.Array && b.GetArrayLength() == 4 && b.EnumerateArray().All(v => v.ValueKind == JsonValueKind.Number)
                    ? b.EnumerateArray().Select(v => v.GetDouble()).ToArray()
                    : throw Bad(annotationFile, "annotations[].bbox", "an array of 4 numbers [x, y, width, height]");
                var image = images[slot];
                if (AnnotationBoxes.Fit(annotationFile, new BoundingBox(bbox[0], bbox[1], bbox[0] + bbox[2], bbox[1] + bbox[3]), image.Width, image.Height, issues) is { } box)
                {
                    objects[slot].Add(new DetectionObject(cls, box, crowd));
                }
            }

            var samples = images.Select((im, i) => new DetectionSample(im.Path, im.Width, im.Height, objects[i]))
                .Where(s => options.KeepEmptyImages || s.Objects.Count > 0).ToArray();
            return new DetectionDataset(categories.Select(c => c.Name).ToArray(), samples, issues);
        }
    }

    private static IEnumerable<JsonElement> Array(string file, JsonElement parent, string name) =>
        parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Array
            ? value.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.Object ? e : throw Bad(file, name + "[]", "objects"))
            : throw Bad(file, name, "an array");

    private static long Int(string file, JsonElement e, string field)
    {
        var name = field[(field.LastIndexOf('.') + 1)..];
        return e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) ? n : throw Bad(file, field, "an integer");
    }

    private static string Str(string file, JsonElement e, string field)
    {
        var name = field[(field.LastIndexOf('.') + 1)..];
        if (!e.TryGetProperty(name, out var v) || v.ValueKind != JsonValueKind.String)
        {
            throw Bad(file, field, "a non-empty string");
        }

        try
        {
            return v.GetString() is { Length: > 0 } s ? s : throw Bad(file, field, "a non-empty string");
        }
        catch (InvalidOperationException e2)
        {
            // System.Text.Json validates string contents lazily: invalid UTF-8 surfaces here (a fuzz finding).
            throw new InvalidDataException($"'{file}': {field} is not valid UTF-8 text.", e2);
        }
    }

    private static InvalidDataException Bad(string file, string field, string expected) =>
        new($"'{file}': {field} must be {expected}.");
}
