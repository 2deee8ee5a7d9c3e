using Xunit;
using System.Text.Json.Nodes;
using FluentAssertions;
using KnowledgeDistillation.Serialization;
using KnowledgeDistillation.Tests.Losses;
using KnowledgeDistillation.Tests.Support;
using KnowledgeDistillation.Transformers;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Transformers;

/// <summary>Serial: these tests seed and draw from TorchSharp's global generator, which exact-reproducibility tests elsewhere need to themselves.</summary>
[Collection(SerialCollection.Name)]
public sealed class HuggingFaceBertTests
{
    [Fact]
    public void A_Hugging_Face_checkpoint_reproduces_the_reference_forward_pass_to_1e_5()
    {
        var data = BertFixtures.Data;
        using var model = HuggingFaceBert.Load(BertFixtures.CheckpointDirectory);
        model.eval();
        model.Config.NumLabels.Should().Be(3, "id2label has three entries");
        using var scope = NewDisposeScope();
        var ids = tensor(data.InputIds, data.Shape);
        var types = tensor(data.TokenTypeIds, data.Shape);
        using var noGrad = no_grad();
        var output = model.Forward(ids, types, null);

        output.Logits!.ShouldMatch(data.Logits, 1e-5, "logits");
        output.Features[BertFeatures.Pooled].ShouldMatch(data.Pooled, 1e-5, "pooled");
        for (var l = 0; l < data.Hidden.Length; l++)
        {
            output.Features[BertFeatures.Hidden(l)].ShouldMatch(data.Hidden[l], 1e-5, $"hidden state {l}");
        }

        for (var l = 0; l < data.Attentions.Length; l++)
        {
            output.Features[BertFeatures.Attention(l + 1)].ShouldMatch(data.Attentions[l], 1e-5, $"attention of layer {l + 1}");
        }
    }

    [Fact]
    public void Padding_does_not_change_the_outputs_of_real_tokens_and_padded_keys_get_no_attention()
    {
        using var model = HuggingFaceBert.Load(BertFixtures.CheckpointDirectory);
        model.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var shortIds = tensor(new long[] { 2, 7, 11, 3 }, new long[] { 1, 4 });
        var padded = tensor(new long[] { 2, 7, 11, 3, 0, 0, 0 }, new long[] { 1, 7 });
        var a = model.call(shortIds);
        var b = model.call(padded);
        (a.Logits! - b.Logits!).abs().max().item<float>().Should().BeLessThan(1e-5f);
        (a.Features[BertFeatures.Hidden(2)] - b.Features[BertFeatures.Hidden(2)].narrow(1, 0, 4)).abs().max().item<float>().Should().BeLessThan(1e-5f);
        b.Features[BertFeatures.Attention(1)].narrow(3, 4, 3).abs().max().item<float>().Should().Be(0f);
        b.Features[BertFeatures.AttentionMask].sum().item<float>().Should().Be(4f);
    }

    [Fact]
    public void A_checkpoint_with_a_missing_layer_fails_naming_the_missing_tensors()
    {
        var directory = CopyWithConfig(c => c["num_hidden_layers"] = 3);
        var act = () => HuggingFaceBert.Load(directory);
        var error = act.Should().Throw<StateDictMismatchException>().Which;
        error.Missing.Should().Contain("bert.encoder.layer.2.attention.self.query.weight");
        error.Missing.Should().OnlyContain(n => n.StartsWith("bert.encoder.layer.2.", StringComparison.Ordinal));
        error.Message.Should().Contain("bert.encoder.layer.2.output.LayerNorm.weight");
    }

    [Fact]
    public void A_checkpoint_of_another_width_fails_listing_the_shapes_that_differ()
    {
        var directory = CopyWithConfig(c =>
        {
            c["hidden_size"] = 32;
            c["intermediate_size"] = 24;
        });
        var act = () => HuggingFaceBert.Load(directory);
        var error = act.Should().Throw<StateDictMismatchException>().Which;
        error.Mismatched.Should().Contain(m => m.Contains("bert.embeddings.word_embeddings.weight", StringComparison.Ordinal));
        error.Message.Should().Contain("[40, 16]").And.Contain("[40, 32]");
    }

    [Fact]
    public void A_saved_model_loads_back_through_the_Hugging_Face_path_with_equal_outputs()
    {
        torch.random.manual_seed(3);
        var config = new BertConfig { VocabSize = 30, HiddenSize = 8, NumHiddenLayers = 2, NumAttentionHeads = 2, IntermediateSize = 16, MaxPositionEmbeddings = 10, NumLabels = 2 };
        using var model = new BertForSequenceClassification(config);
        var directory = Directory.CreateTempSubdirectory("kd-bert-save-").FullName;
        HuggingFaceBert.Save(model, directory);
        using var loaded = HuggingFaceBert.Load(directory);
        model.eval();
        loaded.eval();
        using var scope = NewDisposeScope();
        var ids = tensor(new long[] { 2, 5, 9, 3, 0 }, new long[] { 1, 5 });
        (model.call(ids).Logits! - loaded.call(ids).Logits!).abs().max().item<float>().Should().Be(0f);
        loaded.Config.Should().Be(config);
    }

