using System.Runtime.InteropServices;
using FluentAssertions;
using KnowledgeDistillation.Data;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Support;

/// <summary>
/// A valid input for a loss under contract: the context, the leaves that must receive the loss's gradient and those that
/// must not (frozen or detached participants' outputs, created with requires_grad so that a leak would show), and
/// optionally the reference value of <see cref="LossResult.Total"/> (PyTorch fixture or hand-derived).
/// </summary>
/// <param name="Context">The step's context; every tensor float64 and on one device.</param>
/// <param name="Trainable">Named float64 leaves that require grad and must get the gradient of the total.</param>
/// <param name="Frozen">Named leaves that require grad but must get none (their <c>.grad</c> stays null or zero).</param>
/// <param name="Expected">The reference value of the total, when there is one.</param>
public sealed record LossContractCase(
    DistillationContext Context,
    IReadOnlyList<(string Name, Tensor Leaf)> Trainable,
    IReadOnlyList<(string Name, Tensor Leaf)> Frozen,
    double? Expected = null);

/// <summary>An invalid input: a change to a valid case and the .NET exception it must raise.</summary>
/// <param name="Description">What is wrong, for the failure message.</param>
/// <param name="Mutate">Builds the bad context from a valid case.</param>
/// <param name="Expected">The exception type (or a base of it): the ArgumentException family, KeyNotFoundException or InvalidOperationException.</param>
public sealed record LossBadInput(string Description, Func<LossContractCase, DistillationContext> Mutate, Type Expected);

/// <summary>
/// The contract every <see cref="IDistillationLoss"/> must keep. Derive a class per loss (configuration), supply
/// <see cref="CreateLoss"/> and <see cref="CreateCase"/>, and xunit runs the facts below on it.
/// </summary>
public abstract class LossContractTests
{
    /// <summary>The loss under test (a fresh instance per fact; move its trainable modules to float64 here).</summary>
    protected abstract IDistillationLoss CreateLoss();

    /// <summary>A valid case on <paramref name="device"/>, float64, built afresh for every call.</summary>
    protected abstract LossContractCase CreateCase(Device device);

    /// <summary>Tolerance of the value fact: |total − expected| &lt;= tolerance · max(1, |expected|).</summary>
    protected virtual double ValueTolerance => 1e-10;

    /// <summary>Tolerance of the finite-difference fact (see <see cref="GradientCheck.DefaultTolerance"/>).</summary>
    protected virtual double GradientTolerance => GradientCheck.DefaultTolerance;

    /// <summary>
    /// Whether every part other than the loss's own total is named <c>Name.sub</c>. Override with false (and say why)
    /// for a loss that does not follow the convention yet.
    /// </summary>
    protected virtual bool SubPartsAreNamedNameDotSub => true;

    /// <summary>
    /// Inputs that must be rejected with a .NET exception before native code. The base supplies the ones every loss
    /// that reads participants shares; add the loss's own (shape, label and missing-logits errors).
    /// </summary>
    protected virtual IEnumerable<LossBadInput> BadInputs =>
    [
        new("no participant ran", c => new DistillationContext(c.Context.Batch, new Dictionary<string, ModelOutput>()), typeof(KeyNotFoundException)),
    ];

    /// <summary>
    /// The scalar whose finite-difference gradient w.r.t. trainable input <paramref name="input"/> must equal the analytic
    /// gradient of the total w.r.t. it. Default: the total. Override for a loss that, by design, trains each input on its
    /// own term only (its peers detached), e.g. deep mutual learning.
    /// </summary>
    /// <param name="result">The loss's result for the (perturbed) case.</param>
    /// <param name="input">The name of the input being perturbed.</param>
    protected virtual Tensor GradientObjective(LossResult result, string input) => result.Total;

    /// <summary>The devices the device fact runs on: the CPU, and CUDA where TorchSharp has it.</summary>
    protected static IEnumerable<Device> Devices => cuda.is_available() ? [CPU, CUDA] : [CPU];

