using System.Text.Json;
using System.Text.Unicode;

namespace KnowledgeDistillation.Serialization;

/// <summary>
/// The parsed and validated JSON header of a safetensors file: tensor entries (in data order) and the
/// optional <c>__metadata__</c> string map. Every check that needs no tensor data is made here.
/// </summary>
internal sealed class SafeTensorsHeader
{
    /// <summary>The reserved header key of the metadata map.</summary>
    public const string MetadataKey = "__metadata__";

    /// <summary>The most dimensions accepted for one tensor.</summary>
    public const int MaxRank = 64;

    private static readonly JsonDocumentOptions JsonOptions = new()
    {
        MaxDepth = 8,
        AllowTrailingCommas = false,
        CommentHandling = JsonCommentHandling.Disallow,
    };

    private SafeTensorsHeader(List<SafeTensorInfo> tensors, Dictionary<string, string> metadata)
    {
        Tensors = tensors.AsReadOnly();
        ByName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
        Metadata = metadata.AsReadOnly();
    }

    /// <summary>The tensors, ordered by their position in the data section.</summary>
    public IReadOnlyList<SafeTensorInfo> Tensors { get; }

    public IReadOnlyDictionary<string, SafeTensorInfo> ByName { get; }

    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Parses and validates a header whose data section is <paramref name="dataLength"/> bytes long.</summary>
    /// <exception cref="InvalidDataException">The header is malformed or does not describe the data section exactly.</exception>
    public static SafeTensorsHeader Parse(ReadOnlyMemory<byte> json, long dataLength, string file)
    {
        if (json.IsEmpty || json.Span[0] != (byte)'{')
        {
            throw Invalid(file, "the header must be a JSON object starting with '{'" +
                (json.IsEmpty ? "; it is empty." : $"; it starts with byte 0x{json.Span[0]:X2}."));
        }

        if (!Utf8.IsValid(json.Span))
        {
            throw Invalid(file, "the header is not valid UTF-8.");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, JsonOptions);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException(Message(file, $"the header is not valid JSON: {e.Message}"), e);
        }

        using (document)
        {
            var tensors = new List<SafeTensorInfo>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var entry in document.RootElement.EnumerateObject())
            {
                if (!names.Add(entry.Name))
                {
                    throw Invalid(file, entry.Name == MetadataKey
                        ? $"the header has more than one '{MetadataKey}' entry."
                        : $"tensor name '{entry.Name}' appears more than once in the header.");
                }

                if (entry.Name == MetadataKey)
                {
                    ReadMetadata(entry.Value, metadata, file);
                }
                else
                {
                    tensors.Add(ReadTensor(entry.Name, entry.Value, dataLength, file));
                }
            }

