using System.Text;
using KnowledgeDistillation.Transformers;

namespace KnowledgeDistillation.Fuzz.Targets;

/// <summary>
/// <see cref="BertConfig.FromHuggingFaceJson"/>, the <c>config.json</c> half of <see cref="HuggingFaceBert.Load"/> (the
/// <c>model.safetensors</c> half is the <c>safetensors</c> target's reader). Building the model is left out: a valid
/// configuration may legitimately ask for gigabytes of weights.
/// </summary>
internal sealed class BertConfigTarget : FuzzTarget
{
    /// <inheritdoc />
    public override string Name => "hf-bert-config";

    /// <inheritdoc />
    public override string Api => "BertConfig.FromHuggingFaceJson(path)";

    /// <inheritdoc />
    public override IReadOnlyList<(string Name, byte[] Data)> CreateSeeds(string scratch) => new[]
    {
        ("bert-base-uncased.json.bin", Encoding.UTF8.GetBytes("""
            {
              "architectures": ["BertForMaskedLM"],
              "attention_probs_dropout_prob": 0.1,
              "gradient_checkpointing": false,
              "hidden_act": "gelu",
              "hidden_dropout_prob": 0.1,
              "hidden_size": 768,
              "initializer_range": 0.02,
              "intermediate_size": 3072,
              "layer_norm_eps": 1e-12,
              "max_position_embeddings": 512,
              "model_type": "bert",
              "num_attention_heads": 12,
              "num_hidden_layers": 12,
              "pad_token_id": 0,
              "position_embedding_type": "absolute",
              "transformers_version": "4.6.0.dev0",
              "type_vocab_size": 2,
              "use_cache": true,
              "vocab_size": 30522
            }
            """)),
        ("tiny-sst2.json.bin", Encoding.UTF8.GetBytes(
            """{"model_type":"bert","vocab_size":64,"hidden_size":16,"num_hidden_layers":2,"num_attention_heads":4,"intermediate_size":32,"hidden_act":"gelu_new","max_position_embeddings":32,"type_vocab_size":2,"id2label":{"0":"negative","1":"positive","2":"neutral"}}""")),
        ("num-labels.json.bin", Encoding.UTF8.GetBytes("""{"hidden_size":8,"num_attention_heads":2,"num_labels":5,"hidden_act":"relu","layer_norm_eps":1e-5}""")),
    };

    /// <inheritdoc />
    public override void Execute(byte[] input, string scratch)
    {
        var file = Path.Combine(scratch, "config.json");
        File.WriteAllBytes(file, input);
        var config = BertConfig.FromHuggingFaceJson(file);
        GC.KeepAlive(config.GetHashCode());
    }
}
