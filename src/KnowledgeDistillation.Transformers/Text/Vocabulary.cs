using System.Globalization;
using System.Text;

namespace KnowledgeDistillation.Transformers.Text;

/// <summary>Builds a WordPiece vocabulary from training text, for models trained without a pre-trained vocabulary.</summary>
public static class Vocabulary
{
    /// <summary>The special tokens, in the order (and so the ids 0-4) a built vocabulary gives them.</summary>
    public static IReadOnlyList<string> SpecialTokens { get; } = new[] { "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]" };

    /// <summary>
    /// Writes a <c>vocab.txt</c>: the special tokens, every character seen (as <c>c</c> and <c>##c</c>, so that no word of
    /// the training text becomes <c>[UNK]</c>), then whole words by descending frequency (ties in ordinal order) while the
    /// vocabulary is under <paramref name="maxSize"/> and the word occurs at least <paramref name="minCount"/> times.
    /// </summary>
    /// <param name="texts">Training sentences.</param>
    /// <param name="path">The file to write.</param>
    /// <param name="maxSize">Largest vocabulary size (at least the special tokens and characters).</param>
    /// <param name="minCount">Fewest occurrences of a kept word (>= 1).</param>
    /// <param name="lowerCase">Lower case and strip accents first (use the same setting in <see cref="WordPieceTokenizer.FromVocabulary"/>).</param>
    /// <returns>The vocabulary size.</returns>
    public static int Build(IEnumerable<string> texts, string path, int maxSize = 30000, int minCount = 2, bool lowerCase = true)
    {
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSize, SpecialTokens.Count);
        ArgumentOutOfRangeException.ThrowIfLessThan(minCount, 1);
        var words = new Dictionary<string, int>(StringComparer.Ordinal);
        var characters = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var text in texts)
        {
            foreach (var word in Words(text, lowerCase))
            {
                words[word] = words.GetValueOrDefault(word) + 1;
                var e = StringInfo.GetTextElementEnumerator(word);
                while (e.MoveNext())
                {
                    characters.Add(e.GetTextElement());
                }
            }
        }

        var vocabulary = new List<string>(SpecialTokens);
        var present = new HashSet<string>(vocabulary, StringComparer.Ordinal);
        foreach (var c in characters)
        {
            foreach (var token in new[] { c, "##" + c })
            {
                if (vocabulary.Count < maxSize && present.Add(token))
                {
                    vocabulary.Add(token);
                }
            }
        }

        foreach (var (word, _) in words.Where(w => w.Value >= minCount).OrderByDescending(w => w.Value).ThenBy(w => w.Key, StringComparer.Ordinal))
        {
            if (vocabulary.Count >= maxSize)
            {
                break;
            }

            if (present.Add(word))
            {
                vocabulary.Add(word);
            }
        }

        File.WriteAllLines(path, vocabulary, new UTF8Encoding(false));
        return vocabulary.Count;
    }

    private static IEnumerable<string> Words(string text, bool lowerCase)
    {
        var normalised = lowerCase ? StripAccents(text.ToLowerInvariant()) : text;
        var current = new StringBuilder();
        foreach (var ch in normalised)
        {
            if (char.IsWhiteSpace(ch) || char.IsControl(ch) || IsPunctuation(ch))
            {
                if (current.Length > 0)
                {
                    yield return current.ToString();
                    current.Clear();
                }

                if (IsPunctuation(ch))
                {
                    yield return ch.ToString();
                }
            }
            else
            {
                current.Append(ch);
            }
        }

        if (current.Length > 0)
        {
            yield return current.ToString();
        }
    }

    private static bool IsPunctuation(char ch) =>
        ch is (>= '!' and <= '/') or (>= ':' and <= '@') or (>= '[' and <= '`') or (>= '{' and <= '~') || char.IsPunctuation(ch);

    private static string StripAccents(string text)
    {
        var decomposed = text.Normalize(NormalizationForm.FormD);
        var kept = new StringBuilder(decomposed.Length);
        foreach (var ch in decomposed)
        {
            if (CharUnicodeInfo.GetUnicodeCategory(ch) != UnicodeCategory.NonSpacingMark)
            {
                kept.Append(ch);
            }
        }

        return kept.ToString();
    }
}