    [Fact]
    public void A_bare_encoder_checkpoint_loads_without_a_head_only_when_allowed()
    {
        var directory = Directory.CreateTempSubdirectory("kd-bert-bare-").FullName;
        File.Copy(Path.Combine(BertFixtures.CheckpointDirectory, "config.json"), Path.Combine(directory, "config.json"));
        using (var source = HuggingFaceBert.Load(BertFixtures.CheckpointDirectory))
        {
            // A BertModel checkpoint: names without "bert.", no classifier.
            SafeTensors.Save(source, Path.Combine(directory, "model.safetensors"), n => n.StartsWith("bert.", StringComparison.Ordinal) ? n[5..] : null);
        }

        var strict = () => HuggingFaceBert.Load(directory);
        strict.Should().Throw<StateDictMismatchException>().Which.Missing.Should().BeEquivalentTo(new[] { "classifier.weight", "classifier.bias" });
        using var loaded = HuggingFaceBert.Load(directory, requireClassifier: false);
        loaded.Config.NumHiddenLayers.Should().Be(2);
    }

    [Fact]
    public void Bad_inputs_fail_with_the_argument_and_the_expected_shape()
    {
        using var model = new BertForSequenceClassification(new BertConfig { VocabSize = 10, HiddenSize = 8, NumHiddenLayers = 1, NumAttentionHeads = 2, IntermediateSize = 8, MaxPositionEmbeddings = 4 });
        using var scope = NewDisposeScope();
        ((Action)(() => model.call(ones(2, 3)))).Should().Throw<ArgumentException>().WithMessage("*inputIds*int64*");
        ((Action)(() => model.call(ones(2, 5, ScalarType.Int64)))).Should().Throw<ArgumentException>().WithMessage("*5 tokens*1 to 4*");
        ((Action)(() => model.call(full(2, 3, 10L)))).Should().Throw<ArgumentException>().WithMessage("*10 ids*");
        ((Action)(() => model.Forward(ones(2, 3, ScalarType.Int64), ones(2, 4, ScalarType.Int64), null))).Should().Throw<ArgumentException>().WithMessage("*tokenTypeIds*");
        ((Action)(() => new BertForSequenceClassification(new BertConfig { HiddenSize = 10, NumAttentionHeads = 3 }))).Should().Throw<ArgumentException>().WithMessage("*multiple*");
    }

    [Fact]
    public void A_pre_LN_encoder_normalises_before_each_sub_layer_and_cannot_be_saved_in_the_Hugging_Face_layout()
    {
        torch.random.manual_seed(5);
        var config = new BertConfig { VocabSize = 20, HiddenSize = 8, NumHiddenLayers = 2, NumAttentionHeads = 2, IntermediateSize = 16, MaxPositionEmbeddings = 8, LayerNormPosition = LayerNormPosition.Pre };
        using var model = new BertForSequenceClassification(config);
        model.eval();
        model.state_dict().Keys.Should().Contain("bert.encoder.final_layer_norm.weight").And.Contain("bert.encoder.layer.1.attention.self.query.weight");
        using var scope = NewDisposeScope();
        var output = model.call(tensor(new long[] { 2, 5, 6, 3 }, new long[] { 1, 4 }));
        // Layer 1's output is a residual stream (not normalised); the last one goes through the final LayerNorm.
        var last = output.Features[BertFeatures.Hidden(2)];
        last.mean(new long[] { -1 }).abs().max().item<float>().Should().BeLessThan(1e-4f);
        output.Features[BertFeatures.Hidden(1)].mean(new long[] { -1 }).abs().max().item<float>().Should().BeGreaterThan(1e-3f);
        ((Action)(() => HuggingFaceBert.Save(model, Directory.CreateTempSubdirectory("kd-preln-").FullName))).Should().Throw<ArgumentException>().WithMessage("*post-LN*");
    }

    private static string CopyWithConfig(Action<JsonObject> edit)
    {
        var directory = Directory.CreateTempSubdirectory("kd-bert-mismatch-").FullName;
        File.Copy(Path.Combine(BertFixtures.CheckpointDirectory, "model.safetensors"), Path.Combine(directory, "model.safetensors"));
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(BertFixtures.CheckpointDirectory, "config.json")))!.AsObject();
        edit(config);
        File.WriteAllText(Path.Combine(directory, "config.json"), config.ToJsonString());
        return directory;
    }
}
