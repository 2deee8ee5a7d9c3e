using System.Globalization;
using System.Text;

namespace KnowledgeDistillation.Transformers.Text;

/// <summary>
/// BERT's basic tokenisation (Hugging Face <c>BasicTokenizer</c>): drop NUL, U+FFFD and control characters, map
/// whitespace to spaces, put spaces around CJK ideographs, split on whitespace, lower-case and strip accents (NFD, drop
/// non-spacing marks) when uncased, and split off every punctuation character (ASCII symbols included).
/// </summary>
/// <remarks>
/// Done here rather than by Microsoft.ML.Tokenizers 2.0.1's basic tokenisation, which was checked against the reference
/// and differs: it drops <c>$</c> and joins words separated by tabs or newlines (see docs/methods/internal-representations.md).
/// </remarks>
internal static class BasicTokenizer
{
    public static List<string> Split(string text, bool lowerCase)
    {
        var cleaned = new StringBuilder(text.Length + 8);
        foreach (var rune in text.EnumerateRunes())
        {
            var cp = rune.Value;
            if (cp == 0 || cp == 0xFFFD || IsControl(rune))
            {
                continue;
            }

            if (IsWhitespace(rune))
            {
                cleaned.Append(' ');
            }
            else if (IsCjk(cp))
            {
                cleaned.Append(' ').Append(rune.ToString()).Append(' ');
            }
            else
            {
                cleaned.Append(rune.ToString());
            }
        }

        var tokens = new List<string>();
        foreach (var word in cleaned.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var w = lowerCase ? StripAccents(word.ToLowerInvariant()) : word;
            var current = new StringBuilder();
            foreach (var rune in w.EnumerateRunes())
            {
                if (IsPunctuation(rune))
                {
                    if (current.Length > 0)
                    {
                        tokens.Add(current.ToString());
                        current.Clear();
                    }

                    tokens.Add(rune.ToString());
                }
                else
                {
                    current.Append(rune.ToString());
                }
            }

            if (current.Length > 0)
            {
                tokens.Add(current.ToString());
            }
        }

        return tokens;
    }

    private static bool IsWhitespace(Rune r) =>
        r.Value is ' ' or '\t' or '\n' or '\r' || Rune.GetUnicodeCategory(r) == UnicodeCategory.SpaceSeparator;

    private static bool IsControl(Rune r)
    {
        if (r.Value is '\t' or '\n' or '\r')
        {
            return false;
        }

        return Rune.GetUnicodeCategory(r) is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate
            or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned;
    }

    private static bool IsPunctuation(Rune r)
    {
        var cp = r.Value;
        if (cp is (>= 33 and <= 47) or (>= 58 and <= 64) or (>= 91 and <= 96) or (>= 123 and <= 126))
        {
            return true;
        }

        return Rune.GetUnicodeCategory(r) is UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation
            or UnicodeCategory.OpenPunctuation or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
            or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation;
    }

    private static bool IsCjk(int cp) =>
        cp is (>= 0x4E00 and <= 0x9FFF) or (>= 0x3400 and <= 0x4DBF) or (>= 0x20000 and <= 0x2A6DF) or (>= 0x2A700 and <= 0x2B73F)
            or (>= 0x2B740 and <= 0x2B81F) or (>= 0x2B820 and <= 0x2CEAF) or (>= 0xF900 and <= 0xFAFF) or (>= 0x2F800 and <= 0x2FA1F);

    private static string StripAccents(string text)
    {
        var decomposed = text.Normalize(NormalizationForm.FormD);
        var kept = new StringBuilder(decomposed.Length);
        foreach (var rune in decomposed.EnumerateRunes())
        {
            if (Rune.GetUnicodeCategory(rune) != UnicodeCategory.NonSpacingMark)
            {
                kept.Append(rune.ToString());
            }
        }

        return kept.ToString();
    }
}