    /// <summary>Guards: the loss computes the documented value (a fixture or a hand derivation), not just some value.</summary>
    [Fact]
    public void Value_matches_the_reference()
    {
        using var scope = NewDisposeScope();
        var @case = CreateCase(CPU);
        var total = CreateLoss().Compute(@case.Context).Total.to_type(ScalarType.Float64).item<double>();
        double.IsFinite(total).Should().BeTrue("a valid case gives a finite loss");
        if (@case.Expected is { } expected)
        {
            var bound = ValueTolerance * Math.Max(1.0, Math.Abs(expected));
            Math.Abs(total - expected).Should().BeLessThanOrEqualTo(bound, "the total {0:R} must match the reference {1:R}", total, expected);
        }
    }

    /// <summary>Guards: the gradient the optimiser sees is the derivative of the objective (no wrong sign, scale or missing term).</summary>
    [Fact]
    public void Gradient_matches_central_finite_differences_in_float64()
    {
        using var scope = NewDisposeScope();
        var loss = CreateLoss();
        var @case = CreateCase(CPU);
        @case.Trainable.Should().NotBeEmpty("a loss trains something");
        var modules = loss.TrainableModules.SelectMany((m, i) => m.named_parameters().Select(p => ($"module[{i}].{p.name}", (Tensor)p.parameter)));
        GradientCheck.AssertMatchesFiniteDifferences(
            () => loss.Compute(@case.Context).Total,
            @case.Trainable.Concat(modules),
            GradientTolerance,
            numeric: input => GradientObjective(loss.Compute(@case.Context), input));
    }

    /// <summary>Guards: frozen teachers and detached peers are never updated through this loss.</summary>
    [Fact]
    public void No_gradient_reaches_frozen_or_detached_participants()
    {
        using var scope = NewDisposeScope();
        var @case = CreateCase(CPU);
        foreach (var (name, leaf) in @case.Frozen)
        {
            leaf.requires_grad.Should().BeTrue("frozen input '{0}' must require grad, or a leak could not show", name);
        }

        CreateLoss().Compute(@case.Context).Total.backward();
        foreach (var (name, leaf) in @case.Frozen)
        {
            var grad = leaf.grad;
            (grad is null || grad.abs().max().item<double>() == 0).Should().BeTrue("no gradient may reach frozen input '{0}'", name);
        }
    }

    /// <summary>Guards: bad input fails with a .NET exception that names the problem, not a native TorchSharp error or a crash.</summary>
    [Fact]
    public void Bad_input_throws_a_dotnet_exception_before_native_code()
    {
        using var scope = NewDisposeScope();
        var failures = new List<string>();
        foreach (var bad in BadInputs)
        {
            var loss = CreateLoss();
            var context = bad.Mutate(CreateCase(CPU));
            try
            {
                loss.Compute(context);
                failures.Add($"{bad.Description}: no exception (expected {bad.Expected.Name})");
            }
            catch (Exception e) when (e is not ExternalException && bad.Expected.IsInstanceOfType(e) && IsDotNetInputError(e))
            {
            }
            catch (Exception e)
            {
                failures.Add($"{bad.Description}: {e.GetType().Name} ({e.Message.Split('\n')[0]}), expected {bad.Expected.Name}");
            }
        }

        failures.Should().BeEmpty();
    }

    /// <summary>Guards: the loss computes where its inputs live and reports scalars there (no silent CPU round trips or stray shapes).</summary>
    [Fact]
    public void Total_and_parts_are_scalars_on_the_inputs_device()
    {
        foreach (var device in Devices)
        {
            using var scope = NewDisposeScope();
            var @case = CreateCase(device);
            var result = CreateLoss().Compute(@case.Context);
            result.Total.device.ToString().Should().Be(device.ToString(), "the total is computed on the inputs' device");
            result.Total.shape.Should().BeEmpty("the total is a 0-dim scalar");
            foreach (var (name, part) in result.Parts)
            {
                part.device.ToString().Should().Be(device.ToString(), "part '{0}' stays on the inputs' device", name);
                part.shape.Should().BeEmpty("part '{0}' is a 0-dim scalar", name);
            }
        }
    }

    /// <summary>Guards: the part-naming convention logs and history rely on (the total under Name, sub-parts as Name.sub).</summary>
    [Fact]
    public void Parts_report_the_total_under_the_loss_name()
    {
        using var scope = NewDisposeScope();
        var loss = CreateLoss();
        var result = loss.Compute(CreateCase(CPU).Context);
        result.Parts.Should().ContainKey(loss.Name);
        result.Parts[loss.Name].item<double>().Should().Be(result.Total.item<double>(), "the part named '{0}' is the total", loss.Name);
        if (SubPartsAreNamedNameDotSub)
        {
            result.Parts.Keys.Where(k => k != loss.Name && !k.StartsWith(loss.Name + ".", StringComparison.Ordinal))
                .Should().BeEmpty("sub-parts are named '{0}.sub'", loss.Name);
        }
    }

