using FluentAssertions;
using KnowledgeDistillation.Graph.KnowledgeGraphs;
using KnowledgeDistillation.Graph.KnowledgeGraphs.Multilingual;
using Xunit;

namespace KnowledgeDistillation.Graph.Tests.KnowledgeGraphs.Multilingual;

/// <summary>The DBP-5L reader on tiny directories written by the test, and the checks of <see cref="MultilingualKnowledgeGraph"/>.</summary>
public sealed class MultilingualDataTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "kens-" + Guid.NewGuid().ToString("N"));

    public MultilingualDataTests()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "kg"));
        Directory.CreateDirectory(Path.Combine(_dir, "entity"));
        Directory.CreateDirectory(Path.Combine(_dir, "seed_alignlinks"));
        Write("relations.txt", "http://dbpedia.org/ontology/a\nhttp://dbpedia.org/ontology/b\n");
        foreach (var (lang, n) in new[] { ("el", 4), ("en", 5), ("ja", 3) })
        {
            Write($"entity/{lang}.tsv", string.Join("\n", Enumerable.Range(0, n).Select(i => $"http://{lang}.dbpedia.org/resource/E{i}")) + "\n");
            Write($"kg/{lang}-train.tsv", "0\t0\t1\n1\t1\t2\n2\t0\t0\n");
            Write($"kg/{lang}-val.tsv", "0\t1\t2\n");
            Write($"kg/{lang}-test.tsv", "1\t0\t0\n");
        }
        Write("seed_alignlinks/el-en.tsv", "0.0\t0.0\n1.0\t2.0\n3\t4\n");
        Write("seed_alignlinks/ja-en.tsv", "2.0\t1.0\n");
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private void Write(string name, string text) => File.WriteAllText(Path.Combine(_dir, name), text);

    [Fact]
    public void Loads_the_layout_with_both_orientations_of_every_alignment()
    {
        var g = Dbp5lReader.Load(_dir);
        g.Languages.Should().Equal("el", "en", "ja");
        g.RelationCount.Should().Be(2);
        g["en"].EntityCount.Should().Be(5);
        g["el"].Train.Should().HaveCount(3);
        g.Pairs.Should().Equal(("el", "en"), ("en", "ja"));
        g.Alignment("el", "en").Pairs.Should().Equal((0, 0), (1, 2), (3, 4));
        g.Alignment("en", "el").TryMapForward(2, out var el).Should().BeTrue();
        el.Should().Be(1);
        g.Alignment("en", "ja").Pairs.Should().Equal((1, 2));
        g.HasAlignment("el", "ja").Should().BeFalse();
    }

    [Fact]
    public void An_alignment_naming_an_unknown_entity_names_the_file_and_line()
    {
        Write("seed_alignlinks/el-en.tsv", "0\t0\n1\t7\n");
        var act = () => Dbp5lReader.Load(_dir);
        act.Should().Throw<InvalidDataException>().WithMessage($"*el-en.tsv, line 2: unknown en entity 7; ids must be in [0, 4]*");
    }

    [Fact]
    public void A_malformed_alignment_line_names_the_file_and_line()
    {
        Write("seed_alignlinks/ja-en.tsv", "2\t1\n0.5\t3\n");
        var act = () => Dbp5lReader.Load(_dir);
        act.Should().Throw<InvalidDataException>().WithMessage("*ja-en.tsv, line 2: ja entity id '0.5' is not an integer*");
    }

    [Fact]
    public void An_entity_aligned_twice_names_the_file_and_line()
    {
        Write("seed_alignlinks/el-en.tsv", "0\t0\n0\t3\n");
        var act = () => Dbp5lReader.Load(_dir);
        act.Should().Throw<InvalidDataException>().WithMessage("*el-en.tsv, line 2: el entity 0 is already aligned*");
    }

    [Fact]
    public void A_language_with_no_alignment_is_named()
    {
        File.Delete(Path.Combine(_dir, "seed_alignlinks/ja-en.tsv"));
        var act = () => Dbp5lReader.Load(_dir);
        act.Should().Throw<InvalidDataException>().WithMessage("*Language 'ja' has no entity alignment*seed_alignlinks*ja-*.tsv*");
    }

    [Fact]
    public void A_relation_outside_the_shared_list_names_the_file_and_line()
    {
        Write("kg/ja-train.tsv", "0\t0\t1\n1\t2\t2\n");
        var act = () => Dbp5lReader.Load(_dir);
        act.Should().Throw<InvalidDataException>().WithMessage("*ja-train.tsv, line 2: unknown relation 2; ids must be in [0, 1] (relations.txt is the shared relation list*");
    }

    [Fact]
    public void Mismatched_relation_lists_are_rejected_with_the_languages_named()
    {
        var a = new KnowledgeGraph(3, 2, new[] { new Triple(0, 0, 1) });
        var b = new KnowledgeGraph(3, 3, new[] { new Triple(0, 2, 1) });
        var act = () => new MultilingualKnowledgeGraph(new Dictionary<string, KnowledgeGraph> { ["a"] = a, ["b"] = b }, new[] { new EntityAlignment("a", "b", new[] { (0, 0) }) });
        act.Should().Throw<ArgumentException>().WithMessage("Mismatched relation lists: 'a' has 2 relations, 'b' has 3*");
        var relA = new Vocabulary();
        relA.GetOrAdd("born_in");
        var relB = new Vocabulary();
        relB.GetOrAdd("capital_of");
        var c = new KnowledgeGraph(3, 1, new[] { new Triple(0, 0, 1) }, relations: relA);
        var d = new KnowledgeGraph(3, 1, new[] { new Triple(0, 0, 1) }, relations: relB);
        act = () => new MultilingualKnowledgeGraph(new Dictionary<string, KnowledgeGraph> { ["c"] = c, ["d"] = d }, new[] { new EntityAlignment("c", "d", new[] { (0, 0) }) });
        act.Should().Throw<ArgumentException>().WithMessage("Mismatched relation lists: relation 0 is 'born_in' in 'c' but 'capital_of' in 'd'*");
    }

    [Fact]
    public void Alignments_outside_the_graphs_or_to_unknown_languages_are_rejected()
    {
        var a = new KnowledgeGraph(3, 1, new[] { new Triple(0, 0, 1) });
        var graphs = new Dictionary<string, KnowledgeGraph> { ["a"] = a, ["b"] = a };
        var act = () => new MultilingualKnowledgeGraph(graphs, new[] { new EntityAlignment("a", "b", new[] { (0, 3) }) });
        act.Should().Throw<ArgumentException>().WithMessage("*pair (0, 3)*'b' [0, 2]*");
        act = () => new MultilingualKnowledgeGraph(graphs, new[] { new EntityAlignment("a", "x", new[] { (0, 0) }) });
        act.Should().Throw<ArgumentException>().WithMessage("Unknown language 'x'*");
        act = () => new MultilingualKnowledgeGraph(graphs, Array.Empty<EntityAlignment>());
        act.Should().Throw<ArgumentException>().WithMessage("Language 'a' has no entity alignment*");
    }

    [Fact]
    public void Alignment_state_round_trips_and_rejects_foreign_state()
    {
        var g = Dbp5lReader.Load(_dir);
        var state = new AlignmentState(g);
        state.Extend(0, new[] { (2, 1), (0, 3) }).Should().Be(1, "el 0 is aligned already");
        var exported = state.Export();
        var other = new AlignmentState(g);
        other.Import(exported);
        other[0].Pairs.Should().Equal(state[0].Pairs);
        other.Between("en", "el")!.TryMapForward(1, out var el).Should().BeTrue();
        el.Should().Be(2);
        var bad = new Dictionary<string, TorchSharp.torch.Tensor>(exported) { ["el-en"] = TorchSharp.torch.tensor(new long[] { 9, 9 }, new long[] { 1, 2 }) };
        var act = () => other.Import(bad);
        act.Should().Throw<InvalidDataException>().WithMessage("*'el-en' row 0 (9, 9)*");
    }
}
