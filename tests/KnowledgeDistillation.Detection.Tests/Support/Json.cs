using System.Text.Json;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Detection.Tests.Support;

/// <summary>Reads the committed fixture files and turns nested JSON arrays into float64 tensors.</summary>
internal static class Json
{
    /// <summary>-inf as the generators write it.</summary>
    public const double NegativeInfinitySentinel = -1e30;

    public static JsonElement Load(string file)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", file);
        return JsonDocument.Parse(File.ReadAllText(path)).RootElement;
    }

    public static Tensor Tensor(JsonElement element, bool requiresGrad = false)
    {
        var shape = new List<long>();
        var e = element;
        while (e.ValueKind == JsonValueKind.Array)
        {
            shape.Add(e.GetArrayLength());
            e = e.GetArrayLength() > 0 ? e[0] : default;
        }

        var values = new List<double>();
        Flatten(element, values);
        var t = tensor(values.Select(v => v <= NegativeInfinitySentinel ? double.NegativeInfinity : v).ToArray(), shape.ToArray(), dtype: ScalarType.Float64);
        return requiresGrad ? t.requires_grad_() : t;
    }

    public static Tensor Bool(JsonElement element)
    {
        using var t = Tensor(Map(element));
        return t > 0.5;
    }

    public static Tensor Long(JsonElement element)
    {
        using var t = Tensor(element);
        return t.to(ScalarType.Int64);
    }

    public static double[] Values(Tensor t) => t.detach().cpu().to(ScalarType.Float64).contiguous().data<double>().ToArray();

    private static JsonElement Map(JsonElement boolArray) =>
        JsonDocument.Parse(boolArray.GetRawText().Replace("true", "1", StringComparison.Ordinal).Replace("false", "0", StringComparison.Ordinal)).RootElement;

    private static void Flatten(JsonElement e, List<double> values)
    {
        if (e.ValueKind == JsonValueKind.Array)
        {
            foreach (var x in e.EnumerateArray())
            {
                Flatten(x, values);
            }
        }
        else
        {
            values.Add(e.GetDouble());
        }
    }
}
