using FluentAssertions;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Models;
using TorchSharp;
using Xunit;
using static KnowledgeDistillation.Tests.Losses.LossTestHelpers;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Models;

public class ResNetCifarTests
{
    private static readonly int[] SmallWidths = { 4, 8, 16 };

    /// <summary>
    /// Parameters of a CIFAR ResNet counted by hand: stem conv (in·s·9) + BN (2s); per block conv1 (c_in·w·9) + BN (2w) +
    /// conv2 (w·w·9) + BN (2w), plus a projection (c_in·w + 2w) when the first block of a stage changes the stride or the
    /// channel count; classifier w3·classes + classes.
    /// </summary>
    private static long ExpectedParameters(int depth, int stem, IReadOnlyList<int> widths, int classes, int inputChannels)
    {
        var n = (depth - 2) / 6;
        long total = (inputChannels * stem * 9L) + (2L * stem);
        long previous = stem;
        for (var s = 0; s < 3; s++)
        {
            long w = widths[s];
            for (var i = 0; i < n; i++)
            {
                var cin = i == 0 ? previous : w;
                total += (cin * w * 9) + (2 * w) + (w * w * 9) + (2 * w);
                if (i == 0 && (s > 0 || cin != w))
                {
                    total += (cin * w) + (2 * w);
                }
            }

            previous = w;
        }

        return total + (widths[2] * (long)classes) + classes;
    }

    private static long ParameterCount(nn.Module module) => module.parameters().Sum(p => p.numel());

    private static bool Same(Tensor a, Tensor? b) => b is not null && a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    [Theory]
    [InlineData(28, 1)]
    [InlineData(28, 3)]
    [InlineData(32, 1)]
    [InlineData(32, 3)]
    public void Output_is_batch_by_classes_for_28_and_32_pixel_inputs(int size, int channels)
    {
        using var scope = torch.NewDisposeScope();
        using var net = new ResNetCifar(14, SmallWidths, 4, numClasses: 7, inputChannels: channels);
        net.forward(randn(2, channels, size, size)).shape.Should().Equal(2, 7);

        using var x4 = ResNetCifar.ResNet8x4(numClasses: 10, inputChannels: channels, widthScale: 0.125);
        x4.eval();
        x4.call(randn(3, channels, size, size)).shape.Should().Equal(3, 10);
    }

    [Theory]
    [InlineData(28)]
    [InlineData(32)]
    public void Hooks_capture_every_named_stage_with_the_expected_shape(int size)
    {
        using var scope = torch.NewDisposeScope();
        using var net = new ResNetCifar(8, SmallWidths, 3, numClasses: 5, inputChannels: 1);
        using var student = Student.FromModule(net, captureFeatures: new[] { "stem", "stage1", "stage2", "stage3", "pool", "fc", "stage3.0.downsample" });
        var output = student.Forward(new Batch(randn(2, 1, size, size), null, arange(2L)));
        var half = (size + 1) / 2;
        var quarter = (half + 1) / 2;
        output.Feature("stem").shape.Should().Equal(2, 3, size, size);
        output.Feature("stage1").shape.Should().Equal(2, 4, size, size);
        output.Feature("stage2").shape.Should().Equal(2, 8, half, half);
        output.Feature("stage3").shape.Should().Equal(2, 16, quarter, quarter);
        output.Feature("stage3.0.downsample").shape.Should().Equal(2, 16, quarter, quarter);
        output.Feature("pool").shape.Should().Equal(2, 16);
        output.Feature("fc").shape.Should().Equal(2, 5);
        output.Logits!.shape.Should().Equal(2, 5);
        net.FeatureChannels.Should().Be(16);

        // The pooled vector is the spatial mean of stage3, and the logits are fc of it.
        (output.Feature("pool") - output.Feature("stage3").mean(new long[] { 2, 3 })).abs().max().item<float>().Should().BeLessThan(1e-6f);
        Same(output.Feature("fc"), output.Logits).Should().BeTrue();
    }

    [Theory]
    [InlineData(8, 3, 4, 8, 16, 10, 1)]
    [InlineData(8, 4, 4, 4, 4, 2, 3)]
    [InlineData(14, 4, 4, 8, 16, 10, 3)]
    [InlineData(20, 16, 16, 32, 64, 100, 3)]
    [InlineData(26, 2, 3, 5, 7, 3, 2)]
    public void Parameter_count_matches_the_hand_computed_formula(int depth, int stem, int w1, int w2, int w3, int classes, int inputChannels)
    {
        using var net = new ResNetCifar(depth, new[] { w1, w2, w3 }, stem, classes, inputChannels);
        ParameterCount(net).Should().Be(ExpectedParameters(depth, stem, new[] { w1, w2, w3 }, classes, inputChannels));
        net.BlocksPerStage.Should().Be((depth - 2) / 6);
        net.named_children().Select(c => c.name).Should().Equal("stem", "stage1", "stage2", "stage3", "pool", "fc");
        net.named_modules().Select(m => m.name).Count(n => n.EndsWith(".downsample", StringComparison.Ordinal))
            .Should().Be(w1 == stem ? 2 : 3, "projections only where the shape changes");
    }

