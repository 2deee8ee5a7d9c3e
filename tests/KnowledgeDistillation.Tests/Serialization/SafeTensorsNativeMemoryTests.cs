using FluentAssertions;
using KnowledgeDistillation.Serialization;
using KnowledgeDistillation.Tests.Data;
using KnowledgeDistillation.Tests.Support;
using TorchSharp;
using Xunit;
using static KnowledgeDistillation.Tests.Serialization.SafeTensorsTestData;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Serialization;

/// <summary>Reading, writing and loading create no native tensors that outlive the call, and never dispose the caller's.</summary>
[Collection(SerialCollection.Name)]
public sealed class SafeTensorsNativeMemoryTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static long Count()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        return Tensor.TotalCount;
    }

    [Fact]
    public void Reading_leaks_nothing()
    {
        using var file = SafeTensorsFile.Open(FixturePath);
        var before = Count();

        var all = file.ReadAll();
        all.Keys.Should().Equal(file.Tensors.Select(t => t.Name));
        foreach (var t in all.Values)
        {
            t.Dispose();
        }

        for (var i = 0; i < 20; i++)
        {
            using var bools = file.ReadTensor("dtypes.bool");
            using var halves = file.ReadTensor("dtypes.f16");
        }

        Count().Should().BeLessThanOrEqualTo(before);
    }

    [Fact]
    public void Writing_leaks_nothing_and_keeps_the_callers_tensors()
    {
        var path = _dir.File("leak.safetensors");
        using var a = randn(4, 5);
        using var b = randn(5, 4).t();
        var before = Count();

        for (var i = 0; i < 5; i++)
        {
            SafeTensorsWriter.Write(path, new Dictionary<string, Tensor> { ["a"] = a, ["b"] = b });
        }

        Count().Should().BeLessThanOrEqualTo(before);
        a.IsInvalid.Should().BeFalse();
        b.IsInvalid.Should().BeFalse();
    }

    [Fact]
    public void Loading_leaks_nothing()
    {
        using var source = new TinyTeacher();
        var path = _dir.File("teacher.safetensors");
        SafeTensors.Save(source, path);
        using var target = new TinyTeacher();
        SafeTensors.LoadInto(target, path);
        var before = Count();

        for (var i = 0; i < 10; i++)
        {
            SafeTensors.LoadInto(target, path);
        }

        Count().Should().BeLessThanOrEqualTo(before);
    }
}
