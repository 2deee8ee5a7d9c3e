using FluentAssertions;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Tests.Support;
using TorchSharp;
using Xunit;
using static KnowledgeDistillation.Tests.Losses.InheritanceExplorationFixtures;
using static KnowledgeDistillation.Tests.Losses.LossTestHelpers;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Losses;

public class InheritanceExplorationLossTests
{
    // ie-kd.md worked example: x = [1, 2, 2, 0], y = [0, 0, 3, 4] as 1x1x2x2 maps.
    private static Tensor X => tensor(new[] { 1.0, 2, 2, 0 }, new long[] { 1, 1, 2, 2 }, ScalarType.Float64);

    private static Tensor Y => tensor(new[] { 0.0, 0, 3, 4 }, new long[] { 1, 1, 2, 2 }, ScalarType.Float64);

    public static IEnumerable<object[]> Cases() => InheritanceExplorationFixtures.Names();

    [Fact]
    public void Ie_kd_md_1_ft_l1_oracle_and_its_negative()
    {
        using var scope = NewDisposeScope();
        Scalar(FactorTransfer.L1(X, Y)).Should().BeApproximately((1.0 / 3 + 2.0 / 3 + (2.0 / 3 - 0.6) + 0.8) / 4, 1e-15).And.BeApproximately(0.466667, 1e-6);
        var (inherit, explore) = InheritanceExplorationLoss.Terms(X, X, Y);
        Scalar(inherit).Should().BeApproximately(0.466667, 1e-6);
        Scalar(explore).Should().BeApproximately(-0.466667, 1e-6, "NormLoss(negative) is the default exploration");
        ToRows(FactorTransfer.Normalize(X)).ShouldBeClose(new[] { new[] { 1.0 / 3, 2.0 / 3, 2.0 / 3, 0 } }, 1e-15, "phi(x)");
    }

    [Fact]
    public void Ie_kd_md_2_absolute_cosine_is_0_4_and_one_minus_cosine_is_0_6()
    {
        using var scope = NewDisposeScope();
        Scalar(FactorTransfer.AbsoluteCosine(X, Y)).Should().BeApproximately(0.4, 1e-15);
        Scalar(FactorTransfer.AbsoluteCosine(X, -Y)).Should().BeApproximately(0.4, 1e-15, "the absolute value ignores the sign");
        Scalar(1 - (FactorTransfer.Normalize(X) * FactorTransfer.Normalize(Y)).sum()).Should().BeApproximately(0.6, 1e-15, "CosLoss(positive)");
        Scalar(InheritanceExplorationLoss.Terms(X, X, Y, ExplorationForm.AbsoluteCosine).Exploration).Should().BeApproximately(0.4, 1e-15);
    }

    [Fact]
    public void Ie_kd_md_3_scale_invariance_is_per_sample()
    {
        using var scope = NewDisposeScope();
        foreach (var c in new[] { 0.01, 3.0, 1e4 })
        {
            Scalar(FactorTransfer.L1(c * X, Y)).Should().BeApproximately(0.466667, 1e-6, "c = {0}", c);
        }

        // Each sample rescaled by its own factor: per-sample normalisation leaves the loss unchanged (a global one would not).
        using var generator = new Generator(5);
        var x = randn(new long[] { 3, 2, 3, 3 }, ScalarType.Float64, generator: generator);
        var y = randn(new long[] { 3, 2, 3, 3 }, ScalarType.Float64, generator: generator);
        var scales = tensor(new[] { 0.5, 40.0, 1e-3 }, ScalarType.Float64).reshape(3, 1, 1, 1);
        Scalar(FactorTransfer.L1(x * scales, y)).Should().BeApproximately(Scalar(FactorTransfer.L1(x, y)), 1e-14);
        Scalar(FactorTransfer.AbsoluteCosine(x * scales, y)).Should().BeApproximately(Scalar(FactorTransfer.AbsoluteCosine(x, y)), 1e-14);
    }

    [Fact]
    public void Ft_l1_is_the_mean_over_all_elements_of_per_sample_normalised_rows_plain_double_reference()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(9);
        var x = randn(new long[] { 4, 3, 2, 5 }, ScalarType.Float64, generator: generator);
        var y = randn(new long[] { 4, 3, 2, 5 }, ScalarType.Float64, generator: generator);
        var xs = ToRows(x.reshape(4, -1));
        var ys = ToRows(y.reshape(4, -1));
        double l1 = 0, cosine = 0;
        for (var i = 0; i < 4; i++)
        {
            var nx = Math.Sqrt(xs[i].Sum(v => v * v));
            var ny = Math.Sqrt(ys[i].Sum(v => v * v));
            l1 += xs[i].Zip(ys[i], (a, b) => Math.Abs((a / nx) - (b / ny))).Sum();
            cosine += Math.Abs(xs[i].Zip(ys[i], (a, b) => a * b).Sum() / (nx * ny));
        }

