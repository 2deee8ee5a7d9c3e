using FluentAssertions;
using KnowledgeDistillation.Graph.KnowledgeGraphs;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Tests.KnowledgeGraphs;

public sealed class KnowledgeGraphDataTests
{
    [Fact]
    public void Load_numbers_entities_in_first_seen_order_and_reads_all_splits()
    {
        var dir = Directory.CreateTempSubdirectory("kg").FullName;
        File.WriteAllLines(Path.Combine(dir, "train.txt"), new[] { "a\tlikes\tb", "b\tlikes\tc", "", "c\thates\ta" });
        File.WriteAllLines(Path.Combine(dir, "valid.txt"), new[] { "a\thates\tc" });
        File.WriteAllLines(Path.Combine(dir, "test.txt"), new[] { "b\tlikes\ta\r" });

        var graph = KnowledgeGraph.Load(dir);

        graph.EntityCount.Should().Be(3);
        graph.RelationCount.Should().Be(2);
        graph.Entities.Names.Should().Equal("a", "b", "c");
        graph.Train.Should().Equal(new Triple(0, 0, 1), new Triple(1, 0, 2), new Triple(2, 1, 0));
        graph.Valid.Should().Equal(new Triple(0, 1, 2));
        graph.Test.Should().Equal(new Triple(1, 0, 0));
        using var t = KnowledgeGraph.ToTensor(graph.Train);
        t.shape.Should().Equal(3, 3);
        t[2, 1].item<long>().Should().Be(1);
    }

    [Fact]
    public void Malformed_lines_and_unknown_names_fail_with_file_and_line()
    {
        var entities = new Vocabulary();
        var relations = new Vocabulary();
        var twoFields = () => TripleFileReader.Parse(new[] { "a\tr\tb", "a\tb" }, "train.txt", entities, relations, addUnknown: true);
        twoFields.Should().Throw<InvalidDataException>().WithMessage("train.txt, line 2*3 non-empty tab-separated fields*got 2*");
        var emptyField = () => TripleFileReader.Parse(new[] { "a\t\tb" }, "train.txt", entities, relations, addUnknown: true);
        emptyField.Should().Throw<InvalidDataException>().WithMessage("*line 1*");

        TripleFileReader.Parse(new[] { "a\tr\tb" }, "train.txt", entities, relations, addUnknown: true);
        var unknownEntity = () => TripleFileReader.Parse(new[] { "a\tr\tb", "a\tr\tzzz" }, "test.txt", entities, relations, addUnknown: false);
        unknownEntity.Should().Throw<InvalidDataException>().WithMessage("test.txt, line 2: unknown entity 'zzz'*");
        var unseenEntity = TripleFileReader.Parse(new[] { "zzz\tr\ta" }, "test.txt", entities, relations, addUnknown: false, addUnknownEntities: true);
        unseenEntity.Should().Equal(new Triple(2, 0, 0));
        var unknownRelation = () => TripleFileReader.Parse(new[] { "a\tq\tb" }, "valid.txt", entities, relations, addUnknown: false, addUnknownEntities: true);
        unknownRelation.Should().Throw<InvalidDataException>().WithMessage("valid.txt, line 1: unknown relation 'q'*");
    }

    [Fact]
    public void Missing_directory_or_file_and_out_of_range_ids_are_reported()
    {
        var missing = () => KnowledgeGraph.Load("/nonexistent/kg");
        missing.Should().Throw<DirectoryNotFoundException>().WithMessage("*train.txt*");
        var dir = Directory.CreateTempSubdirectory("kg").FullName;
        File.WriteAllLines(Path.Combine(dir, "train.txt"), new[] { "a\tr\tb" });
        var noValid = () => KnowledgeGraph.Load(dir);
        noValid.Should().Throw<FileNotFoundException>().WithMessage("*valid.txt*");
        File.WriteAllLines(Path.Combine(dir, "valid.txt"), new[] { "a\tr\tnew" });
        File.WriteAllLines(Path.Combine(dir, "test.txt"), new[] { "b\tr\ta" });
        KnowledgeGraph.Load(dir).EntityCount.Should().Be(3, "entities first seen in valid/test get ids by default");
        var strict = () => KnowledgeGraph.Load(dir, allowUnseenEntities: false);
        strict.Should().Throw<InvalidDataException>().WithMessage("*valid.txt, line 1: unknown entity 'new'*");
        var outOfRange = () => new KnowledgeGraph(2, 1, new[] { new Triple(0, 0, 2) });
        outOfRange.Should().Throw<ArgumentException>().WithMessage("*entities must be in [0, 1]*");
    }

    private static long[] Longs(Tensor t) => t.data<long>().ToArray();

    [Fact]
    public void Batch_source_yields_triples_negatives_and_alternating_sides_reproducibly()
    {
        var graph = KgTestData.Ring(10);
        var source = new TripleBatchSource(graph.Train, graph.EntityCount, batchSize: 7, negatives: 5, seed: 3);

        source.BatchCount.Should().Be(3);
        using var scope = NewDisposeScope();
        var batches = source.GetBatches(0, CPU).ToList();
        var again = source.GetBatches(0, CPU).ToList();
        var other = source.GetBatches(1, CPU).ToList();

        batches.Select(b => b.Size).Should().Equal(7, 7, 3);
        batches[0].Extras[TripleBatchSource.NegativesKey].shape.Should().Equal(7, 5);
        batches.Select(b => b.Extras[TripleBatchSource.CorruptHeadKey].item<long>()).Should().Equal(0, 1, 0);
        batches.SelectMany(b => b.Indices.data<long>().ToArray()).Order().Should().Equal(Enumerable.Range(0, graph.Train.Count).Select(i => (long)i));
        var neg = batches[0].Extras[TripleBatchSource.NegativesKey];
        (neg.min().item<long>() >= 0 && neg.max().item<long>() < 10).Should().BeTrue();
        Longs(batches[0].Inputs).Should().Equal(Longs(again[0].Inputs));
        Longs(neg).Should().Equal(Longs(again[0].Extras[TripleBatchSource.NegativesKey]));
        Longs(batches[0].Inputs).Should().NotEqual(Longs(other[0].Inputs), "each epoch has its own order");
        var row = batches[0].Inputs[0].data<long>().ToArray();
        graph.Train[(int)batches[0].Indices[0].item<long>()].Should().Be(new Triple((int)row[0], (int)row[1], (int)row[2]));
    }
}
