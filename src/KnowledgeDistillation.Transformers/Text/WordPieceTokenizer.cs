using Microsoft.ML.Tokenizers;

namespace KnowledgeDistillation.Transformers.Text;

/// <summary>
/// BERT's WordPiece tokenisation from a <c>vocab.txt</c> (one token per line, id = line number), as Hugging Face's
/// <c>BertTokenizer</c>: control characters removed, whitespace normalised, CJK characters split, punctuation split,
/// lower case and accent stripping for uncased vocabularies, then greedy longest-match-first word pieces from
/// Microsoft.ML.Tokenizers' <see cref="BertTokenizer"/>, <c>[UNK]</c> for a word it cannot cover or longer than 100 characters.
/// </summary>
/// <remarks>
/// The basic (pre-word-piece) step is this library's, because Microsoft.ML.Tokenizers 2.0.1's differs from the reference
/// on ASCII symbols such as <c>$</c> (dropped) and on tabs and newlines (not word separators); the word pieces are
/// Microsoft.ML.Tokenizers'. Both are tested against an independent re-implementation of BERT's tokenizer.
/// </remarks>
public sealed class WordPieceTokenizer
{
    private readonly BertTokenizer tokenizer;
    private readonly string[] tokensById;

    private WordPieceTokenizer(BertTokenizer tokenizer, string[] tokensById, bool lowerCase)
    {
        this.tokenizer = tokenizer;
        this.tokensById = tokensById;
        LowerCase = lowerCase;
    }

    /// <summary>Whether text is lower-cased and stripped of accents before word pieces are looked up.</summary>
    public bool LowerCase { get; }

    /// <summary>Number of tokens in the vocabulary.</summary>
    public int VocabularySize => tokensById.Length;

    /// <summary>Words longer than this many UTF-16 code units become <c>[UNK]</c> (as in BERT).</summary>
    public const int MaxWordCharacters = 100;

    /// <summary>Id of <c>[UNK]</c>.</summary>
    public int UnknownId => tokenizer.UnknownTokenId;

    /// <summary>Id of <c>[PAD]</c>.</summary>
    public int PadId => tokenizer.PaddingTokenId;

    /// <summary>Id of <c>[CLS]</c>.</summary>
    public int ClsId => tokenizer.ClassificationTokenId;

    /// <summary>Id of <c>[SEP]</c>.</summary>
    public int SepId => tokenizer.SeparatorTokenId;

    /// <summary>Loads a vocabulary file.</summary>
    /// <param name="vocabularyPath">A BERT <c>vocab.txt</c> holding at least <c>[PAD]</c>, <c>[UNK]</c>, <c>[CLS]</c>, <c>[SEP]</c> and <c>[MASK]</c>.</param>
    /// <param name="lowerCase">True for uncased vocabularies (<c>bert-base-uncased</c>): lower case and strip accents.</param>
    /// <returns>The tokenizer.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">A special token is missing or a token is repeated.</exception>
    public static WordPieceTokenizer FromVocabulary(string vocabularyPath, bool lowerCase = true)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(vocabularyPath);
        if (!File.Exists(vocabularyPath))
        {
            throw new FileNotFoundException($"No vocabulary file at '{vocabularyPath}'.", vocabularyPath);
        }

        var tokens = File.ReadAllLines(vocabularyPath);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < tokens.Length; i++)
        {
            if (!seen.Add(tokens[i]))
            {
                throw new InvalidDataException($"'{vocabularyPath}' line {i + 1}: token '{tokens[i]}' appears twice.");
            }
        }

        foreach (var special in Vocabulary.SpecialTokens)
        {
            if (!seen.Contains(special))
            {
                throw new InvalidDataException($"'{vocabularyPath}' has no '{special}' token; a BERT vocabulary needs {string.Join(", ", Vocabulary.SpecialTokens)}.");
            }
        }

        var options = new BertOptions
        {
            LowerCaseBeforeTokenization = false,
            RemoveNonSpacingMarks = false,
            ApplyBasicTokenization = false,
            IndividuallyTokenizeCjk = false,
            SplitOnSpecialTokens = false,
        };
        return new WordPieceTokenizer(BertTokenizer.Create(vocabularyPath, options), tokens, lowerCase);
    }

    /// <summary>The word pieces of <paramref name="text"/>, without special tokens.</summary>
    /// <param name="text">Any text.</param>
    /// <returns>The token strings.</returns>
    public IReadOnlyList<string> Tokenize(string text) => Ids(text).Select(i => tokensById[i]).ToArray();

    /// <summary>The ids of the word pieces of <paramref name="text"/>, without special tokens.</summary>
    /// <param name="text">Any text.</param>
    /// <returns>The ids.</returns>
    public IReadOnlyList<int> Ids(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>();
        foreach (var word in BasicTokenizer.Split(text, LowerCase))
        {
            if (word.Length > MaxWordCharacters)
            {
                ids.Add(UnknownId);
                continue;
            }

            ids.AddRange(tokenizer.EncodeToIds(word, addSpecialTokens: false, considerPreTokenization: false, considerNormalization: false));
        }

        return ids;
    }

    /// <summary><c>[CLS] pieces [SEP]</c>, with the pieces truncated so that the whole is at most <paramref name="maxLength"/> ids.</summary>
    /// <param name="text">Any text.</param>
    /// <param name="maxLength">At least 2.</param>
    /// <returns>The ids.</returns>
    public long[] Encode(string text, int maxLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 2);
        var pieces = Ids(text);
        var count = Math.Min(pieces.Count, maxLength - 2);
        var ids = new long[count + 2];
        ids[0] = ClsId;
        for (var i = 0; i < count; i++)
        {
            ids[i + 1] = pieces[i];
        }

        ids[^1] = SepId;
        return ids;
    }
}