        Scalar(FactorTransfer.L1(x, y)).Should().BeApproximately(l1 / (4 * 30), 1e-15);
        Scalar(FactorTransfer.AbsoluteCosine(x, y)).Should().BeApproximately(cosine / 4, 1e-15);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_pytorch_value_parts_and_gradients(string name)
    {
        using var scope = NewDisposeScope();
        var c = Case(name);
        var (loss, student, teacher) = Build(c);
        var result = loss.Compute(Context(student, teacher));
        Scalar(result.Total).ShouldBeClose(c.Value, Float64Tolerance, "total");
        Scalar(result.Parts["ie"]).ShouldBeClose(c.Value, Float64Tolerance, "part ie");
        Scalar(result.Parts["ie.inherit"]).ShouldBeClose(c.Inherit, Float64Tolerance, "inherit");
        Scalar(result.Parts["ie.explore"]).ShouldBeClose(c.Explore, Float64Tolerance, "explore");
        if (c.Reconstruct is { } reconstruct)
        {
            Scalar(result.Parts["ie.reconstruct"]).ShouldBeClose(reconstruct, Float64Tolerance, "reconstruct");
        }
        else
        {
            result.Parts.Should().NotContainKey("ie.reconstruct");
        }

        result.Total.backward();
        AssertClose(student.grad!, c.GradStudent, "d total / d student feature");
        AssertClose(loss.Encoders.Inheritance.state_dict()["layers.1.weight"].grad!, c.GradInheritanceConv1, "d total / d Enc_I conv1");
        teacher.grad.Should().BeNull("the teacher's feature is detached");
        if (c.GradAutoencoderEncoderConv1 is { } aeGrad)
        {
            AssertClose(loss.Autoencoder.state_dict()["encoder.layers.1.weight"].grad!, aeGrad, "online: d (w_rec * rec) / d Enc_t conv1");
        }
        else
        {
            loss.Autoencoder.parameters().All(p => p.grad is null).Should().BeTrue("a frozen autoencoder receives no gradient");
        }
    }

    [Fact]
    public void Frozen_autoencoder_is_declared_frozen_and_in_eval_mode_leaves_its_statistics_alone()
    {
        using var scope = NewDisposeScope();
        var c = Case("natural_negative_l1");
        var (loss, student, teacher) = Build(c);
        loss.FrozenModules.Should().ContainSingle().Which.Should().BeSameAs(loss.Autoencoder);
        loss.TrainableModules.Should().ContainSingle().Which.Should().BeSameAs(loss.Encoders);
        loss.Autoencoder.training.Should().BeFalse("Build puts frozen modules in eval mode, as the engine does");
        var before = Values(loss.Autoencoder.state_dict()["encoder.layers.2.running_mean"]);
        loss.Compute(Context(student, teacher)).Total.backward();
        loss.Autoencoder.training.Should().BeFalse("Compute has no side effects on module modes");
        Values(loss.Autoencoder.state_dict()["encoder.layers.2.running_mean"]).Should().Equal(before);
    }

    [Fact]
    public void Online_autoencoder_is_trainable_and_learns_only_from_the_reconstruction_term()
    {
        using var scope = NewDisposeScope();
        var c = Case("online_negative_l1");
        var (loss, student, teacher) = Build(c with { ReconstructionWeight = 0 });
        loss.TrainableModules.Should().Equal(loss.Encoders, loss.Autoencoder);
        loss.Compute(Context(student, teacher)).Total.backward();
        loss.Autoencoder.parameters().All(p => p.grad is null || p.grad.abs().max().item<double>() == 0)
            .Should().BeTrue("the factor is a detached target, so only w_rec * rec reaches the autoencoder");
        student.grad!.abs().sum().item<double>().Should().BeGreaterThan(0);
    }

    [Fact]
    public void Gradient_wrt_student_feature_matches_central_differences()
    {
        using var scope = NewDisposeScope();
        foreach (var form in new[] { ExplorationForm.NegativeL1, ExplorationForm.AbsoluteCosine })
        {
            random.manual_seed(21);
            using var ae = new FactorAutoencoder(3, 2);
            ae.to(ScalarType.Float64);
            var loss = new InheritanceExplorationLoss(ae, ChannelSplit.Random(4, seed: 3), "f", inheritanceWeight: 1.3, explorationWeight: 0.6, exploration: form);
            loss.Encoders.to(ScalarType.Float64);
            using var generator = new Generator(17);
            var fs = randn(new long[] { 2, 4, 3, 3 }, ScalarType.Float64, generator: generator);
            var ft = randn(new long[] { 2, 3, 3, 3 }, ScalarType.Float64, generator: generator);
            var leaf = fs.clone().requires_grad_();
            GradientCheck.AssertMatchesFiniteDifferences(() => loss.Compute(Context(leaf, ft)).Total, [($"{form} F_s", leaf)], tolerance: 1e-6);
        }
    }

