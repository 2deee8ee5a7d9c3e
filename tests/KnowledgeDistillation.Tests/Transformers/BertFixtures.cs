using System.Text.Json;
using KnowledgeDistillation.Tests.Losses;

namespace KnowledgeDistillation.Tests.Transformers;

internal sealed record TokenizerCase(string Vocabulary, string Text, string[] Tokens, int[] Ids);

internal sealed record TokenizerFixture(string[] Uncased, string[] Cased, TokenizerCase[] Cases);

internal sealed record AttentionTermFixture(FlatTensor Mask, FlatTensor Teacher, FlatTensor StudentScores, double Value, FlatTensor ScoresGrad, FlatTensor ProbabilitiesGrad);

internal sealed record ClsTermFixture(
    FlatTensor Teacher, FlatTensor Student, FlatTensor Weight, FlatTensor Bias, double Value, FlatTensor StudentGrad, FlatTensor WeightGrad, FlatTensor BiasGrad,
    FlatTensor SameWidthStudent, double SameWidthValue, FlatTensor SameWidthGrad);

internal sealed record HiddenTermFixture(
    FlatTensor Mask, FlatTensor Teacher, FlatTensor Student, FlatTensor Weight, FlatTensor Bias, double Value, FlatTensor StudentGrad, FlatTensor WeightGrad, FlatTensor BiasGrad);

internal sealed record TermFixtures(AttentionTermFixture Attention, ClsTermFixture Cls, HiddenTermFixture Hidden);

internal sealed record BertReference(
    string TorchVersion, int Seed, long[] InputIds, long[] TokenTypeIds, long[] Shape,
    FlatTensor Logits, FlatTensor Pooled, FlatTensor[] Hidden, FlatTensor[] Attentions, TokenizerFixture Tokenizer, TermFixtures Terms);

/// <summary>
/// Reads Fixtures/bert_reference.json and Fixtures/bert_tiny/, written by tests/fixtures/generate_bert_fixtures.py
/// (PyTorch 1.13, a plain-PyTorch BERT in the Hugging Face layout, a re-implementation of BERT's WordPiece tokenizer and
/// the internal-distillation terms in float64).
/// </summary>
internal static class BertFixtures
{
    private static readonly Lazy<BertReference> File = new(() =>
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "bert_reference.json");
        using var stream = System.IO.File.OpenRead(path);
        var options = new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };
        return JsonSerializer.Deserialize<BertReference>(stream, options) ?? throw new InvalidOperationException($"Could not read {path}.");
    });

    public static BertReference Data => File.Value;

    public static string CheckpointDirectory => Path.Combine(AppContext.BaseDirectory, "Fixtures", "bert_tiny");
}
