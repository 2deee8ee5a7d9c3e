using KnowledgeDistillation.Models;
using TorchSharp;
using KnowledgeDistillation.Serialization;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Fuzz.Targets;

/// <summary>
/// <see cref="SafeTensors.LoadInto"/> into a small MLP, with dtype conversion allowed (the seeds are a float32 and a
/// float64 save of the same architecture, one with metadata). A file that does not fit the module is a documented
/// <see cref="StateDictMismatchException"/>.
/// </summary>
internal sealed class SafeTensorsTarget : FuzzTarget
{
    /// <inheritdoc />
    public override string Name => "safetensors";

    /// <inheritdoc />
    public override string Api => "SafeTensors.LoadInto(module, path, strict: true, allowDTypeConversion: true)";

    /// <inheritdoc />
    public override IReadOnlyList<(string Name, byte[] Data)> CreateSeeds(string scratch)
    {
        random.manual_seed(31);
        using var net = new Mlp(8, new[] { 16 }, numClasses: 3);
        var single = Path.Combine(scratch, "f32.safetensors");
        SafeTensors.Save(net, single, metadata: new Dictionary<string, string> { ["format"] = "pt", ["source"] = "fuzz seed" });
        net.to(ScalarType.Float64);
        var wide = Path.Combine(scratch, "f64.safetensors");
        SafeTensors.Save(net, wide);
        return new[] { ("safetensors-f32.bin", File.ReadAllBytes(single)), ("safetensors-f64.bin", File.ReadAllBytes(wide)) };
    }

    /// <inheritdoc />
    public override void Execute(byte[] input, string scratch)
    {
        var file = Path.Combine(scratch, "input.safetensors");
        File.WriteAllBytes(file, input);
        using var net = new Mlp(8, new[] { 16 }, numClasses: 3);
        SafeTensors.LoadInto(net, file, strict: true, allowDTypeConversion: true);
    }

    /// <inheritdoc />
    public override bool IsDocumented(Exception exception) => exception is InvalidDataException or StateDictMismatchException;
}