    [Fact]
    public void Natural_split_is_the_two_halves_and_random_split_is_a_seeded_disjoint_cover()
    {
        var natural = ChannelSplit.Natural(8);
        natural.Inheritance.Should().Equal(0L, 1, 2, 3);
        natural.Exploration.Should().Equal(4L, 5, 6, 7);
        foreach (var seed in new[] { 0, 1, 42, 1234 })
        {
            var split = ChannelSplit.Random(64, seed);
            split.Inheritance.Should().HaveCount(32).And.OnlyHaveUniqueItems();
            split.Exploration.Should().HaveCount(32).And.OnlyHaveUniqueItems();
            split.Inheritance.Intersect(split.Exploration).Should().BeEmpty();
            split.Inheritance.Concat(split.Exploration).Order().Should().Equal(Enumerable.Range(0, 64).Select(i => (long)i));
            ChannelSplit.Random(64, seed).Inheritance.Should().Equal(split.Inheritance, "a pure function of the seed");
        }

        ChannelSplit.Random(64, 1).Inheritance.Should().NotEqual(ChannelSplit.Random(64, 2).Inheritance);
        ChannelSplit.Random(64, 1).Inheritance.Should().NotEqual(natural.Inheritance);
    }

    [Fact]
    public void Split_indices_are_buffers_that_a_loaded_state_replaces()
    {
        using var scope = NewDisposeScope();
        using var ae = new FactorAutoencoder(4, 2);
        var a = new InheritanceExplorationLoss(ae, ChannelSplit.Random(6, seed: 1), "f");
        var b = new InheritanceExplorationLoss(ae, ChannelSplit.Natural(6), "f");
        a.Encoders.state_dict().Should().ContainKeys("inheritance_index", "exploration_index");
        a.Split.Inheritance.Should().Equal(ChannelSplit.Random(6, 1).Inheritance);
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            a.Encoders.save(writer);
        }

        stream.Position = 0;
        using (var reader = new BinaryReader(stream))
        {
            b.Encoders.load(reader, strict: true);
        }

