using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Detection.Tests.Support;

internal static class Modules
{
    /// <summary>Copies fixture parameters (by state-dict name) into a module converted to float64; every parameter must be named.</summary>
    public static void Load(nn.Module module, JsonElement parameters)
    {
        module.to(ScalarType.Float64);
        var named = module.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        using var noGrad = no_grad();
        var count = 0;
        foreach (var p in parameters.EnumerateObject())
        {
            if (!named.TryGetValue(p.Name, out var target))
            {
                throw new InvalidOperationException($"The module has no parameter '{p.Name}' (it has {string.Join(", ", named.Keys)}).");
            }

            using var value = Json.Tensor(p.Value);
            target.copy_(value);
            count++;
        }

        if (count != named.Count)
        {
            throw new InvalidOperationException($"The fixture names {count} of the module's {named.Count} parameters.");
        }
    }
}
