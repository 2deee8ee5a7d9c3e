using FluentAssertions;
using KnowledgeDistillation.Serialization;
using KnowledgeDistillation.Tests.Data;
using TorchSharp;
using Xunit;
using static KnowledgeDistillation.Tests.Serialization.SafeTensorsTestData;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Serialization;

/// <summary>
/// Reads the file written from PyTorch tensors by Fixtures/generate_safetensors_fixture.py and checks every
/// element, then loads its TinyTeacher state_dict into the TorchSharp twin and compares outputs with PyTorch's.
/// </summary>
public sealed class PyTorchFixtureTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Reads_every_dtype_and_shape_element_by_element()
    {
        using var expected = Expected();
        var tensors = expected.RootElement.GetProperty("tensors");
        using var file = SafeTensorsFile.Open(FixturePath);

        file.Tensors.Select(t => t.Name).Should().BeEquivalentTo(tensors.EnumerateObject().Select(p => p.Name));
        foreach (var entry in tensors.EnumerateObject())
        {
            using var tensor = file.ReadTensor(entry.Name);
            ShouldMatch(tensor, entry.Value, entry.Name);
        }

        file.GetInfo("shapes.scalar").Shape.Should().BeEmpty();
        file.GetInfo("shapes.scalar").ElementCount.Should().Be(1);
        file.GetInfo("shapes.empty").ByteLength.Should().Be(0);
        file.GetInfo("dtypes.bf16").ScalarType.Should().Be(ScalarType.BFloat16);
        file.GetInfo("dtypes.f16").DType.Should().Be(SafeTensorsDType.Float16);
    }

    [Fact]
    public void Reads_the_metadata()
    {
        using var expected = Expected();
        using var file = SafeTensorsFile.Open(FixturePath);

        file.Metadata.Should().BeEquivalentTo(
            expected.RootElement.GetProperty("metadata").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()));
        file.Metadata["format"].Should().Be("pt");
    }

    [Fact]
    public void Loaded_teacher_reproduces_the_pytorch_outputs()
    {
        using var expected = Expected();
        var model = expected.RootElement.GetProperty("model");
        var prefix = model.GetProperty("prefix").GetString()!;
        using var teacher = new TinyTeacher();

        var report = SafeTensors.LoadInto(teacher, FixturePath, n => n.StartsWith(prefix, StringComparison.Ordinal) ? n[prefix.Length..] : null);

        report.Loaded.Should().BeEquivalentTo(
            "conv.weight", "conv.bias", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var", "bn.num_batches_tracked", "fc.weight", "fc.bias");
        report.Skipped.Should().HaveCount(12).And.OnlyContain(n => n.StartsWith("dtypes.") || n.StartsWith("shapes."));
        report.Missing.Should().BeEmpty();
        report.Unexpected.Should().BeEmpty();
        report.Converted.Should().BeEmpty();

        var tensors = expected.RootElement.GetProperty("tensors");
        foreach (var (name, value) in teacher.state_dict())
        {
            ShouldMatch(value, tensors.GetProperty(prefix + name), name);
        }

        teacher.eval();
        var input = model.GetProperty("input");
        var output = model.GetProperty("output");
        using var x = tensor(Floats(input.GetProperty("values")), Shape(input.GetProperty("shape")));
        using (no_grad())
        {
            using var y = teacher.call(x);
            using var want = tensor(Floats(output.GetProperty("values")), Shape(output.GetProperty("shape")));
            y.shape.Should().Equal(want.shape);
            using var diff = (y - want).abs().max();
            diff.item<float>().Should().BeLessThan(1e-5f);
        }
    }

    [Fact]
    public void Rewriting_the_fixture_from_csharp_gives_the_same_bytes()
    {
        // The generator lays files out as the reference implementation does; so does SafeTensorsWriter.
        var path = _dir.File("rewritten.safetensors");
        using (var file = SafeTensorsFile.Open(FixturePath))
        {
            var all = file.ReadAll();
            try
            {
                SafeTensorsWriter.Write(path, all, file.Metadata);
            }
            finally
            {
                foreach (var t in all.Values)
                {
                    t.Dispose();
                }
            }
        }

        File.ReadAllBytes(path).Should().Equal(File.ReadAllBytes(FixturePath));
    }
}
