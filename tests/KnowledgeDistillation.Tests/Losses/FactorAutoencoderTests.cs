using FluentAssertions;
using KnowledgeDistillation.Losses;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Losses;

public class FactorAutoencoderTests
{
    [Fact]
    public void State_dict_has_the_official_names_and_shapes_and_no_conv_biases()
    {
        using var ae = new FactorAutoencoder(6, 4);
        var shapes = ae.state_dict().Where(p => !p.Key.EndsWith("num_batches_tracked", StringComparison.Ordinal))
            .ToDictionary(p => p.Key, p => p.Value.shape);
        var expected = new Dictionary<string, long[]>();
        void Coder(string prefix, long cin, long cout)
        {
            var channels = new[] { (cin, cin), (cin, cout), (cout, cout) };
            var convs = new[] { (1, 2), (4, 5), (7, 8) };
            for (var i = 0; i < 3; i++)
            {
                var (input, output) = channels[i];
                expected[$"{prefix}.layers.{convs[i].Item1}.weight"] = new[] { output, input, 3, 3 };
                foreach (var entry in new[] { "weight", "bias", "running_mean", "running_var" })
                {
                    expected[$"{prefix}.layers.{convs[i].Item2}.{entry}"] = new[] { output };
                }
            }
        }

        Coder("encoder", 6, 4);
        Coder("decoder", 4, 6);
        shapes.Keys.Should().BeEquivalentTo(expected.Keys);
        foreach (var (name, shape) in expected)
        {
            shapes[name].Should().Equal(shape, name);
        }

        ae.InChannels.Should().Be(6);
        ae.FactorChannels.Should().Be(4);
    }

    [Fact]
    public void Initialisation_is_he_normal_with_fan_out_and_unit_batch_norm()
    {
        random.manual_seed(3);
        using var ae = new FactorAutoencoder(64, 32);
        var state = ae.state_dict();
        foreach (var (name, outChannels) in new[] { ("encoder.layers.1.weight", 64), ("encoder.layers.4.weight", 32), ("decoder.layers.4.weight", 64) })
        {
            var w = state[name];
            var expected = Math.Sqrt(2.0 / (9 * outChannels));
            w.std().item<float>().Should().BeApproximately((float)expected, (float)(0.03 * expected), name);
            Math.Abs(w.mean().item<float>()).Should().BeLessThan((float)(0.03 * expected), name);
        }

        state["encoder.layers.2.weight"].eq(1).all().item<bool>().Should().BeTrue();
        state["encoder.layers.2.bias"].eq(0).all().item<bool>().Should().BeTrue();
    }

    [Fact]
    public void Encode_and_decode_keep_the_spatial_size_and_forward_is_their_composition()
    {
        using var scope = NewDisposeScope();
        random.manual_seed(5);
        using var ae = new FactorAutoencoder(6, 3);
        ae.eval();
        var x = randn(2, 6, 5, 7);
        var factor = ae.Encode(x);
        factor.shape.Should().Equal(2, 3, 5, 7);
        var reconstruction = ae.Decode(factor);
        reconstruction.shape.Should().Equal(2, 6, 5, 7);
        ae.call(x).sub(reconstruction).abs().max().item<float>().Should().Be(0);
    }

    [Fact]
    public void Coder_starts_with_a_leaky_relu_of_slope_0_1()
    {
        // With every conv an identity (centre tap 1) and BN in eval with unit statistics, the coder is lrelu^4 = slope 1e-4 for x < 0.
        using var scope = NewDisposeScope();
        using var coder = new FactorCoder(2, 2);
        coder.eval();
        using (no_grad())
        {
            foreach (var (name, value) in coder.state_dict())
            {
                if (name.EndsWith(".weight", StringComparison.Ordinal) && value.dim() == 4)
                {
                    value.zero_();
                    value[0, 0, 1, 1] = tensor(1.0f);
                    value[1, 1, 1, 1] = tensor(1.0f);
                }
            }
        }

        var x = tensor(new[] { -2.0f, 3.0f }, new long[] { 1, 2, 1, 1 });
        var y = coder.call(x).reshape(-1).data<float>().ToArray();
        var bnScale = 1 / Math.Sqrt(1 + 1e-5);
        y[0].Should().BeApproximately((float)(-2 * 1e-4 * Math.Pow(bnScale, 3)), 1e-9f);
        y[1].Should().BeApproximately((float)(3 * Math.Pow(bnScale, 3)), 1e-6f);
    }

    [Fact]
    public void Bad_inputs_throw_naming_the_argument_and_the_expected_shape()
    {
        using var scope = NewDisposeScope();
        using var ae = new FactorAutoencoder(6, 3);
        FluentActions.Invoking(() => ae.Encode(randn(2, 5, 4, 4))).Should().Throw<ArgumentException>()
            .WithMessage("*[batch, 6, height, width]*[2, 5, 4, 4]*").Which.ParamName.Should().Be("feature");
        FluentActions.Invoking(() => ae.Encode(randn(6, 4, 4))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("feature");
        FluentActions.Invoking(() => ae.Encode(ones(new long[] { 1, 6, 2, 2 }, ScalarType.Int64))).Should().Throw<ArgumentException>()
            .WithMessage("*floating point*").Which.ParamName.Should().Be("feature");
        FluentActions.Invoking(() => ae.Decode(randn(2, 6, 4, 4))).Should().Throw<ArgumentException>()
            .WithMessage("*[batch, 3, height, width]*").Which.ParamName.Should().Be("factor");
        FluentActions.Invoking(() => new FactorAutoencoder(0, 3)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("inChannels");
        FluentActions.Invoking(() => new FactorAutoencoder(4, 0)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("factorChannels");
    }
}
