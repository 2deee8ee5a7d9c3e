using KnowledgeDistillation.Serialization;
using TorchSharp;

namespace KnowledgeDistillation.Transformers;

/// <summary>
/// Loads Hugging Face BERT checkpoints (<c>config.json</c> + <c>model.safetensors</c>) into a
/// <see cref="BertForSequenceClassification"/> by parameter name.
/// </summary>
/// <remarks>
/// Names are taken as Hugging Face writes them for <c>BertForSequenceClassification</c>. A checkpoint of a bare
/// <c>BertModel</c> (names without the <c>bert.</c> prefix) is accepted too; the <c>embeddings.position_ids</c> buffer and
/// pre-training heads (<c>cls.*</c>) are skipped, and the old <c>LayerNorm.gamma</c>/<c>beta</c> names are read as
/// <c>weight</c>/<c>bias</c>. Every difference between the file and the model (missing layers, unexpected tensors, other
/// shapes) is reported together in one <see cref="StateDictMismatchException"/> before any weight is copied.
/// </remarks>
public static class HuggingFaceBert
{
    /// <summary>The checkpoint file name Hugging Face writes.</summary>
    public const string WeightsFileName = "model.safetensors";

    /// <summary>The configuration file name Hugging Face writes.</summary>
    public const string ConfigFileName = "config.json";

    /// <summary>Creates a model from a Hugging Face checkpoint directory.</summary>
    /// <param name="directory">Holds <c>config.json</c> and <c>model.safetensors</c>.</param>
    /// <param name="numLabels">Classes of the head; by default from the configuration.</param>
    /// <param name="requireClassifier">
    /// When true (the default), the checkpoint must hold the classification head; when false, a checkpoint without one
    /// (a pre-trained encoder to fine-tune) leaves the head randomly initialised.
    /// </param>
    /// <returns>The loaded model, in training mode, on the CPU.</returns>
    /// <exception cref="FileNotFoundException">A file is missing.</exception>
    /// <exception cref="InvalidDataException">The configuration or the checkpoint is malformed.</exception>
    /// <exception cref="StateDictMismatchException">The checkpoint does not fit the configuration; the message lists every difference.</exception>
    public static BertForSequenceClassification Load(string directory, int? numLabels = null, bool requireClassifier = true)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        var config = BertConfig.FromHuggingFaceJson(Path.Combine(directory, ConfigFileName), numLabels);
        var model = new BertForSequenceClassification(config);
        try
        {
            LoadInto(model, Path.Combine(directory, WeightsFileName), requireClassifier);
        }
        catch
        {
            model.Dispose();
            throw;
        }

        return model;
    }

    /// <summary>Copies a Hugging Face BERT checkpoint into <paramref name="model"/>.</summary>
    /// <param name="model">The model; its configuration must match the checkpoint's shapes.</param>
    /// <param name="weightsPath">The <c>model.safetensors</c> file.</param>
    /// <param name="requireClassifier">When false, a checkpoint without <c>classifier.*</c> leaves the head as it is.</param>
    /// <returns>What was loaded, converted (F16/BF16 to F32) and skipped.</returns>
    /// <exception cref="FileNotFoundException">The file is missing.</exception>
    /// <exception cref="InvalidDataException">The file is not a well-formed safetensors file.</exception>
    /// <exception cref="StateDictMismatchException">The checkpoint does not fit the model; the message lists every difference.</exception>
    public static SafeTensorsLoadReport LoadInto(BertForSequenceClassification model, string weightsPath, bool requireClassifier = true)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrWhiteSpace(weightsPath);
        if (!File.Exists(weightsPath))
        {
            throw new FileNotFoundException($"No safetensors checkpoint at '{weightsPath}'.", weightsPath);
        }

        var strict = requireClassifier || HasClassifier(weightsPath);
        var report = SafeTensors.LoadInto(model, weightsPath, MapName, strict, allowDTypeConversion: true);
        if (!strict)
        {
            var missing = report.Missing.Where(n => !n.StartsWith("classifier.", StringComparison.Ordinal)).ToArray();
            if (missing.Length > 0 || report.Unexpected.Count > 0)
            {
                throw new InvalidDataException(
                    $"'{weightsPath}' does not fit the model: missing [{string.Join(", ", missing)}], unexpected [{string.Join(", ", report.Unexpected)}]. " +
                    "The model may be partly loaded.");
            }
        }

        return report;
    }

    /// <summary>Maps a Hugging Face tensor name to this model's entry name, or null for tensors that are skipped.</summary>
    /// <param name="name">The name in the checkpoint.</param>
    /// <returns>The model's entry name, or null.</returns>
    public static string? MapName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.EndsWith("position_ids", StringComparison.Ordinal) || name.StartsWith("cls.", StringComparison.Ordinal))
        {
            return null;
        }

        var mapped = name.Replace("LayerNorm.gamma", "LayerNorm.weight", StringComparison.Ordinal)
            .Replace("LayerNorm.beta", "LayerNorm.bias", StringComparison.Ordinal);
        return mapped.StartsWith("bert.", StringComparison.Ordinal) || mapped.StartsWith("classifier.", StringComparison.Ordinal)
            ? mapped
            : "bert." + mapped;
    }

    /// <summary>Saves <paramref name="model"/> as a Hugging Face checkpoint directory (<c>config.json</c> + <c>model.safetensors</c>).</summary>
    /// <param name="model">The model (post-LN).</param>
    /// <param name="directory">Created if missing; existing files are replaced.</param>
    /// <exception cref="ArgumentException">The model is pre-LN, which Hugging Face BERT cannot express.</exception>
    public static void Save(BertForSequenceClassification model, string directory)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        if (model.Config.LayerNormPosition != LayerNormPosition.Post)
        {
            throw new ArgumentException("Only post-LN models can be saved in the Hugging Face BERT layout.", nameof(model));
        }

        Directory.CreateDirectory(directory);
        SafeTensors.Save(model, Path.Combine(directory, WeightsFileName));
        var c = model.Config;
        var act = c.HiddenAct switch { BertActivation.Gelu => "gelu", BertActivation.GeluTanh => "gelu_new", _ => "relu" };
        var json = System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["model_type"] = "bert",
            ["architectures"] = new[] { "BertForSequenceClassification" },
            ["vocab_size"] = c.VocabSize,
            ["hidden_size"] = c.HiddenSize,
            ["num_hidden_layers"] = c.NumHiddenLayers,
            ["num_attention_heads"] = c.NumAttentionHeads,
            ["intermediate_size"] = c.IntermediateSize,
            ["hidden_act"] = act,
            ["hidden_dropout_prob"] = c.HiddenDropoutProb,
            ["attention_probs_dropout_prob"] = c.AttentionProbsDropoutProb,
            ["max_position_embeddings"] = c.MaxPositionEmbeddings,
            ["type_vocab_size"] = c.TypeVocabSize,
            ["layer_norm_eps"] = c.LayerNormEps,
            ["pad_token_id"] = c.PadTokenId,
            ["num_labels"] = c.NumLabels,
            ["position_embedding_type"] = "absolute",
        });
        File.WriteAllText(Path.Combine(directory, ConfigFileName), json);
    }

    private static bool HasClassifier(string path)
    {
        using var file = SafeTensorsFile.Open(path);
        return file.Tensors.Any(t => t.Name.StartsWith("classifier.", StringComparison.Ordinal));
    }
}