    [Fact]
    public void Benchmark_pair_parameter_counts_match_pytorch_and_the_published_sizes()
    {
        // Hand-computed: resnet8x4 for CIFAR-100 (3 channels) has 1,233,540 parameters (RepDistiller/CRD report 1.23 M) and
        // resnet32x4 7,433,860 (reported 7.43 M).
        ExpectedParameters(8, 32, new[] { 64, 128, 256 }, 100, 3).Should().Be(1_233_540);
        ExpectedParameters(32, 32, new[] { 64, 128, 256 }, 100, 3).Should().Be(7_433_860);
        ResNetFixtures.ParameterCounts.Should().HaveCountGreaterThan(8);
        foreach (var reference in ResNetFixtures.ParameterCounts)
        {
            using var net = reference.Name switch
            {
                "resnet8x4" => ResNetCifar.ResNet8x4(reference.NumClasses, reference.InputChannels),
                "resnet32x4" => ResNetCifar.ResNet32x4(reference.NumClasses, reference.InputChannels),
                _ => ResNetCifar.Create(reference.Depth, numClasses: reference.NumClasses, inputChannels: reference.InputChannels),
            };
            net.Depth.Should().Be(reference.Depth);
            net.StemWidth.Should().Be(reference.StemWidth);
            net.StageWidths.Should().Equal(reference.StageWidths);
            ParameterCount(net).Should().Be(reference.ParameterCount, "{0} ({1} classes, {2} channels) as counted by PyTorch",
                reference.Name, reference.NumClasses, reference.InputChannels);
        }
    }

    [Theory]
    [MemberData(nameof(ResNetFixtures.Names), MemberType = typeof(ResNetFixtures))]
    public void Logits_match_pytorch_with_the_same_weights(string caseName)
    {
        using var scope = torch.NewDisposeScope();
        var c = ResNetFixtures.Case(caseName);
        using var net = new ResNetCifar(c.Depth, c.StageWidths, c.StemWidth, c.NumClasses, c.InputChannels);
        net.to(ScalarType.Float64);
        ParameterCount(net).Should().Be(c.ParameterCount);

        // Same names as PyTorch's state dict (num_batches_tracked aside), then the same values.
        var state = net.state_dict();
        state.Keys.Where(k => !k.EndsWith("num_batches_tracked", StringComparison.Ordinal))
            .Should().BeEquivalentTo(c.State.Select(e => e.Name));
        using (no_grad())
        {
            foreach (var entry in c.State)
            {
                state[entry.Name].shape.Should().Equal(entry.Shape, entry.Name);
                state[entry.Name].copy_(tensor(entry.Values, entry.Shape, ScalarType.Float64));
            }
        }

        var input = tensor(c.Input, c.InputShape, ScalarType.Float64);
        net.eval();
        ToRows(net.call(input)).ShouldBeClose(c.EvalLogits, 1e-10, $"{caseName} eval logits");
        net.train();
        ToRows(net.call(input)).ShouldBeClose(c.TrainLogits, 1e-10, $"{caseName} train logits");
    }

