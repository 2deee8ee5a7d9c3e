using FluentAssertions;
using KnowledgeDistillation.Caching;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Caching;

public sealed class SampleStoreTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("kd-store-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    public static IEnumerable<object[]> Kinds() => new[] { new object[] { "memory" }, new object[] { "disk" } };

    private ISampleStore Create(string kind, long count = 10, string tag = "t") =>
        kind == "memory" ? new MemorySampleStore(count) : new DiskSampleStore(Path.Combine(_directory, "s.store"), count, tag);

    private static readonly SampleField[] Fields =
    {
        new("logits", new long[] { 3 }),
        new("map", new long[] { 2, 2 }, ScalarType.Float64),
    };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Rows_written_per_sample_index_are_read_back_for_those_samples(string kind)
    {
        using var scope = NewDisposeScope();
        using var store = Create(kind);
        store.Fields.Should().BeNull();
        store.Initialize(Fields);
        var logits = tensor(new float[] { 1, 2, 3, 4, 5, 6 }, new long[] { 2, 3 });
        var maps = tensor(new[] { 0.1, 0.2, 0.3, 0.4, 1e-300, 2, 3, 4 }, new long[] { 2, 2, 2 });
        store.Write(tensor(new long[] { 7, 2 }), new[] { logits, maps });
        store.FilledCount.Should().Be(2);
        store.Contains(tensor(new long[] { 2, 3, 7 })).data<bool>().ToArray().Should().Equal(true, false, true);

        var read = store.Read(tensor(new long[] { 2, 7, 5 }), CPU);
        read[0].dtype.Should().Be(ScalarType.Float32);
        read[1].dtype.Should().Be(ScalarType.Float64, "float64 fields keep full precision");
        read[0].data<float>().ToArray().Should().Equal(4, 5, 6, 1, 2, 3, 0, 0, 0);
        read[1].data<double>().ToArray().Should().Equal(1e-300, 2, 3, 4, 0.1, 0.2, 0.3, 0.4, 0, 0, 0, 0);

        // Overwriting a sample replaces its rows and does not count it twice.
        store.Write(tensor(new long[] { 2 }), new[] { tensor(new float[] { 9, 9, 9 }, new long[] { 1, 3 }), zeros(1, 2, 2, ScalarType.Float64) });
        store.FilledCount.Should().Be(2);
        store.Read(tensor(new long[] { 2 }), CPU)[0].data<float>().ToArray().Should().Equal(9, 9, 9);
    }

    [Fact]
    public void A_disk_store_is_reopened_with_its_contents_and_refused_for_another_tag_or_count()
    {
        using var scope = NewDisposeScope();
        var path = Path.Combine(_directory, "r.store");
        using (var store = new DiskSampleStore(path, 4, "model-a"))
        {
            store.Initialize(Fields);
            store.Write(tensor(new long[] { 3 }), new[] { ones(1, 3), full(1, 2, 2, 0.5, ScalarType.Float64) });
        }

        using (var reopened = new DiskSampleStore(path, 4, "model-a"))
        {
            reopened.Fields!.Select(f => f.ToString()).Should().Equal(Fields.Select(f => f.ToString()));
            reopened.FilledCount.Should().Be(1);
            reopened.Read(tensor(new long[] { 3 }), CPU)[1].data<double>().ToArray().Should().AllSatisfy(v => v.Should().Be(0.5));
            FluentActions.Invoking(() => reopened.Initialize(new[] { new SampleField("logits", new long[] { 4 }) }))
                .Should().Throw<InvalidOperationException>().WithMessage("*holds*logits [3]*");
        }

        FluentActions.Invoking(() => new DiskSampleStore(path, 4, "model-b", "made by another model")).Should().Throw<InvalidOperationException>().WithMessage("*made by another model*");
        FluentActions.Invoking(() => new DiskSampleStore(path, 5, "model-a")).Should().Throw<InvalidOperationException>().WithMessage("*made for 4 samples*5*");
        var junk = Path.Combine(_directory, "junk.store");
        File.WriteAllText(junk, "not a store");
        FluentActions.Invoking(() => new DiskSampleStore(junk, 4)).Should().Throw<InvalidDataException>();
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Bad_arguments_are_rejected_before_native_code(string kind)
    {
        using var scope = NewDisposeScope();
        using var store = Create(kind, count: 4);
        var write = () => store.Write(tensor(new long[] { 0 }), new[] { zeros(1, 3) });
        write.Should().Throw<InvalidOperationException>().WithMessage("*Initialize*");
        store.Initialize(Fields);
        FluentActions.Invoking(() => store.Read(tensor(new long[] { 1, 4 }), CPU)).Should().Throw<ArgumentException>().WithMessage("*index 4*0..3*");
        FluentActions.Invoking(() => store.Contains(tensor(new long[] { -1 }))).Should().Throw<ArgumentException>().WithMessage("*index -1*");
        FluentActions.Invoking(() => store.Contains(tensor(new[] { 1 }))).Should().Throw<ArgumentException>().WithMessage("*int64*");
        FluentActions.Invoking(() => store.Write(tensor(new long[] { 0 }), new[] { zeros(1, 4), zeros(1, 2, 2) })).Should().Throw<ArgumentException>().WithMessage("*'logits'*[1, 3]*");
        FluentActions.Invoking(() => store.Write(tensor(new long[] { 0 }), new[] { zeros(1, 3) })).Should().Throw<ArgumentException>().WithMessage("*2 row tensor(s)*");
        FluentActions.Invoking(() => store.Initialize(new[] { new SampleField("other", new long[] { 1 }) })).Should().Throw<InvalidOperationException>();
    }

    [Fact]
    public void Fields_and_counts_are_validated()
    {
        FluentActions.Invoking(() => new MemorySampleStore(0)).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "sampleCount");
        FluentActions.Invoking(() => new DiskSampleStore(Path.Combine(_directory, "x"), -3)).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "sampleCount");
        FluentActions.Invoking(() => new DiskSampleStore(" ", 3)).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => new SampleField("", new long[] { 1 })).Should().Throw<ArgumentException>().Where(e => e.ParamName == "name");
        FluentActions.Invoking(() => new SampleField("a", new long[] { 0 })).Should().Throw<ArgumentException>().Where(e => e.ParamName == "rowShape");
        FluentActions.Invoking(() => new SampleField("a", new long[] { 1 }, ScalarType.Int32)).Should().Throw<ArgumentException>().Where(e => e.ParamName == "elementType");
        using var store = new MemorySampleStore(3);
        FluentActions.Invoking(() => store.Initialize(new[] { new SampleField("a", new long[] { 1 }), new SampleField("a", new long[] { 2 }) }))
            .Should().Throw<ArgumentException>().WithMessage("*unique*");
        FluentActions.Invoking(() => store.Initialize(Array.Empty<SampleField>())).Should().Throw<ArgumentException>();
    }
}
