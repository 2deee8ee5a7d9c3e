using FluentAssertions;
using KnowledgeDistillation.Transformers.Data;
using KnowledgeDistillation.Transformers.Text;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Transformers;

public sealed class TextDataTests
{
    [Fact]
    public void A_TSV_with_a_header_is_read_by_column_name()
    {
        var path = Write("data.tsv", "label\tsentence\n1\ta good movie \n0\tbad\n");
        var data = TextClassificationData.Read(path);
        data.Texts.Should().Equal("a good movie ", "bad");
        data.Labels.Should().Equal(1, 0);
        data.LabelNames.Should().Equal("0", "1");
    }

    [Fact]
    public void A_CSV_without_a_header_reads_quoted_fields_and_named_labels()
    {
        var path = Write("data.csv", "\"fine, \"\"really\"\"\",pos\n\"two\nlines\",neg\nplain,pos\n");
        var data = TextClassificationData.Read(path, new TextTableOptions { Delimiter = ',', HasHeader = false, TextColumn = "0", LabelColumn = "1" });
        data.Texts.Should().Equal("fine, \"really\"", "two\nlines", "plain");
        data.LabelNames.Should().Equal("neg", "pos");
        data.Labels.Should().Equal(1, 0, 1);
    }

    [Fact]
    public void Bad_tables_fail_naming_the_line_or_column()
    {
        ((Action)(() => TextClassificationData.Read(Write("a.tsv", "text\tlabel\nx\t1\n")))).Should().Throw<InvalidDataException>().WithMessage("*no text column 'sentence'*text, label*");
        ((Action)(() => TextClassificationData.Read(Write("b.tsv", "sentence\tlabel\nx\t1\ny\n")))).Should().Throw<InvalidDataException>().WithMessage("*line 3*");
        ((Action)(() => TextClassificationData.Read(Write("c.tsv", "sentence\tlabel\nx\tmaybe\n"), new TextTableOptions { Labels = new[] { "no", "yes" } })))
            .Should().Throw<InvalidDataException>().WithMessage("*'maybe'*no, yes*");
    }

    [Fact]
    public void A_huge_integer_label_is_refused_before_allocating_its_classes()
    {
        // Fuzz finding (text-classification target): label 1500000000 made InferLabels allocate 1.5e9 class names (OutOfMemoryException).
        ((Action)(() => TextClassificationData.Read(Write("huge.tsv", "sentence\tlabel\nx\t0\ny\t1500000000\n"))))
            .Should().Throw<InvalidDataException>().WithMessage("*integer label 1500000000*below 65536*Labels*");
        ((Action)(() => TextClassificationData.Read(Write("max.tsv", "sentence\tlabel\nx\t2147483647\n"))))
            .Should().Throw<InvalidDataException>().WithMessage("*integer label 2147483647 would make 2147483648 classes*");
        var edge = TextClassificationData.Read(Write("edge.tsv", $"sentence\tlabel\nx\t{TextClassificationData.MaxInferredClasses - 1}\n"));
        edge.LabelNames.Should().HaveCount(TextClassificationData.MaxInferredClasses);
        edge.Labels.Should().Equal(TextClassificationData.MaxInferredClasses - 1);
    }

    [Fact]
    public void Batches_are_padded_to_their_longest_sentence_and_cover_every_sample_once()
    {
        var (source, data) = Source(bucketBatches: 0);
        var batches = source.GetBatches(0, CPU).ToList();
        batches.Should().HaveCount(source.BatchCount);
        var seen = new List<long>();
        foreach (var batch in batches)
        {
            var indices = batch.Indices.data<long>().ToArray();
            seen.AddRange(indices);
            var longest = indices.Max(i => source.Ids((int)i).Count);
            batch.Inputs.shape.Should().Equal(indices.Length, longest);
            for (var r = 0; r < indices.Length; r++)
            {
                var ids = source.Ids((int)indices[r]);
                batch.Inputs[r].data<long>().ToArray().Should().Equal(ids.Concat(Enumerable.Repeat(0L, longest - ids.Count)));
                batch.Targets![r].item<long>().Should().Be(data.Labels[(int)indices[r]]);
            }
        }

        seen.Should().BeEquivalentTo(Enumerable.Range(0, data.Count).Select(i => (long)i));
        source.BatchIndices(1).Should().NotBeEquivalentTo(source.BatchIndices(0), o => o.WithStrictOrdering(), "each epoch has its own order");
        source.BatchIndices(1).Should().BeEquivalentTo(source.BatchIndices(1), o => o.WithStrictOrdering(), "the order is a function of (seed, epoch)");
    }

    [Fact]
    public void Length_buckets_reduce_padding_and_keep_every_sample()
    {
        var (plain, data) = Source(bucketBatches: 0);
        var (bucketed, _) = Source(bucketBatches: 4);
        long Padded(TextBatchSource s) => s.BatchIndices(0).Sum(b => (long)b.Length * b.Max(i => s.Ids((int)i).Count));
        Padded(bucketed).Should().BeLessThan(Padded(plain));
        bucketed.BatchIndices(0).SelectMany(b => b).Should().BeEquivalentTo(Enumerable.Range(0, data.Count).Select(i => (long)i));
    }

    private static (TextBatchSource Source, TextClassificationData Data) Source(int bucketBatches)
    {
        var words = new[] { "good", "bad", "movie", "plot", "fine", "dull" };
        var texts = Enumerable.Range(0, 64).Select(i => string.Join(' ', Enumerable.Range(0, 1 + (i * 7 % 13)).Select(j => words[(i + j) % words.Length]))).ToArray();
        var data = new TextClassificationData(texts, texts.Select(t => t.StartsWith("good", StringComparison.Ordinal) ? 1 : 0).ToArray(), new[] { "0", "1" });
        var vocab = Write("vocab.txt", string.Empty);
        Vocabulary.Build(texts, vocab, minCount: 1);
        return (new TextBatchSource(data, WordPieceTokenizer.FromVocabulary(vocab), maxLength: 10, batchSize: 8, seed: 3, bucketBatches: bucketBatches), data);
    }

    private static string Write(string name, string content)
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("kd-text-").FullName, name);
        File.WriteAllText(path, content);
        return path;
    }
}