    [Fact]
    public void Convolutions_are_he_normal_fan_out_and_batch_norm_starts_at_one_and_zero()
    {
        using var scope = torch.NewDisposeScope();
        using var net = ResNetCifar.ResNet8x4(numClasses: 100);
        var convolutions = 0;
        foreach (var (name, p) in net.named_parameters())
        {
            if (p.dim() == 4)
            {
                // std = sqrt(2 / fan_out), fan_out = out_channels * kh * kw. Sampling error <= 2.4% (1 sd) for the smallest
                // (864 weights); PyTorch's default (uniform, 1/sqrt(3 fan_in)) and fan-in He are >= 29% away for every conv here.
                var fanOut = p.shape[0] * p.shape[2] * p.shape[3];
                var expected = Math.Sqrt(2.0 / fanOut);
                p.std().item<float>().Should().BeInRange((float)(expected * 0.9), (float)(expected * 1.1), name);
                Math.Abs(p.mean().item<float>()).Should().BeLessThan((float)(expected * 0.15), name);
                convolutions++;
            }
            else if (name.Contains("bn", StringComparison.Ordinal) || name.Contains("downsample.1", StringComparison.Ordinal))
            {
                var expected = name.EndsWith("weight", StringComparison.Ordinal) ? 1f : 0f;
                p.eq(expected).all().item<bool>().Should().BeTrue($"{name} starts at {expected}");
            }
        }

        convolutions.Should().Be(1 + (3 * 2) + 3, "stem, two per block, three projections");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    [InlineData(7)]
    [InlineData(9)]
    [InlineData(-4)]
    public void Depth_that_is_not_6n_plus_2_is_rejected(int depth)
    {
        var act = () => new ResNetCifar(depth, SmallWidths, 4);
        act.Should().Throw<ArgumentException>().Where(e => e.ParamName == "depth").WithMessage("*6n + 2*");
        ((Action)(() => ResNetCifar.Create(depth))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "depth");
    }

    [Fact]
    public void Invalid_widths_classes_channels_and_scales_are_rejected_naming_the_argument()
    {
        ((Action)(() => new ResNetCifar(8, new[] { 4, 8 }, 4))).Should().Throw<ArgumentException>()
            .Where(e => e.ParamName == "stageWidths").WithMessage("*three widths*[4, 8]*");
        ((Action)(() => new ResNetCifar(8, new[] { 4, 0, 8 }, 4))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "stageWidths");
        ((Action)(() => new ResNetCifar(8, null!, 4))).Should().Throw<ArgumentNullException>().Where(e => e.ParamName == "stageWidths");
        ((Action)(() => new ResNetCifar(8, SmallWidths, 0))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "stemWidth");
        ((Action)(() => new ResNetCifar(8, SmallWidths, 4, numClasses: 1))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "numClasses");
        ((Action)(() => new ResNetCifar(8, SmallWidths, 4, inputChannels: 0))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "inputChannels");
        ((Action)(() => ResNetCifar.Create(8, baseWidth: 0))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "baseWidth");
        foreach (var scale in new[] { 0.0, -1.0, double.NaN, double.PositiveInfinity })
        {
            ((Action)(() => ResNetCifar.ResNet8x4(widthScale: scale))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "widthScale");
            ((Action)(() => ResNetCifar.ResNet32x4(widthScale: scale))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "widthScale");
        }
    }

    [Fact]
    public void Width_scale_rounds_each_width_and_keeps_at_least_one_channel()
    {
        using var quarter = ResNetCifar.ResNet8x4(widthScale: 0.25);
        quarter.StemWidth.Should().Be(8);
        quarter.StageWidths.Should().Equal(16, 32, 64);
        quarter.FeatureChannels.Should().Be(64);
        using var odd = ResNetCifar.ResNet32x4(widthScale: 0.1);
        odd.StemWidth.Should().Be(3);
        odd.StageWidths.Should().Equal(6, 13, 26);
        odd.BlocksPerStage.Should().Be(5);
        using var tiny = ResNetCifar.ResNet8x4(widthScale: 1e-3);
        tiny.StemWidth.Should().Be(1);
        tiny.StageWidths.Should().Equal(1, 1, 1);
    }

    [Fact]
    public void Input_with_the_wrong_rank_or_channel_count_is_rejected_before_native_code()
    {
        using var scope = torch.NewDisposeScope();
        using var net = new ResNetCifar(8, SmallWidths, 4, inputChannels: 3);
        ((Action)(() => net.call(randn(2, 1, 32, 32)))).Should().Throw<ArgumentException>()
            .Where(e => e.ParamName == "input").WithMessage("*[batch, 3, height, width]*[2, 1, 32, 32]*");
        ((Action)(() => net.call(randn(3, 32, 32)))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "input");
        using var branch = net.CreateLastStageBranch(10, copyWeights: false);
        ((Action)(() => branch.call(randn(2, 16, 8, 8)))).Should().Throw<ArgumentException>()
            .Where(e => e.ParamName == "input").WithMessage("*stage2*[batch, 8, height, width]*[2, 16, 8, 8]*");
    }

    [Theory]
    [InlineData(28)]
    [InlineData(32)]
    public void Copied_branch_reproduces_the_networks_logits_from_its_stage2_output(int size)
    {
        using var scope = torch.NewDisposeScope();
        using var net = new ResNetCifar(14, SmallWidths, 4, numClasses: 6, inputChannels: 3);

        // Move the BatchNorm running statistics away from 0/1 so copying them matters.
        net.train();
        using (no_grad())
        {
            for (var i = 0; i < 3; i++)
            {
                net.call((randn(4, 3, size, size) * 2) + 1);
            }
        }

        net.eval();
        Tensor? stage2 = null;
        var stage2Module = net.named_modules().Single(m => m.name == "stage2").module as nn.Module<Tensor, Tensor>;
        var hook = stage2Module!.register_forward_hook((_, _, output) =>
        {
            stage2 = output.alias();
            return output;
        });
        var x = randn(5, 3, size, size);
        var logits = net.call(x);
        hook.remove();
        stage2.Should().NotBeNull();

        using var branch = net.CreateLastStageBranch(6, copyWeights: true);
        branch.training.Should().BeFalse("the branch takes the network's mode");
        var branchLogits = branch.call(stage2!);
        (branchLogits - logits).abs().max().item<float>().Should().BeLessThanOrEqualTo(1e-6f);

        // Parameter names mirror the network's last stage and head.
        branch.named_parameters().Select(p => p.name).Should().Equal(
            net.named_parameters().Select(p => p.name).Where(n => n.StartsWith("stage3.", StringComparison.Ordinal) || n.StartsWith("fc.", StringComparison.Ordinal)));

        // A fresh branch computes something else (shows the comparison above can fail).
        using var fresh = net.CreateLastStageBranch(6, copyWeights: false);
        fresh.eval();
        (fresh.call(stage2!) - logits).abs().max().item<float>().Should().BeGreaterThan(1e-3f);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Branch_shares_no_tensor_with_the_network(bool copyWeights)
    {
        using var scope = torch.NewDisposeScope();
        using var net = new ResNetCifar(8, SmallWidths, 4, numClasses: 10);
        var before = net.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        using var branch = net.CreateLastStageBranch(10, copyWeights);
        var branchState = branch.state_dict();
        branchState.Should().NotBeEmpty();
        foreach (var (name, value) in branchState)
        {
            if (!copyWeights && value.dim() == 4)
            {
                Same(value, net.state_dict()[name]).Should().BeFalse($"{name} is freshly initialised");
            }
        }

        // Overwrite every branch tensor in place: the network must not see it.
        using (no_grad())
        {
            foreach (var value in branchState.Values)
            {
                value.fill_(7);
            }
        }

        foreach (var (name, value) in net.state_dict())
        {
            Same(value, before[name]).Should().BeTrue($"{name} is unchanged by writes to the branch");
        }
    }

    [Fact]
    public void Branch_for_another_class_count_is_fresh_only()
    {
        using var scope = torch.NewDisposeScope();
        using var net = new ResNetCifar(8, SmallWidths, 4, numClasses: 10);
        using var branch = net.CreateLastStageBranch(3, copyWeights: false);
        branch.call(randn(2, 8, 4, 4)).shape.Should().Equal(2, 3);
        ((Action)(() => net.CreateLastStageBranch(3, copyWeights: true))).Should().Throw<ArgumentException>()
            .Where(e => e.ParamName == "numClasses").WithMessage("*10*3*");
        ((Action)(() => net.CreateLastStageBranch(1, copyWeights: false))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "numClasses");
    }

    [Fact]
    public void Gradients_reach_every_parameter_of_the_network_and_the_branch()
    {
        using var scope = torch.NewDisposeScope();
        using var net = new ResNetCifar(14, SmallWidths, 4, numClasses: 5, inputChannels: 3);
        using var branch = net.CreateLastStageBranch(5, copyWeights: false);
        Tensor? stage2 = null;
        var stage2Module = (nn.Module<Tensor, Tensor>)net.named_modules().Single(m => m.name == "stage2").module;
        var hook = stage2Module.register_forward_hook((_, _, output) =>
        {
            stage2 = output.alias();
            return output;
        });
        var x = randn(6, 3, 28, 28);
        var y = torch.tensor(new long[] { 0, 1, 2, 3, 4, 0 });
        var logits = net.call(x);
        hook.remove();
        var loss = nn.functional.cross_entropy(logits, y) + nn.functional.cross_entropy(branch.call(stage2!), y);
        loss.backward();
        foreach (var (name, p) in net.named_parameters().Concat(branch.named_parameters().Select(p => ("branch." + p.name, p.parameter))))
        {
            p.grad.Should().NotBeNull(name);
            p.grad!.abs().sum().item<float>().Should().BeGreaterThan(0, name);
        }
    }

    [Fact]
    public void Basic_block_projects_only_when_the_shape_changes()
    {
        using var scope = torch.NewDisposeScope();
        using var same = new BasicBlock(4, 4);
        using var wider = new BasicBlock(4, 8);
        using var strided = new BasicBlock(4, 4, stride: 2);
        same.HasProjection.Should().BeFalse();
        wider.HasProjection.Should().BeTrue();
        strided.HasProjection.Should().BeTrue();
        strided.call(randn(1, 4, 7, 7)).shape.Should().Equal(1, 4, 4, 4);
        ((Action)(() => new BasicBlock(4, 4, stride: 3))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "stride");
        ((Action)(() => new BasicBlock(0, 4))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "inChannels");

        // With zero convolution weights the block is relu(bn2(0) + x) = relu(x) (identity shortcut, BN bias 0).
        using (no_grad())
        {
            foreach (var p in same.parameters().Where(p => p.dim() == 4))
            {
                p.zero_();
            }
        }

        var x = randn(2, 4, 5, 5);
        Same(same.call(x), nn.functional.relu(x)).Should().BeTrue();
    }
}
