using FluentAssertions;
using KnowledgeDistillation.Serialization;
using KnowledgeDistillation.Tests.Data;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Serialization;

/// <summary>Loading a module's parameters and buffers from safetensors: name maps, strict checks, dtype policy, Save round trips.</summary>
public sealed class LoadIntoTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string WriteFile(string name, Dictionary<string, Tensor> tensors)
    {
        var path = _dir.File(name + ".safetensors");
        try
        {
            SafeTensorsWriter.Write(path, tensors);
        }
        finally
        {
            foreach (var t in tensors.Values)
            {
                t.Dispose();
            }
        }

        return path;
    }

    private static Dictionary<string, Tensor> StateOf(TinyTeacher module, Func<string, string>? rename = null) =>
        module.state_dict().ToDictionary(p => rename is null ? p.Key : rename(p.Key), p => p.Value.detach().clone());

    private static void ShouldEqual(TinyTeacher a, TinyTeacher b)
    {
        var sb = b.state_dict();
        foreach (var (name, value) in a.state_dict())
        {
            value.dtype.Should().Be(sb[name].dtype, name);
            value.Equals(sb[name]).Should().BeTrue(name);
        }
    }

    [Fact]
    public void Save_then_LoadInto_restores_parameters_buffers_and_outputs()
    {
        manual_seed(1);
        using var source = new TinyTeacher();
        using (no_grad())
        {
            source.train();
            using var batch = randn(8, 1, 4, 4);
            using var _ = source.call(batch); // updates running statistics and num_batches_tracked
        }

        var path = _dir.File("teacher.safetensors");
        SafeTensors.Save(source, path, metadata: new Dictionary<string, string> { ["epoch"] = "3" });

        manual_seed(2);
        using var target = new TinyTeacher();
        var report = SafeTensors.LoadInto(target, path);

        report.Loaded.Should().HaveCount(9);
        report.Missing.Should().BeEmpty();
        report.Unexpected.Should().BeEmpty();
        ShouldEqual(source, target);
        target.parameters().Should().OnlyContain(p => p.requires_grad, "loading keeps parameters trainable");
        source.eval();
        target.eval();
        using var x = randn(3, 1, 4, 4);
        using var ya = source.call(x);
        using var yb = target.call(x);
        ya.Equals(yb).Should().BeTrue();
        using var file = SafeTensorsFile.Open(path);
        file.Metadata["epoch"].Should().Be("3");
    }

    [Fact]
    public void Save_maps_and_skips_names()
    {
        using var module = new TinyTeacher();
        var path = _dir.File("mapped.safetensors");

        SafeTensors.Save(module, path, n => n.StartsWith("bn.", StringComparison.Ordinal) ? null : "student." + n);

        using var file = SafeTensorsFile.Open(path);
        file.Tensors.Select(t => t.Name).Should().BeEquivalentTo("student.conv.weight", "student.conv.bias", "student.fc.weight", "student.fc.bias");
        var clash = () => SafeTensors.Save(module, path, _ => "same");
        clash.Should().Throw<ArgumentException>().Where(e => e.ParamName == "nameMap").WithMessage("*'same' appears more than once*");
    }

    [Fact]
    public void Strict_load_lists_every_missing_unexpected_and_mismatched_name_at_once()
    {
        using var module = new TinyTeacher();
        var path = WriteFile("mismatch", new Dictionary<string, Tensor>
        {
            ["conv.weight"] = zeros(2, 1, 2, 2),          // shape mismatch
            ["fc.weight"] = zeros(3, 32, ScalarType.Float64), // dtype mismatch
            ["fc.bias"] = ones(3),                          // fine
            ["head.weight"] = zeros(3),                     // unexpected
            ["model.bn.bias"] = zeros(2),                   // unexpected (after mapping)
        });
        using var before = module.state_dict()["fc.bias"].detach().clone();

        var act = () => SafeTensors.LoadInto(module, path, n => n.StartsWith("model.", StringComparison.Ordinal) ? "x." + n[6..] : n);

        var error = act.Should().Throw<StateDictMismatchException>().Which;
        error.Path.Should().Be(path);
        error.Missing.Should().BeEquivalentTo("conv.bias", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var", "bn.num_batches_tracked");
        error.Unexpected.Should().BeEquivalentTo("head.weight", "model.bn.bias");
        error.Mismatched.Should().HaveCount(2);
        error.Message.Should().Contain($"'{path}'").And.Contain("'TinyTeacher'")
            .And.Contain("Missing key(s) (6").And.Contain("\"bn.running_mean\"").And.Contain("\"bn.num_batches_tracked\"")
            .And.Contain("Unexpected key(s) (2").And.Contain("\"head.weight\"").And.Contain("\"model.bn.bias\" (mapped to \"x.bn.bias\")")
            .And.Contain("size mismatch for 'conv.weight': the file has shape [2, 1, 2, 2], the module has [2, 1, 3, 3]")
            .And.Contain("dtype mismatch for 'fc.weight': the file has F64, the module has Float32 (pass allowDTypeConversion: true");
        module.state_dict()["fc.bias"].Equals(before).Should().BeTrue("nothing is loaded when the file does not fit");
    }

    [Fact]
    public void Non_strict_load_reports_missing_and_unexpected_names_and_loads_the_rest()
    {
        using var module = new TinyTeacher();
        var path = WriteFile("partial", new Dictionary<string, Tensor>
        {
            ["fc.bias"] = tensor(new[] { 1f, 2f, 3f }),
            ["extra"] = zeros(1),
            ["ignored.weight"] = zeros(1),
        });

        var report = SafeTensors.LoadInto(module, path, n => n.StartsWith("ignored", StringComparison.Ordinal) ? null : n, strict: false);

        report.Loaded.Should().Equal("fc.bias");
        report.Skipped.Should().Equal("ignored.weight");
        report.Unexpected.Should().Equal("extra");
        report.Missing.Should().HaveCount(8).And.NotContain("fc.bias");
        module.state_dict()["fc.bias"].data<float>().ToArray().Should().Equal(1f, 2f, 3f);
    }

    [Fact]
    public void Shape_mismatches_fail_even_when_not_strict()
    {
        using var module = new TinyTeacher();
        var path = WriteFile("shape", new Dictionary<string, Tensor> { ["fc.bias"] = zeros(4) });
        var act = () => SafeTensors.LoadInto(module, path, strict: false);
        act.Should().Throw<StateDictMismatchException>()
            .Where(e => e.Missing.Count == 0 && e.Unexpected.Count == 0)
            .WithMessage("*size mismatch for 'fc.bias': the file has shape [4], the module has [3]*");
    }

    [Fact]
    public void Floating_point_dtypes_convert_only_when_allowed_and_integers_never()
    {
        using var source = new TinyTeacher();
        var path = WriteFile("f64", StateOf(source));
        using (var f64 = new TinyTeacher())
        {
            f64.to(ScalarType.Float64);
            var refused = () => SafeTensors.LoadInto(f64, path);
            refused.Should().Throw<StateDictMismatchException>().WithMessage("*dtype mismatch for 'conv.weight': the file has F32, the module has Float64*");

            var report = SafeTensors.LoadInto(f64, path, allowDTypeConversion: true);
            report.Converted.Should().Contain(new[] { "conv.weight", "bn.running_var", "fc.bias" });
            report.Converted.Should().NotContain("bn.num_batches_tracked");
            f64.state_dict()["fc.weight"].dtype.Should().Be(ScalarType.Float64, "the module keeps its dtype");
            using var expected = source.state_dict()["fc.weight"].to_type(ScalarType.Float64);
            f64.state_dict()["fc.weight"].Equals(expected).Should().BeTrue();
        }

        using var module = new TinyTeacher();
        var state = StateOf(source);
        var counter = state["bn.num_batches_tracked"];
        state["bn.num_batches_tracked"] = counter.to_type(ScalarType.Int32);
        counter.Dispose();
        var intPath = WriteFile("i32", state);
        var integer = () => SafeTensors.LoadInto(module, intPath, allowDTypeConversion: true);
        integer.Should().Throw<StateDictMismatchException>()
            .WithMessage("*dtype mismatch for 'bn.num_batches_tracked': the file has I32, the module has Int64 (only floating-point types can be converted)*");
    }

    [Fact]
    public void Two_file_tensors_mapped_to_one_entry_are_reported()
    {
        using var module = new TinyTeacher();
        var path = WriteFile("twice", new Dictionary<string, Tensor> { ["a.fc.bias"] = zeros(3), ["b.fc.bias"] = zeros(3) });
        var act = () => SafeTensors.LoadInto(module, path, n => n[2..], strict: false);
        act.Should().Throw<StateDictMismatchException>().WithMessage("*file tensors 'a.fc.bias' and 'b.fc.bias' both map to 'fc.bias'*");
        var empty = () => SafeTensors.LoadInto(module, path, _ => string.Empty);
        empty.Should().Throw<ArgumentException>().Where(e => e.ParamName == "nameMap");
    }

    [Fact]
    public void Bad_arguments_name_the_argument()
    {
        using var module = new TinyTeacher();
        var nullModule = () => SafeTensors.LoadInto(null!, "x");
        nullModule.Should().Throw<ArgumentNullException>().Where(e => e.ParamName == "module");
        var emptyPath = () => SafeTensors.LoadInto(module, " ");
        emptyPath.Should().Throw<ArgumentException>().Where(e => e.ParamName == "path");
        var missing = () => SafeTensors.LoadInto(module, _dir.File("absent.safetensors"));
        missing.Should().Throw<FileNotFoundException>();
    }
}
