using static TorchSharp.torch;

namespace KnowledgeDistillation.Detection.Losses;

/// <summary>What <see cref="IcdDecoder"/> returns.</summary>
/// <param name="Queries">The decoded queries q'' <c>[B, M, D]</c>.</param>
/// <param name="AttentionLogits">Scaled attention logits <c>[B, H, M, S]</c>, −∞ at padded positions.</param>
/// <param name="TeacherValues">The teacher's values <c>W_v F^T</c> split into heads, <c>[B, S, H, d]</c> (before normalisation).</param>
public sealed record IcdDecoderOutput(Tensor Queries, Tensor AttentionLogits, Tensor TeacherValues);
