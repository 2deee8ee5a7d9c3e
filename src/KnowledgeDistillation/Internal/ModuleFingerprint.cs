using System.Security.Cryptography;
using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Internal;

/// <summary>A SHA-256 over a module's state (names, dtypes, shapes and bytes of every parameter and buffer).</summary>
internal static class ModuleFingerprint
{
    public static string Compute(nn.Module module)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var scope = NewDisposeScope();
        foreach (var (name, value) in module.state_dict().OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            hash.AppendData(Encoding.UTF8.GetBytes($"{name}|{value.dtype}|{string.Join(",", value.shape)}|"));
            var host = value.detach().cpu().contiguous();
            hash.AppendData(host.bytes);
        }

        return Convert.ToHexString(hash.GetHashAndReset());
    }
}
