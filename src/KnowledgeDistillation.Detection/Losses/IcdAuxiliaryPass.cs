namespace KnowledgeDistillation.Detection.Losses;

/// <summary>One forward pass of ICD's auxiliary task: the queries, the decoder's output, and the auxiliary heads' outputs <c>[B, M, 5]</c>.</summary>
/// <param name="Queries">The sampled queries.</param>
/// <param name="Decoded">The decoder's output.</param>
/// <param name="Outputs">The auxiliary heads' outputs (0: real/fake logit; 1-4: localisation logits).</param>
internal sealed record IcdAuxiliaryPass(IcdQueries Queries, IcdDecoderOutput Decoded, TorchSharp.torch.Tensor Outputs);
