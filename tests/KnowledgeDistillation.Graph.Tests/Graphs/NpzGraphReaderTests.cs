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

    [Fact]
    public void Flipped_data_in_a_stored_entry_fails_its_crc_check()
    {
        var path = Path.Combine(dir, "g.npz");
        NpzWriter.Write(path, NpzGraphs(), compress: false);
        var bytes = File.ReadAllBytes(path);
        var at = bytes.AsSpan().IndexOf(BitConverter.GetBytes(3f).Concat(BitConverter.GetBytes(4f)).ToArray()); // attr_data 3, 4
        at.Should().BePositive();
        bytes[at + 1] ^= 0x40; // 3 -> another finite float: only the CRC-32 can tell
        File.WriteAllBytes(path, bytes);

        var act = () => NpzGraphReader.Read(path);
        act.Should().Throw<InvalidDataException>()
            .WithMessage($"Graph file '{path}' is malformed: zip entry 'attr_data.npy' has CRC-32 0x*, but its header declares 0x*");
    }

    [Theory]
    [InlineData("attr_data", float.NaN, "NaN", "entry 1 (row 0, column 2)")]
    [InlineData("attr_data", float.PositiveInfinity, "Infinity", "entry 1 (row 0, column 2)")]
    [InlineData("adj_data", float.NegativeInfinity, "-Infinity", "entry 1 (row 1, column 2)")]
    public void Non_finite_values_are_rejected_by_default_with_the_array_and_entry_named(string array, float value, string shown, string where)
    {
        var arrays = NpzGraphs();
        arrays[array] = array == "attr_data" ? NpzWriter.Floats(1, value, 3, 4) : NpzWriter.Floats(1, value, 1);
        var path = Path.Combine(dir, "g.npz");
        NpzWriter.Write(path, arrays);

        var act = () => NpzGraphReader.Read(path);
        act.Should().Throw<InvalidDataException>().WithMessage($"Graph file '{path}' is malformed: '{array}' holds {shown} at {where}; expected finite*");
        var lenient = NpzGraphReader.Read(path, new NpzGraphReaderOptions { RejectNonFiniteValues = false });
        (array == "attr_data" ? lenient.Features : lenient.Adjacency).Values[1].Should().Be(value);
    }

    [Fact]
    public void A_float64_value_beyond_float32_is_rejected_as_non_finite()
    {
        var arrays = NpzGraphs();
        arrays["attr_data"] = ("<f8", new long[] { 4 }, new[] { 1d, 1e300, 3, 4 }.SelectMany(BitConverter.GetBytes).ToArray());
        var path = Path.Combine(dir, "g.npz");
        NpzWriter.Write(path, arrays);

        var act = () => NpzGraphReader.Read(path);
        act.Should().Throw<InvalidDataException>().WithMessage("*'attr_data' holds Infinity at entry 1*");
    }

    [Theory]
    [InlineData(2147483648L)]
    [InlineData(long.MaxValue)]
    public void A_feature_count_beyond_what_an_array_can_hold_is_rejected(long columns)
    {
        var arrays = NpzGraphs();
        arrays["attr_shape"] = NpzWriter.Int64s(4, columns);
        var path = Path.Combine(dir, "g.npz");
        NpzWriter.Write(path, arrays);

        var act = () => NpzGraphReader.Read(path);
        act.Should().Throw<InvalidDataException>()
            .WithMessage($"Graph file '{path}' is malformed: 'attr_shape' is {Guard.FormatShape([4, columns])}; expected two sizes in [0, {Array.MaxLength}]*");
    }

    [Fact]
    public void A_duplicated_entry_name_is_rejected()
    {
        var path = Path.Combine(dir, "g.npz");
        using (var file = File.Create(path))
        using (var zip = new System.IO.Compression.ZipArchive(file, System.IO.Compression.ZipArchiveMode.Create))
        {
            foreach (var (name, (descr, shape, data)) in NpzGraphs().Append(new("labels", NpzWriter.Int8s(1, 1, 0, 0))))
            {
                using var s = zip.CreateEntry(name + ".npy").Open();
                s.Write(NpzWriter.Npy(descr, shape, data));
            }
        }

        var act = () => NpzGraphReader.Read(path);
        act.Should().Throw<InvalidDataException>()
            .WithMessage($"Graph file '{path}' is malformed: it holds two zip entries named 'labels.npy'; expected each array once.");
    }

    [Theory]
    [InlineData("(1e3,)", "1e3")]
    [InlineData("(-4,)", "-4")]
    [InlineData("(99999999999999999999,)", "99999999999999999999")]
    [InlineData("(4.0,)", "4.0")]
    public void A_shape_that_is_not_non_negative_integers_is_rejected(string shape, string bad)
    {
        var arrays = NpzGraphs();
        var path = Path.Combine(dir, "g.npz");
        NpzWriter.Write(path, arrays);
        var good = NpzWriter.Npy("|i1", [4], [0, 0, 1, 1]);
        // Same header length: the longer shape text takes the place of padding spaces.
        var text = System.Text.Encoding.Latin1.GetString(good);
        var mutated = System.Text.Encoding.Latin1.GetBytes(text.Replace("(4,), }" + new string(' ', shape.Length - 4), shape + ", }"));
        mutated.Length.Should().Be(good.Length);
        using (var zip = System.IO.Compression.ZipFile.Open(path, System.IO.Compression.ZipArchiveMode.Update))
        {
            zip.GetEntry("labels.npy")!.Delete();
            using var s = zip.CreateEntry("labels.npy").Open();
            s.Write(mutated);
        }

        var act = () => NpzGraphReader.Read(path);
        act.Should().Throw<InvalidDataException>()
            .WithMessage($"Graph file '{path}' is malformed: Array 'labels' has shape {shape} in its header; expected non-negative integers*found '{bad}'.");
    }

    [Fact]
    public void A_shape_whose_element_count_overflows_is_rejected_before_allocating()
    {
        var arrays = NpzGraphs();
        arrays["labels"] = ("|i1", new long[] { 1L << 32, 1L << 32, 16 }, new byte[] { 0, 0, 1, 1 });
        var path = Path.Combine(dir, "g.npz");
        NpzWriter.Write(path, arrays);

        var act = () => NpzGraphReader.Read(path);
        act.Should().Throw<InvalidDataException>().WithMessage("*Array 'labels' is truncated: shape [4294967296, 4294967296, 16] of '|i1' needs more than the 4 data bytes*");
    }

    private static Dictionary<string, (string, long[], byte[])> NpzGraphs() => NpzWriter.PathGraph();
}
