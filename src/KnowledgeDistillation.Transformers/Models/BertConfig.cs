using System.Globalization;
using System.Text.Json;

namespace KnowledgeDistillation.Transformers;

/// <summary>
/// The shape of a BERT-style encoder; the property names follow Hugging Face's <c>config.json</c>
/// (<see cref="FromHuggingFaceJson"/> reads one).
/// </summary>
public sealed record BertConfig
{
    /// <summary>Number of token ids (rows of the word embedding).</summary>
    public int VocabSize { get; init; } = 30522;

    /// <summary>Width of the hidden states.</summary>
    public int HiddenSize { get; init; } = 768;

    /// <summary>Number of encoder layers.</summary>
    public int NumHiddenLayers { get; init; } = 12;

    /// <summary>Number of attention heads per layer; must divide <see cref="HiddenSize"/>.</summary>
    public int NumAttentionHeads { get; init; } = 12;

    /// <summary>Width of the feed-forward layer.</summary>
    public int IntermediateSize { get; init; } = 3072;

    /// <summary>Feed-forward activation.</summary>
    public BertActivation HiddenAct { get; init; } = BertActivation.Gelu;

    /// <summary>Dropout on embeddings and sub-layer outputs, in [0, 1).</summary>
    public double HiddenDropoutProb { get; init; } = 0.1;

    /// <summary>Dropout on attention probabilities, in [0, 1) (the probabilities exposed as features are taken before it).</summary>
    public double AttentionProbsDropoutProb { get; init; } = 0.1;

    /// <summary>Longest sequence the position embedding covers.</summary>
    public int MaxPositionEmbeddings { get; init; } = 512;

    /// <summary>Number of segment (token type) ids.</summary>
    public int TypeVocabSize { get; init; } = 2;

    /// <summary>LayerNorm epsilon.</summary>
    public double LayerNormEps { get; init; } = 1e-12;

    /// <summary>Id of the padding token; positions holding it are masked when no attention mask is given.</summary>
    public int PadTokenId { get; init; }

    /// <summary>Number of classes of the classification head.</summary>
    public int NumLabels { get; init; } = 2;

    /// <summary>Post-LN (BERT, the only layout Hugging Face BERT checkpoints use) or pre-LN.</summary>
    public LayerNormPosition LayerNormPosition { get; init; } = LayerNormPosition.Post;

    /// <summary>Width of one attention head.</summary>
    public int HeadSize => HiddenSize / NumAttentionHeads;

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first setting out of range.</summary>
    /// <exception cref="ArgumentException">A setting is out of range.</exception>
    public void Validate()
    {
        Positive(VocabSize, nameof(VocabSize));
        Positive(HiddenSize, nameof(HiddenSize));
        Positive(NumHiddenLayers, nameof(NumHiddenLayers));
        Positive(NumAttentionHeads, nameof(NumAttentionHeads));
        Positive(IntermediateSize, nameof(IntermediateSize));
        Positive(MaxPositionEmbeddings, nameof(MaxPositionEmbeddings));
        Positive(TypeVocabSize, nameof(TypeVocabSize));
        if (HiddenSize % NumAttentionHeads != 0)
        {
            throw new ArgumentException($"{nameof(HiddenSize)} ({HiddenSize}) must be a multiple of {nameof(NumAttentionHeads)} ({NumAttentionHeads}).", nameof(NumAttentionHeads));
        }

        Probability(HiddenDropoutProb, nameof(HiddenDropoutProb));
        Probability(AttentionProbsDropoutProb, nameof(AttentionProbsDropoutProb));
        if (!(LayerNormEps > 0) || double.IsInfinity(LayerNormEps))
        {
            throw new ArgumentException($"{nameof(LayerNormEps)} must be a finite number > 0; got {LayerNormEps}.", nameof(LayerNormEps));
        }

        if (PadTokenId < 0 || PadTokenId >= VocabSize)
        {
            throw new ArgumentException($"{nameof(PadTokenId)} must be in [0, {VocabSize}); got {PadTokenId}.", nameof(PadTokenId));
        }

        if (NumLabels < 2)
        {
            throw new ArgumentException($"{nameof(NumLabels)} must be >= 2; got {NumLabels}.", nameof(NumLabels));
        }
    }

