using FluentAssertions;
using KnowledgeDistillation.Tests.Support;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Engine;

/// <summary>Serial: one test counts live tensors, which parallel tests would change.</summary>
[Collection(SerialCollection.Name)]
public class EngineAdamTests
{
    public static TheoryData<string, double, bool, bool> Settings => new()
    {
        { "Adam", 0.0, false, false },
        { "Adam", 0.01, false, false },
        { "Adam", 0.01, true, false },
        { "Adam", 0.0, false, true },
        { "AdamW", 0.01, false, false },
        { "AdamW", 0.0, true, false },
        { "AdamW", 0.01, false, true },
    };

    [Theory]
    [MemberData(nameof(Settings))]
    public void Steps_are_bit_identical_to_TorchSharps_optimiser(string kind, double weightDecay, bool amsgrad, bool maximize)
    {
        using var scope = NewDisposeScope();
        var (a, b) = (Parameters(), Parameters());
        using var reference = kind == "Adam"
            ? (OptimizerHelper)new Adam(a, 0.01, 0.9, 0.99, 1e-8, weightDecay, amsgrad, maximize)
            : new AdamW(a, 0.01, 0.9, 0.99, 1e-8, weightDecay, amsgrad, maximize);
        using var lean = kind == "Adam"
            ? (OptimizerHelper)new KnowledgeDistillation.Engine.Optimizers.Adam(b, 0.01, 0.9, 0.99, 1e-8, weightDecay, amsgrad, maximize)
            : new KnowledgeDistillation.Engine.Optimizers.AdamW(b, 0.01, 0.9, 0.99, 1e-8, weightDecay, amsgrad, maximize);

        for (var step = 0; step < 5; step++)
        {
            SetGradients(a, step);
            SetGradients(b, step);
            reference.step();
            lean.step();
        }

        for (var i = 0; i < a.Length; i++)
        {
            b[i].eq(a[i]).all().item<bool>().Should().BeTrue($"parameter {i} after 5 {kind} steps (wd {weightDecay}, amsgrad {amsgrad}, maximize {maximize})");
        }
    }

    [Fact]
    public void Skips_parameters_without_gradient_and_frees_its_temporaries()
    {
        using var scope = NewDisposeScope();
        var p = Parameters();
        using var lean = new KnowledgeDistillation.Engine.Optimizers.AdamW(p, 0.01, weight_decay: 0.1);
        SetGradients(p[..1], 0); // only the first has a gradient
        var untouched = p[1].detach().clone();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        lean.step(); // the first step creates TorchSharp's own per-optimiser objects
        SetGradients(p[..1], 1);
        var before = Tensor.TotalCount;

        lean.step();

        GC.Collect();
        GC.WaitForPendingFinalizers();
        Tensor.TotalCount.Should().Be(before, "every temporary of the step is disposed");
        p[1].eq(untouched).all().item<bool>().Should().BeTrue("a parameter without gradient is not updated (not even decayed)");
    }

    [Fact]
    public void State_saved_by_TorchSharps_optimiser_loads_into_the_engines_and_continues_identically()
    {
        using var scope = NewDisposeScope();
        var (a, b) = (Parameters(), Parameters());
        using var reference = new AdamW(a, 0.01, weight_decay: 0.01);
        SetGradients(a, 0);
        reference.step();
        using var stream = new MemoryStream();
        reference.save_state_dict(new BinaryWriter(stream));
        for (var i = 0; i < a.Length; i++)
        {
            using var noGrad = no_grad();
            b[i].copy_(a[i]);
        }

        using var lean = new KnowledgeDistillation.Engine.Optimizers.AdamW(b, 0.01, weight_decay: 0.01);
        stream.Position = 0;
        lean.load_state_dict(new BinaryReader(stream));
        SetGradients(a, 1);
        SetGradients(b, 1);
        reference.step();
        lean.step();

        for (var i = 0; i < a.Length; i++)
        {
            b[i].eq(a[i]).all().item<bool>().Should().BeTrue($"parameter {i} after a resumed step");
        }
    }

    private static Parameter[] Parameters()
    {
        var generator = new Generator(3);
        return new[]
        {
            new Parameter(randn(new long[] { 37, 11 }, generator: generator)),
            new Parameter(randn(new long[] { 11 }, generator: generator)),
            new Parameter(randn(new long[] { 5, 3, 4 }, generator: generator)),
        };
    }

    private static void SetGradients(Parameter[] parameters, int step)
    {
        var generator = new Generator((ulong)(100 + step));
        foreach (var p in parameters)
        {
            p.grad = randn(p.shape, generator: generator);
        }
    }
}
