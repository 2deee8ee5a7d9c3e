using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Engine;

/// <summary>Turns a device string from options into a TorchSharp device, with a clear error when it is unavailable.</summary>
internal static class DeviceParser
{
    public static Device Parse(string value, string paramName = nameof(DistillerOptions.Device))
    {
        var text = value.Trim().ToLowerInvariant();
        if (text == "cpu")
        {
            return CPU;
        }

        if (text == "cuda" || text.StartsWith("cuda:", StringComparison.Ordinal))
        {
            var index = 0;
            if (text.Length > 4 && !int.TryParse(text.AsSpan(5), out index))
            {
                throw new ArgumentException($"'{value}' is not a device: use \"cpu\", \"cuda\" or \"cuda:N\".", paramName);
            }

            if (!cuda.is_available())
            {
                throw new ArgumentException(
                    $"Device '{value}' was requested but CUDA is not available. Reference a CUDA build of TorchSharp (libtorch-cuda) and check the driver, or use \"cpu\".",
                    paramName);
            }

            var count = cuda.device_count();
            if (index < 0 || index >= count)
            {
                throw new ArgumentException($"Device '{value}' does not exist: {count} CUDA device(s) are visible.", paramName);
            }

            return new Device(DeviceType.CUDA, index);
        }

        throw new ArgumentException($"'{value}' is not a device: use \"cpu\", \"cuda\" or \"cuda:N\".", paramName);
    }

    public static bool Same(Device a, Device b) => a.type == b.type && (a.type == DeviceType.CPU || a.index == b.index);
}
