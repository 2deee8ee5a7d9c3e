using FluentAssertions;
using KnowledgeDistillation.Detection.Losses;
using KnowledgeDistillation.Detection.Tests.Support;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Detection.Tests.Losses;

/// <summary>Every ICD piece against tests/fixtures/generate_detection_fixtures.py (PyTorch 1.13, float64): values and gradients.</summary>
public sealed class IcdFixtureTests
{
    private static readonly System.Text.Json.JsonElement Fixture = Json.Load("detection_terms.json");

    [Fact]
    public void Sine_embedding_matches()
    {
        var c = Fixture.GetProperty("sine");
        Close.Assert(SineEmbedding.Encode(Json.Tensor(c.GetProperty("coords")), c.GetProperty("features").GetInt32()), Json.Tensor(c.GetProperty("output")));
    }

    [Fact]
    public void Instance_descriptor_matches_class_position_and_scale_bins()
    {
        var c = Fixture.GetProperty("descriptor");
        using var encoder = new InstanceEncoder(c.GetProperty("num_classes").GetInt32(), c.GetProperty("dim").GetInt32());
        var descriptor = encoder.Descriptor(Json.Long(c.GetProperty("classes")), Json.Tensor(c.GetProperty("refs")), Json.Tensor(c.GetProperty("sizes")));
        Close.Assert(descriptor, Json.Tensor(c.GetProperty("output")));
        // Scale bins by hand: size 5 -> floor(1.44 ln 5 - 5) = -3 -> 0; 90 -> floor(1.48) = 1; 400 -> floor(3.63) = 3; 700 -> 4.
        var bins = descriptor[.., (3 + 16)..].reshape(4, 2, 5).argmax(-1);
        bins.data<long>().ToArray().Should().Equal(0, 0, 0, 1, 2, 3, 0, 4);
    }

    [Fact]
    public void Decoder_matches_outputs_attention_logits_values_and_gradients()
    {
        var c = Fixture.GetProperty("decoder");
        using var decoder = new IcdDecoder(c.GetProperty("dim").GetInt32(), c.GetProperty("heads").GetInt32());
        Modules.Load(decoder, c.GetProperty("params"));
        var q = Json.Tensor(c.GetProperty("queries"), requiresGrad: true);
        var ft = Json.Tensor(c.GetProperty("teacher"), requiresGrad: true);
        var output = decoder.call(q, ft, Json.Tensor(c.GetProperty("pe")), Json.Bool(c.GetProperty("padding")));
        Close.Assert(output.Queries, Json.Tensor(c.GetProperty("output")), 1e-9);
        Close.Assert(output.AttentionLogits, Json.Tensor(c.GetProperty("logits")), 1e-9);
        Close.Assert(output.TeacherValues, Json.Tensor(c.GetProperty("values")), 1e-9);
        (output.Queries * Json.Tensor(c.GetProperty("projection"))).sum().backward();
        Close.Assert(q.grad!, Json.Tensor(c.GetProperty("grad_queries")), 1e-9);
        Close.Assert(ft.grad!, Json.Tensor(c.GetProperty("grad_teacher")), 1e-9);
    }

    [Fact]
    public void Masked_feature_loss_matches_values_and_student_gradients()
    {
        foreach (var c in Fixture.GetProperty("masked_feature").EnumerateArray())
        {
            var vs = Json.Tensor(c.GetProperty("student"), requiresGrad: true);
            var loss = IcdLoss.MaskedFeatureLoss(vs, Json.Tensor(c.GetProperty("teacher")), Json.Tensor(c.GetProperty("logits")), Json.Bool(c.GetProperty("real")), c.GetProperty("tau").GetDouble(), c.GetProperty("lambda").GetDouble());
            loss.item<double>().Should().BeApproximately(c.GetProperty("value").GetDouble(), 1e-10);
            loss.backward();
            Close.Assert(vs.grad!, Json.Tensor(c.GetProperty("grad_student")));
        }
    }

    [Fact]
    public void Auxiliary_loss_matches_values_and_gradients()
    {
        var c = Fixture.GetProperty("auxiliary");
        var aux = Json.Tensor(c.GetProperty("aux"), requiresGrad: true);
        var queries = new IcdQueries(zeros(2, 4, dtype: ScalarType.Int64), Json.Tensor(c.GetProperty("refs")), ones(2, 4, 2, dtype: ScalarType.Float64), Json.Tensor(c.GetProperty("boxes")), Json.Bool(c.GetProperty("valid")), Json.Bool(c.GetProperty("real")));
        var (identification, localisation, accuracy) = IcdLoss.AuxiliaryLoss(aux, queries);
        identification.item<double>().Should().BeApproximately(c.GetProperty("identification").GetDouble(), 1e-12);
        localisation.item<double>().Should().BeApproximately(c.GetProperty("localisation").GetDouble(), 1e-12);
        accuracy.requires_grad.Should().BeFalse();
        (identification + localisation).backward();
        Close.Assert(aux.grad!, Json.Tensor(c.GetProperty("grad_aux")));
    }
}
