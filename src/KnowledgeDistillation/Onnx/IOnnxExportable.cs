namespace KnowledgeDistillation.Onnx;

/// <summary>
/// Implemented by modules with their own forward code to export it to ONNX: the module emits its eval-mode
/// forward computation into an <see cref="OnnxGraphBuilder"/> (BatchNorm with running statistics, dropout off).
/// Child modules are emitted with <see cref="OnnxGraphBuilder.Emit"/>, which names them in the module path and
/// handles the standard layers and <see cref="IOnnxExportable"/> children.
/// </summary>
public interface IOnnxExportable
{
    /// <summary>Emits this module's eval-mode forward pass applied to <paramref name="input"/>.</summary>
    /// <param name="graph">The graph under construction; <see cref="OnnxGraphBuilder.Path"/> is this module's path.</param>
    /// <param name="input">The module's input value.</param>
    /// <returns>The module's output value.</returns>
    /// <exception cref="OnnxExportException">A part of the module has no ONNX equivalent.</exception>
    OnnxValue EmitOnnx(OnnxGraphBuilder graph, OnnxValue input);
}
