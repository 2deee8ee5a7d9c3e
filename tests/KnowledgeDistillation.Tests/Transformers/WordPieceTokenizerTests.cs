using Xunit;
using FluentAssertions;
using KnowledgeDistillation.Transformers.Text;

namespace KnowledgeDistillation.Tests.Transformers;

public sealed class WordPieceTokenizerTests
{
    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var c in BertFixtures.Data.Tokenizer.Cases)
        {
            data.Add(c.Vocabulary, c.Text);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Tokens_match_the_reference_BERT_tokenizer(string vocabulary, string text)
    {
        var fixture = BertFixtures.Data.Tokenizer;
        var expected = fixture.Cases.Single(c => c.Vocabulary == vocabulary && c.Text == text);
        var tokenizer = Tokenizer(vocabulary == "uncased" ? fixture.Uncased : fixture.Cased, lowerCase: vocabulary == "uncased");
        tokenizer.Tokenize(text).Should().Equal(expected.Tokens, "'{0}' with the {1} vocabulary", text, vocabulary);
        tokenizer.Ids(text).Should().Equal(expected.Ids);
    }

    [Fact]
    public void Encode_adds_cls_and_sep_and_truncates_the_pieces()
    {
        var tokenizer = Tokenizer(BertFixtures.Data.Tokenizer.Uncased, lowerCase: true);
        tokenizer.Encode("good movie", 16).Should().Equal(2L, tokenizer.Ids("good")[0], tokenizer.Ids("movie")[0], 3L);
        tokenizer.Encode("good bad good bad", 4).Should().HaveCount(4).And.EndWith(3L);
        tokenizer.Encode(string.Empty, 4).Should().Equal(2L, 3L);
    }

    [Fact]
    public void A_vocabulary_built_from_text_covers_every_training_word()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("kd-vocab-").FullName, "vocab.txt");
        var texts = new[] { "A good movie!", "a bad movie", "Naïve, good." };
        var size = Vocabulary.Build(texts, path, maxSize: 100, minCount: 2);
        var lines = File.ReadAllLines(path);
        lines.Length.Should().Be(size);
        lines.Take(5).Should().Equal(Vocabulary.SpecialTokens);
        lines.Should().Contain(new[] { "good", "movie", "a" }).And.NotContain("bad", "bad occurs once");
        var tokenizer = WordPieceTokenizer.FromVocabulary(path);
        foreach (var text in texts)
        {
            tokenizer.Tokenize(text).Should().NotContain("[UNK]");
        }

        tokenizer.Tokenize("naive bad").Should().Equal("n", "##a", "##i", "##v", "##e", "b", "##a", "##d");
    }

    [Fact]
    public void A_vocabulary_without_special_tokens_is_rejected()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("kd-vocab-").FullName, "vocab.txt");
        File.WriteAllLines(path, new[] { "[PAD]", "a", "b" });
        ((Action)(() => WordPieceTokenizer.FromVocabulary(path))).Should().Throw<InvalidDataException>().WithMessage("*[UNK]*");
    }

    private static WordPieceTokenizer Tokenizer(string[] vocabulary, bool lowerCase)
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("kd-wordpiece-").FullName, "vocab.txt");
        File.WriteAllLines(path, vocabulary);
        return WordPieceTokenizer.FromVocabulary(path, lowerCase);
    }
}
