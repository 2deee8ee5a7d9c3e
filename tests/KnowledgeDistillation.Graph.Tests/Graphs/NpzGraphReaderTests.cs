using FluentAssertions;
using KnowledgeDistillation.Graph.Graphs;
using KnowledgeDistillation.Graph.Tests.Support;
using Xunit;

namespace KnowledgeDistillation.Graph.Tests.Graphs;

public sealed class NpzGraphReaderTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("kd-npz-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Reads_csr_adjacency_features_labels_and_names(bool compressed)
    {
        var path = Path.Combine(dir, "g.npz");
        NpzWriter.Write(path, NpzWriter.PathGraph(), compressed);

        var graph = NpzGraphReader.Read(path);

        graph.NodeCount.Should().Be(4);
        graph.FeatureCount.Should().Be(3);
        graph.ClassCount.Should().Be(2);
        graph.Labels.Should().Equal(0, 0, 1, 1);
        graph.NodeNames.Should().Equal("a", "bb", "ccc", "dddd");
        graph.ClassNames.Should().Equal("Theory", "Neural_Ne");
        graph.Adjacency.Entries().Select(e => (e.Row, e.Column)).Should().Equal((0L, 1L), (1L, 2L), (2L, 3L));
        graph.Features.ToDense().Should().Equal(1, 0, 2, 0, 3, 0, 0, 0, 0, 4, 0, 0);
        using var x = graph.FeatureTensor();
        x.shape.Should().Equal(4, 3);
    }

    [Fact]
    public void Standardize_makes_the_graph_undirected_unweighted_and_keeps_the_largest_component()
    {
        var arrays = NpzWriter.PathGraph();
        // Node 3 loses its only edge (2 -> 3) and gains a self loop: the largest component is {0, 1, 2}.
        arrays["adj_indices"] = NpzWriter.Int32s(1, 2, 3);
        arrays["adj_indptr"] = NpzWriter.Int32s(0, 1, 2, 2, 3);
        var path = Path.Combine(dir, "g.npz");
        NpzWriter.Write(path, arrays);

        var graph = NpzGraphReader.Read(path).Standardize();

        graph.NodeCount.Should().Be(3);
        graph.Labels.Should().Equal(0, 0, 1);
        graph.NodeNames.Should().Equal("a", "bb", "ccc");
        graph.Adjacency.Entries().Select(e => (e.Row, e.Column, e.Value))
            .Should().Equal((0L, 1L, 1f), (1L, 0L, 1f), (1L, 2L, 1f), (2L, 1L, 1f));
    }

    [Fact]
    public void Missing_file_names_the_path()
    {
        var act = () => NpzGraphReader.Read(Path.Combine(dir, "nope.npz"));
        act.Should().Throw<FileNotFoundException>().WithMessage("*nope.npz*");
    }

    [Fact]
    public void Missing_array_is_named()
    {
        var arrays = NpzWriter.PathGraph();
        arrays.Remove("labels");
        var path = Path.Combine(dir, "g.npz");
        NpzWriter.Write(path, arrays);

        var act = () => NpzGraphReader.Read(path);
        act.Should().Throw<InvalidDataException>().WithMessage("*'labels'*");
    }

    [Fact]
    public void Inconsistent_csr_is_reported()
    {
        var arrays = NpzWriter.PathGraph();
        arrays["adj_indices"] = NpzWriter.Int32s(1, 2, 7);
        var path = Path.Combine(dir, "g.npz");
        NpzWriter.Write(path, arrays);

        var act = () => NpzGraphReader.Read(path);
        act.Should().Throw<InvalidDataException>().WithMessage("*columnIndices*[0, 4)*7*");
    }

    [Fact]
    public void Label_count_mismatch_is_reported()
    {
        var arrays = NpzWriter.PathGraph();
        arrays["labels"] = NpzWriter.Int8s(0, 1);
        var path = Path.Combine(dir, "g.npz");
        NpzWriter.Write(path, arrays);

        var act = () => NpzGraphReader.Read(path);
        act.Should().Throw<InvalidDataException>().WithMessage("*2 labels*4 nodes*");
    }

    [Fact]
    public void Truncated_array_and_non_zip_files_are_reported()
    {
        var arrays = NpzWriter.PathGraph();
        var (descr, _, data) = arrays["attr_data"];
        arrays["attr_data"] = (descr, new long[] { 4 }, data.Take(6).ToArray());
        var path = Path.Combine(dir, "g.npz");
        NpzWriter.Write(path, arrays);
        var truncated = () => NpzGraphReader.Read(path);
        truncated.Should().Throw<InvalidDataException>().WithMessage("*attr_data*truncated*");

        var text = Path.Combine(dir, "text.npz");
        File.WriteAllText(text, "not a zip");
        var notZip = () => NpzGraphReader.Read(text);
        notZip.Should().Throw<InvalidDataException>().WithMessage("*text.npz*");
    }

    [Fact]
    public void Object_arrays_are_refused_with_a_reason()
    {
        var arrays = NpzWriter.PathGraph();
        arrays["labels"] = ("|O", new long[] { 4 }, new byte[32]);
        var path = Path.Combine(dir, "g.npz");
        NpzWriter.Write(path, arrays);

        var act = () => NpzGraphReader.Read(path);
        act.Should().Throw<InvalidDataException>().WithMessage("*labels*pickle*");
    }
}