        b.Split.Inheritance.Should().Equal(a.Split.Inheritance);
        b.Split.Exploration.Should().Equal(a.Split.Exploration);
    }

    [Fact]
    public void Bad_splits_throw_naming_the_argument()
    {
        FluentActions.Invoking(() => ChannelSplit.Natural(7)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("channels");
        FluentActions.Invoking(() => ChannelSplit.Random(0, 1)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("channels");
        FluentActions.Invoking(() => ChannelSplit.FromIndices(new long[] { 0, 1 }, new long[] { 2 })).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("exploration");
        FluentActions.Invoking(() => ChannelSplit.FromIndices(new long[] { 0, 1 }, new long[] { 1, 2 })).Should().Throw<ArgumentException>().WithMessage("*twice*").Which.ParamName.Should().Be("exploration");
        FluentActions.Invoking(() => ChannelSplit.FromIndices(new long[] { 0, 4 }, new long[] { 1, 2 })).Should().Throw<ArgumentException>().WithMessage("*outside [0, 3]*").Which.ParamName.Should().Be("inheritance");
        ChannelSplit.FromIndices(new long[] { 3, 0 }, new long[] { 2, 1 }).Channels.Should().Be(4);
    }

    [Fact]
    public void Bad_inputs_throw_argument_exceptions_naming_the_feature_and_expected_shape()
    {
        using var scope = NewDisposeScope();
        using var ae = new FactorAutoencoder(3, 2);
        var loss = new InheritanceExplorationLoss(ae, ChannelSplit.Natural(4), "f");
        var ok = randn(2, 4, 3, 3);
        var teacher = randn(2, 3, 3, 3);
        loss.Compute(Context(ok, teacher)).Total.dim().Should().Be(0);

        void Throws(Tensor s, Tensor t, string message) =>
            FluentActions.Invoking(() => loss.Compute(Context(s, t))).Should().Throw<ArgumentException>().WithMessage(message);

        Throws(randn(2, 4, 9), teacher, "*feature 'f' of 'student'*[batch, 4, height, width]*[2, 4, 9]*");
        Throws(randn(2, 6, 3, 3), teacher, "*feature 'f' of 'student'*[batch, 4, height, width]*");
        Throws(ok, randn(2, 5, 3, 3), "*feature 'f' of 'teacher'*[batch, 3, height, width]*");
        Throws(ok, randn(2, 3, 4, 3), "*same batch, height and width*");
        Throws(ok, randn(3, 3, 3, 3), "*same batch, height and width*");
        Throws(ok, teacher.to(ScalarType.Float64), "*Float32*Float64*");
        Throws(ok.to(ScalarType.Int64), teacher, "*floating point*");
        FluentActions.Invoking(() => loss.Compute(Context(ok.to(ScalarType.Float64), teacher.to(ScalarType.Float64))))
            .Should().Throw<InvalidOperationException>().WithMessage("*Float32 parameters*Float64*module.to*");
        FluentActions.Invoking(() => InheritanceExplorationLoss.Terms(randn(1, 2, 2, 2), randn(1, 2, 2, 2), randn(1, 2, 3, 2)))
            .Should().Throw<ArgumentException>().Which.ParamName.Should().Be("y");

        FluentActions.Invoking(() => new InheritanceExplorationLoss(ae, ChannelSplit.Natural(4), "f", inheritanceWeight: -1))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("inheritanceWeight");
        FluentActions.Invoking(() => new InheritanceExplorationLoss(ae, ChannelSplit.Natural(4), "f", explorationWeight: double.NaN))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("explorationWeight");
        FluentActions.Invoking(() => new InheritanceExplorationLoss(ae, ChannelSplit.Natural(4), " "))
            .Should().Throw<ArgumentException>().Which.ParamName.Should().Be("studentFeature");
        FluentActions.Invoking(() => new InheritanceExplorationLoss(ae, ChannelSplit.Natural(4), "f", exploration: (ExplorationForm)7))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("exploration");
        FluentActions.Invoking(() => new InheritanceExplorationLoss(null!, ChannelSplit.Natural(4), "f"))
            .Should().Throw<ArgumentNullException>().Which.ParamName.Should().Be("teacherAutoencoder");
        FluentActions.Invoking(() => loss.Compute(LossTestHelpers.Context(
                new Dictionary<string, ModelOutput> { ["student"] = new(null, new Dictionary<string, Tensor> { ["g"] = ok }), ["teacher"] = new(null, new Dictionary<string, Tensor> { ["f"] = teacher }) },
                null, 2)))
            .Should().Throw<KeyNotFoundException>().WithMessage("*no feature 'f'*'g'*");
    }

    /// <summary>Both participants expose their map as feature "f" (teacherFeature defaults to studentFeature).</summary>
    private static DistillationContext Context(Tensor student, Tensor teacher) =>
        LossTestHelpers.Context(
            new Dictionary<string, ModelOutput>
            {
                ["student"] = new(null, new Dictionary<string, Tensor> { ["f"] = student }),
                ["teacher"] = new(null, new Dictionary<string, Tensor> { ["f"] = teacher }),
            },
            null,
            student.shape[0]);

    private static (InheritanceExplorationLoss Loss, Tensor Student, Tensor Teacher) Build(InheritanceExplorationCase c)
    {
        var autoencoder = new FactorAutoencoder((int)c.TeacherFeature.Shape[1], c.FactorChannels);
        LoadInto(autoencoder, c.Autoencoder);
        var loss = new InheritanceExplorationLoss(
            autoencoder,
            ChannelSplit.FromIndices(c.Inheritance, c.ExplorationChannels),
            "f",
            inheritanceWeight: c.InheritanceWeight,
            explorationWeight: c.ExplorationWeight,
            exploration: c.Exploration == "negative_l1" ? ExplorationForm.NegativeL1 : ExplorationForm.AbsoluteCosine,
            autoencoderMode: c.Mode == "online" ? TeacherAutoencoderMode.Online : TeacherAutoencoderMode.Frozen,
            reconstructionWeight: c.ReconstructionWeight);
        LoadInto(loss.Encoders.Inheritance, c.EncoderInheritance);
        LoadInto(loss.Encoders.Exploration, c.EncoderExploration);
        loss.Encoders.train();
        autoencoder.train();
        foreach (var frozen in loss.FrozenModules)
        {
            frozen.eval(); // what the engine does for a frozen loss module
        }

        return (loss, c.StudentFeature.ToTensor().requires_grad_(), c.TeacherFeature.ToTensor().requires_grad_());
    }

    private static void AssertClose(Tensor actual, FlatTensor expected, string what)
    {
        actual.shape.Should().Equal(expected.Shape, what);
        var values = Values(actual);
        for (var i = 0; i < values.Length; i++)
        {
            values[i].ShouldBeClose(expected.Data[i], Float64Tolerance, $"{what}[{i}]");
        }
    }
}