            CheckLayout(tensors, dataLength, file);
            return new SafeTensorsHeader(tensors, metadata);
        }
    }

    private static void ReadMetadata(JsonElement value, Dictionary<string, string> metadata, string file)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw Invalid(file, $"'{MetadataKey}' must be an object of strings; it is {Kind(value)}.");
        }

        foreach (var item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
            {
                throw Invalid(file, $"'{MetadataKey}' entry '{item.Name}' must be a string; it is {Kind(item.Value)}.");
            }

            if (!metadata.TryAdd(item.Name, item.Value.GetString()!))
            {
                throw Invalid(file, $"'{MetadataKey}' has the key '{item.Name}' more than once.");
            }
        }
    }

    private static SafeTensorInfo ReadTensor(string name, JsonElement value, long dataLength, string file)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw InvalidTensor(file, name, $"its entry must be an object with \"dtype\", \"shape\" and \"data_offsets\"; it is {Kind(value)}.");
        }

        JsonElement? dtypeValue = null, shapeValue = null, offsetsValue = null;
        foreach (var field in value.EnumerateObject())
        {
            switch (field.Name)
            {
                case "dtype": dtypeValue = Once(dtypeValue, field, file, name); break;
                case "shape": shapeValue = Once(shapeValue, field, file, name); break;
                case "data_offsets": offsetsValue = Once(offsetsValue, field, file, name); break;
            }
        }

        var dtypeElement = dtypeValue ?? throw InvalidTensor(file, name, "\"dtype\" is missing.");
        var shapeElement = shapeValue ?? throw InvalidTensor(file, name, "\"shape\" is missing.");
        var offsetsElement = offsetsValue ?? throw InvalidTensor(file, name, "\"data_offsets\" is missing.");

        if (dtypeElement.ValueKind != JsonValueKind.String)
        {
            throw InvalidTensor(file, name, $"\"dtype\" must be a string such as \"F32\"; it is {Kind(dtypeElement)}.");
        }

        var dtype = SafeTensorsDTypes.Parse(dtypeElement.GetString()!, out var problem)
            ?? throw InvalidTensor(file, name, problem + ".");
        var elementSize = SafeTensorsDTypes.ElementSize(dtype);

        var shape = ReadIntegers(shapeElement, "shape", file, name, minCount: 0, maxCount: MaxRank);
        var count = ElementCount(shape, file, name);
        long byteLength;
        try
        {
            byteLength = checked(count * elementSize);
        }
        catch (OverflowException)
        {
            throw InvalidTensor(file, name, $"shape {Guard.FormatShape(shape)} of {SafeTensorsDTypes.Code(dtype)} " +
                "is too large: its size in bytes overflows a 64-bit integer.");
        }

        var offsets = ReadIntegers(offsetsElement, "data_offsets", file, name, minCount: 2, maxCount: 2);
        var (begin, end) = (offsets[0], offsets[1]);
        if (begin > end)
        {
            throw InvalidTensor(file, name, $"\"data_offsets\" [{begin}, {end}] begin after they end.");
        }

        if (end > dataLength)
        {
            throw InvalidTensor(file, name, $"\"data_offsets\" [{begin}, {end}] are out of range: the data section is " +
                $"{dataLength} bytes long. The file is truncated or the header is corrupt.");
        }

        if (end - begin != byteLength)
        {
            throw InvalidTensor(file, name, $"\"data_offsets\" [{begin}, {end}] span {end - begin} bytes, but shape " +
                $"{Guard.FormatShape(shape)} of {SafeTensorsDTypes.Code(dtype)} ({elementSize} bytes each) needs {byteLength} bytes.");
        }

        return new SafeTensorInfo(name, dtype, shape, count, begin, byteLength);
    }

    private static JsonElement Once(JsonElement? previous, JsonProperty field, string file, string name) =>
        previous is null ? field.Value : throw InvalidTensor(file, name, $"\"{field.Name}\" appears more than once.");

    private static long[] ReadIntegers(JsonElement value, string field, string file, string name, int minCount, int maxCount)
    {
        var expectation = minCount == maxCount ? $"an array of {minCount} non-negative integers" : "an array of non-negative integers";
        if (value.ValueKind != JsonValueKind.Array)
        {
            throw InvalidTensor(file, name, $"\"{field}\" must be {expectation}; it is {Kind(value)}.");
        }

        var length = value.GetArrayLength();
        if (length < minCount || length > maxCount)
        {
            throw InvalidTensor(file, name, minCount == maxCount
                ? $"\"{field}\" must be {expectation}; it has {length} elements."
                : $"\"{field}\" has {length} dimensions; at most {maxCount} are supported.");
        }

        var result = new long[length];
        var i = 0;
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out var number))
            {
                throw InvalidTensor(file, name, $"\"{field}\" element {i} ({item.GetRawText()}) is not an integer in [0, {long.MaxValue}].");
            }

            if (number < 0)
            {
                throw InvalidTensor(file, name, $"\"{field}\" element {i} is negative ({number}).");
            }

            result[i++] = number;
        }

        return result;
    }

    /// <summary>
    /// The element count. The product of the non-zero sizes must fit in 64 bits even when another size is 0, so that
    /// libtorch can compute the tensor's strides.
    /// </summary>
    private static long ElementCount(long[] shape, string file, string name)
    {
        var product = 1L;
        foreach (var size in shape)
        {
            if (size != 0 && !TryMultiply(product, size, out product))
            {
                throw InvalidTensor(file, name, $"shape {Guard.FormatShape(shape)} is too large: its element count overflows a 64-bit integer.");
            }
        }

        return Array.IndexOf(shape, 0L) >= 0 ? 0 : product;
    }

    private static bool TryMultiply(long a, long b, out long product)
    {
        try
        {
            product = checked(a * b);
            return true;
        }
        catch (OverflowException)
        {
            product = 0;
            return false;
        }
    }

    /// <summary>The byte ranges must tile the data section: start at 0, no overlaps, no gaps, nothing after the last tensor.</summary>
    private static void CheckLayout(List<SafeTensorInfo> tensors, long dataLength, string file)
    {
        tensors.Sort((a, b) => a.DataOffset != b.DataOffset
            ? a.DataOffset.CompareTo(b.DataOffset)
            : a.ByteLength.CompareTo(b.ByteLength));
        var position = 0L;
        SafeTensorInfo? previous = null;
        foreach (var t in tensors)
        {
            if (t.DataOffset < position)
            {
                throw InvalidTensor(file, t.Name, $"its bytes [{t.DataOffset}, {t.DataOffset + t.ByteLength}) overlap those of " +
                    $"tensor '{previous!.Name}' [{previous.DataOffset}, {previous.DataOffset + previous.ByteLength}).");
            }

            if (t.DataOffset > position)
            {
                throw Invalid(file, $"bytes [{position}, {t.DataOffset}) of the data section belong to no tensor " +
                    $"(a gap before tensor '{t.Name}'); the tensors must cover the data section contiguously.");
            }

            position = t.DataOffset + t.ByteLength;
            previous = t;
        }

        if (position != dataLength)
        {
            throw Invalid(file, $"the data section is {dataLength} bytes long but the tensors cover only {position} " +
                $"bytes; {dataLength - position} bytes at the end belong to no tensor.");
        }
    }

    private static string Kind(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => value.ValueKind.ToString(),
    };

    internal static string Message(string file, string what) => $"Safetensors file '{file}' is invalid: {what}";

    internal static InvalidDataException Invalid(string file, string what) => new(Message(file, what));

    internal static InvalidDataException InvalidTensor(string file, string name, string what) => Invalid(file, $"tensor '{name}': {what}");
}