    /// <summary>Reads a Hugging Face BERT <c>config.json</c>.</summary>
    /// <param name="path">The file.</param>
    /// <param name="numLabels">The classes of the head; by default <c>num_labels</c> or the size of <c>id2label</c> (2 when neither is present).</param>
    /// <returns>The configuration (post-LN).</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a BERT configuration, or a field has the wrong type or an unsupported value.</exception>
    public static BertConfig FromHuggingFaceJson(string path, int? numLabels = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"No Hugging Face config.json at '{path}'.", path);
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{path}' is not valid JSON: {e.Message}", e);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"'{path}' must hold a JSON object.");
            }

            if (root.TryGetProperty("model_type", out var type) && type.ValueKind == JsonValueKind.String && type.GetString() != "bert")
            {
                throw new InvalidDataException($"'{path}' describes a '{type.GetString()}' model; only 'bert' is supported.");
            }

            var defaults = new BertConfig();
            var labels = numLabels
                ?? (root.TryGetProperty("num_labels", out var n) ? ReadInt(n, path, "num_labels")
                : root.TryGetProperty("id2label", out var map) && map.ValueKind == JsonValueKind.Object ? map.EnumerateObject().Count()
                : 2);
            var config = new BertConfig
            {
                VocabSize = Int(root, "vocab_size", defaults.VocabSize, path),
                HiddenSize = Int(root, "hidden_size", defaults.HiddenSize, path),
                NumHiddenLayers = Int(root, "num_hidden_layers", defaults.NumHiddenLayers, path),
                NumAttentionHeads = Int(root, "num_attention_heads", defaults.NumAttentionHeads, path),
                IntermediateSize = Int(root, "intermediate_size", defaults.IntermediateSize, path),
                HiddenAct = Activation(root, path),
                HiddenDropoutProb = Double(root, "hidden_dropout_prob", defaults.HiddenDropoutProb, path),
                AttentionProbsDropoutProb = Double(root, "attention_probs_dropout_prob", defaults.AttentionProbsDropoutProb, path),
                MaxPositionEmbeddings = Int(root, "max_position_embeddings", defaults.MaxPositionEmbeddings, path),
                TypeVocabSize = Int(root, "type_vocab_size", defaults.TypeVocabSize, path),
                LayerNormEps = Double(root, "layer_norm_eps", defaults.LayerNormEps, path),
                PadTokenId = Int(root, "pad_token_id", 0, path),
                NumLabels = labels,
            };
            if (root.TryGetProperty("position_embedding_type", out var position) && position.ValueKind == JsonValueKind.String && position.GetString() != "absolute")
            {
                throw new InvalidDataException($"'{path}': position_embedding_type '{position.GetString()}' is not supported (only 'absolute').");
            }

            try
            {
                config.Validate();
            }
            catch (ArgumentException e)
            {
                throw new InvalidDataException($"'{path}': {e.Message}", e);
            }

            return config;
        }
    }

    private static BertActivation Activation(JsonElement root, string path)
    {
        if (!root.TryGetProperty("hidden_act", out var act))
        {
            return BertActivation.Gelu;
        }

        return act.ValueKind == JsonValueKind.String ? act.GetString() switch
        {
            "gelu" => BertActivation.Gelu,
            "gelu_new" or "gelu_pytorch_tanh" => BertActivation.GeluTanh,
            "relu" => BertActivation.Relu,
            var other => throw new InvalidDataException($"'{path}': hidden_act '{other}' is not supported (gelu, gelu_new, gelu_pytorch_tanh, relu)."),
        } : throw new InvalidDataException($"'{path}': hidden_act must be a string.");
    }

    private static int Int(JsonElement root, string name, int fallback, string path) =>
        root.TryGetProperty(name, out var value) ? ReadInt(value, path, name) : fallback;

    private static int ReadInt(JsonElement value, string path, string name) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var i) ? i
        : throw new InvalidDataException($"'{path}': {name} must be an integer; got {value.GetRawText()}.");

    private static double Double(JsonElement root, string name, double fallback, string path)
    {
        if (!root.TryGetProperty(name, out var value))
        {
            return fallback;
        }

        return value.ValueKind == JsonValueKind.Number ? value.GetDouble()
            : throw new InvalidDataException($"'{path}': {name} must be a number; got {value.GetRawText()}.");
    }

    private static void Positive(int value, string name)
    {
        if (value < 1)
        {
            throw new ArgumentException($"{name} must be >= 1; got {value.ToString(CultureInfo.InvariantCulture)}.", name);
        }
    }

    private static void Probability(double value, string name)
    {
        if (!(value >= 0 && value < 1))
        {
            throw new ArgumentException($"{name} must be in [0, 1); got {value}.", name);
        }
    }
}