    // ---- helpers for derived classes ------------------------------------------------------------------------------

    /// <summary>A float64 [rows, columns] tensor on <paramref name="device"/>, a leaf requiring grad.</summary>
    protected static Tensor Leaf(double[][] rows, Device device)
    {
        var flat = rows.SelectMany(r => r).ToArray();
        return tensor(flat, [rows.Length, rows[0].Length], ScalarType.Float64, device).requires_grad_();
    }

    /// <summary>
    /// A case whose participants output logits only: <paramref name="trainable"/> and <paramref name="frozen"/> become
    /// leaves requiring grad, on <paramref name="device"/>, with the given labels (int64) in the batch.
    /// </summary>
    protected static LossContractCase LogitsCase(
        Device device, (string Participant, double[][] Logits)[] trainable, (string Participant, double[][] Logits)[] frozen, long[]? labels, double? expected)
    {
        var train = trainable.Select(p => (p.Participant, Leaf(p.Logits, device))).ToArray();
        var freeze = frozen.Select(p => (p.Participant, Leaf(p.Logits, device))).ToArray();
        var outputs = train.Concat(freeze).ToDictionary(p => p.Participant, p => new ModelOutput(p.Item2));
        var batchSize = trainable[0].Logits.Length;
        var batch = new Batch(
            zeros(batchSize, 1, ScalarType.Float64, device),
            labels is null ? null : tensor(labels, ScalarType.Int64, device),
            arange(batchSize, ScalarType.Int64, device));
        return new LossContractCase(new DistillationContext(batch, outputs), train, freeze, expected);
    }

    /// <summary>The case's context with one participant's output replaced (null removes the participant).</summary>
    protected static DistillationContext WithOutput(LossContractCase valid, string participant, ModelOutput? output)
    {
        var outputs = valid.Context.Outputs.ToDictionary(p => p.Key, p => p.Value);
        if (output is null)
        {
            outputs.Remove(participant);
        }
        else
        {
            outputs[participant] = output;
        }

        return new DistillationContext(valid.Context.Batch, outputs);
    }

    /// <summary>The case's context with the batch's labels replaced (null: a batch without labels).</summary>
    protected static DistillationContext WithLabels(LossContractCase valid, Tensor? labels)
    {
        var b = valid.Context.Batch;
        return new DistillationContext(new Batch(b.Inputs, labels, b.Indices, b.Extras), valid.Context.Outputs);
    }

    /// <summary>Bad inputs shared by losses that read "student" (and "teacher") logits and optionally labels.</summary>
    protected static IEnumerable<LossBadInput> LogitsBadInputs(string[] participants, bool readsLabels)
    {
        foreach (var p in participants)
        {
            yield return new($"'{p}' missing", c => WithOutput(c, p, null), typeof(KeyNotFoundException));
            yield return new($"'{p}' without logits", c => WithOutput(c, p, new ModelOutput(null)), typeof(InvalidOperationException));
            yield return new($"'{p}' logits 1-D", c => WithOutput(c, p, new ModelOutput(zeros(3, ScalarType.Float64))), typeof(ArgumentException));
        }

        if (participants.Length > 1)
        {
            yield return new($"'{participants[1]}' has one class more", c =>
            {
                var logits = c.Context.Output(participants[1]).Logits!;
                return WithOutput(c, participants[1], new ModelOutput(zeros(logits.shape[0], logits.shape[1] + 1, ScalarType.Float64)));
            }, typeof(ArgumentException));
        }

        if (readsLabels)
        {
            yield return new("a batch without labels", c => WithLabels(c, null), typeof(InvalidOperationException));
            yield return new("float labels", c => WithLabels(c, c.Context.Batch.Targets!.to_type(ScalarType.Float64)), typeof(ArgumentException));
            yield return new("a label out of range", c => WithLabels(c, c.Context.Batch.Targets! + 1000), typeof(ArgumentException));
        }
    }

    private static bool IsDotNetInputError(Exception e) => e is ArgumentException or KeyNotFoundException or InvalidOperationException;
}
