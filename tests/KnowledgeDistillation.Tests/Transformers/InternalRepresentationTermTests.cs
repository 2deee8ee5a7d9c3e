using FluentAssertions;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Tests.Losses;
using KnowledgeDistillation.Tests.Support;
using KnowledgeDistillation.Transformers;
using KnowledgeDistillation.Transformers.Losses;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Transformers;

/// <summary>Serial: these tests seed and draw from TorchSharp's global generator, which exact-reproducibility tests elsewhere need to themselves.</summary>
[Collection(SerialCollection.Name)]
public sealed class InternalRepresentationTermTests
{
    private static TermFixtures Terms => BertFixtures.Data.Terms;

    [Fact]
    public void Attention_KL_matches_PyTorch_in_value_and_in_the_gradient_of_the_student_scores()
    {
        var f = Terms.Attention;
        using var scope = NewDisposeScope();
        var mask = f.Mask.ToTensor();
        var scores = f.StudentScores.ToTensor().requires_grad_();
        var probabilities = (scores + (1 - mask).view(mask.shape[0], 1, 1, mask.shape[1]) * -1e30).softmax(-1);
        var value = AttentionKLLoss.Value(probabilities, f.Teacher.ToTensor(), mask);
        value.backward();
        value.item<double>().Should().BeApproximately(f.Value, 1e-10);
        scores.grad!.ShouldMatch(f.ScoresGrad, 1e-10, "gradient w.r.t. student scores");
    }

    [Fact]
    public void Attention_KL_oracle_of_the_method_note()
    {
        using var scope = NewDisposeScope();
        var teacher = tensor(new[] { 0.5, 0.5, 0.9, 0.1 }, new long[] { 1, 1, 2, 2 });
        var student = tensor(new[] { 0.25, 0.75, 0.5, 0.5 }, new long[] { 1, 1, 2, 2 });
        var mask = ones(1, 2, ScalarType.Float64);
        AttentionKLLoss.Value(student, teacher, mask).item<double>().Should().BeApproximately(0.255953, 1e-6);
    }

    [Fact]
    public void Attention_KL_is_zero_with_zero_gradient_for_identical_maps_and_ignores_padded_queries_and_keys()
    {
        using var scope = NewDisposeScope();
        var mask = tensor(new[] { 1.0, 1.0, 0.0 }, new long[] { 1, 3 });
        var scores = randn(1, 2, 3, 3, ScalarType.Float64);
        var additive = (1 - mask).view(1, 1, 1, 3) * -1e30;
        var teacher = (scores + additive).softmax(-1);
        var studentScores = scores.clone().requires_grad_();
        var same = AttentionKLLoss.Value((studentScores + additive).softmax(-1), teacher, mask);
        same.backward();
        same.item<double>().Should().BeApproximately(0, 1e-12);
        studentScores.grad!.abs().max().item<double>().Should().BeLessThan(1e-12);

        var other = (randn(1, 2, 3, 3, ScalarType.Float64) + additive).softmax(-1);
        var baseline = AttentionKLLoss.Value(other, teacher, mask).item<double>();
        var changedPadRow = other.clone();
        changedPadRow[TensorIndex.Colon, TensorIndex.Colon, 2] = tensor(new[] { 0.2, 0.3, 0.5 }, ScalarType.Float64);
        AttentionKLLoss.Value(changedPadRow, teacher, mask).item<double>().Should().BeApproximately(baseline, 1e-12, "padded query rows do not count");
        double.IsFinite(baseline).Should().BeTrue("padded keys have probability 0 in both maps and add nothing");
    }

    [Fact]
    public void Cls_cosine_matches_PyTorch_with_and_without_a_projection()
    {
        var f = Terms.Cls;
        using var scope = NewDisposeScope();
        var projections = new LayerProjections(LayerMap.Explicit((1, 1)), 4, 6).to(ScalarType.Float64);
        using (no_grad())
        {
            projections.For(1).weight!.copy_(f.Weight.ToTensor());
            projections.For(1).bias!.copy_(f.Bias.ToTensor());
        }

        var student = f.Student.ToTensor().requires_grad_();
        var loss = new ClsCosineLoss(LayerMap.Explicit((1, 1)), projections);
        var value = loss.Compute(Context(("hidden.1", student), ("hidden.1", f.Teacher.ToTensor()), ones(3, 5))).Total;
        value.backward();
        value.item<double>().Should().BeApproximately(f.Value, 1e-10);
        student.grad!.ShouldMatch(f.StudentGrad, 1e-10, "student gradient");
        projections.For(1).weight!.grad!.ShouldMatch(f.WeightGrad, 1e-10, "projection weight gradient");
        projections.For(1).bias!.grad!.ShouldMatch(f.BiasGrad, 1e-10, "projection bias gradient");
        loss.TrainableModules.Should().ContainSingle().Which.Should().BeSameAs(projections);

        var same = f.SameWidthStudent.ToTensor().requires_grad_();
        var plain = new ClsCosineLoss(LayerMap.Explicit((1, 1))).Compute(Context(("hidden.1", same), ("hidden.1", f.Teacher.ToTensor()), ones(3, 5))).Total;
        plain.backward();
        plain.item<double>().Should().BeApproximately(f.SameWidthValue, 1e-10);
        same.grad!.ShouldMatch(f.SameWidthGrad, 1e-10, "same-width gradient");
    }

    [Fact]
    public void Cls_cosine_oracle_of_the_method_note()
    {
        using var scope = NewDisposeScope();
        var teacher = tensor(new[] { 1.0, 0, 1 }, new long[] { 1, 3 });
        var student = tensor(new[] { 1.0, 1, 0 }, new long[] { 1, 3 });
        ClsCosineLoss.Value(student, teacher).item<double>().Should().BeApproximately(0.5, 1e-12);
        ClsCosineLoss.Value(student * 7.5, teacher * 0.2).item<double>().Should().BeApproximately(0.5, 1e-12);
        ClsCosineLoss.Value(-teacher, teacher).item<double>().Should().BeApproximately(2.0, 1e-12);
    }

    [Fact]
    public void Hidden_state_MSE_with_a_projection_matches_PyTorch_over_real_tokens()
    {
        var f = Terms.Hidden;
        using var scope = NewDisposeScope();
        var projections = new LayerProjections(LayerMap.Explicit((2, 4)), 4, 6).to(ScalarType.Float64);
        using (no_grad())
        {
            projections.For(2).weight!.copy_(f.Weight.ToTensor());
            projections.For(2).bias!.copy_(f.Bias.ToTensor());
        }

        var student = f.Student.ToTensor().requires_grad_();
        var value = TransformerLosses.HiddenMse(LayerMap.Explicit((2, 4)), projections)
            .Compute(Context(("hidden.2", student), ("hidden.4", f.Teacher.ToTensor()), f.Mask.ToTensor())).Total;
        value.backward();
        value.item<double>().Should().BeApproximately(f.Value, 1e-10);
        student.grad!.ShouldMatch(f.StudentGrad, 1e-10, "student gradient");
        projections.For(2).weight!.grad!.ShouldMatch(f.WeightGrad, 1e-10, "projection weight gradient");
        projections.For(2).bias!.grad!.ShouldMatch(f.BiasGrad, 1e-10, "projection bias gradient");
    }

    [Fact]
    public void Embedding_matching_reads_the_embedding_outputs_and_ignores_padding()
    {
        using var scope = NewDisposeScope();
        var mask = tensor(new[] { 1.0f, 1, 0 }, new long[] { 1, 3 });
        var teacher = randn(1, 3, 4);
        var student = teacher.clone();
        student[0, 2] = full(4, 100f);
        var loss = TransformerLosses.EmbeddingMatch();
        loss.Name.Should().Be("embedding_mse");
        loss.Requirements.Features.Select(r => r.Feature).Should().Contain(BertFeatures.Embeddings);
        loss.Compute(Context(("embeddings", student), ("embeddings", teacher), mask)).Total.item<float>().Should().Be(0f);
        student[0, 1] = teacher[0, 1] + 2f;
        // 4 values of 4 squared error over 2 real tokens x 4 widths.
        loss.Compute(Context(("embeddings", student), ("embeddings", teacher), mask)).Total.item<float>().Should().BeApproximately(2f, 1e-6f);
    }

    [Fact]
    public void Layer_maps_pair_the_intended_layers()
    {
        LayerMap.Uniform(6, 12).Pairs.Select(p => p.Teacher).Should().Equal(2, 4, 6, 8, 10, 12);
        LayerMap.Uniform(2, 4).Pairs.Should().Equal((1, 2), (2, 4));
        LayerMap.Uniform(3, 4).Pairs.Select(p => p.Teacher).Should().Equal(1, 3, 4);
        LayerMap.Last(2, 4).Pairs.Should().Equal((1, 3), (2, 4));
        LayerMap.Explicit((1, 4), (2, 2)).Pairs.Should().Equal((1, 4), (2, 2));
        ((Action)(() => LayerMap.Explicit((1, 2), (1, 3)))).Should().Throw<ArgumentException>().WithMessage("*once*");
        ((Action)(() => new AttentionKLLoss(LayerMap.Explicit((0, 0))))).Should().Throw<ArgumentException>().WithMessage("*outside*");
    }

    [Fact]
    public void Terms_read_the_paired_features_of_each_layer_by_id()
    {
        // Features whose values are their layer ids: the KL of student layer j must meet teacher layer 2j.
        using var scope = NewDisposeScope();
        var map = LayerMap.Uniform(6, 12);
        var mask = ones(1, 2);
        var student = new Dictionary<string, Tensor> { [BertFeatures.AttentionMask] = mask };
        var teacher = new Dictionary<string, Tensor> { [BertFeatures.AttentionMask] = mask };
        for (var l = 1; l <= 12; l++)
        {
            // layer l's [CLS] vector is (1, l): the cosine of student j against teacher t is known in closed form.
            var v = tensor(new[] { 1f, l, 1f, l }, new long[] { 1, 2, 2 });
            teacher[BertFeatures.Hidden(l)] = v;
            if (l <= 6)
            {
                student[BertFeatures.Hidden(l)] = v.clone();
            }
        }

        var outputs = new Dictionary<string, ModelOutput> { ["student"] = new(null, student), ["teacher"] = new(null, teacher) };
        var result = new ClsCosineLoss(map).Compute(new DistillationContext(new Batch(zeros(1, 2), null, zeros(1, ScalarType.Int64)), outputs));
        for (var j = 1; j <= 6; j++)
        {
            var t = 2 * j;
            var expected = 1 - (1 + j * t) / (Math.Sqrt(1 + j * j) * Math.Sqrt(1 + t * t));
            result.Parts[$"cls_cosine.layer{j}"].item<float>().Should().BeApproximately((float)expected, 1e-6f, "student layer {0} meets teacher layer {1}", j, t);
        }
    }

    [Fact]
    public void PID_and_SID_stages_weight_only_the_current_layer_or_the_layers_up_to_it_then_KD()
    {
        var map = LayerMap.Uniform(3, 6);
        var pid = TransformerRecipes.InternalDistillation(map, new InternalDistillationOptions { Schedule = InternalDistillationSchedule.Progressive, EpochsPerStage = 2 });
        var sid = TransformerRecipes.InternalDistillation(map, new InternalDistillationOptions { Schedule = InternalDistillationSchedule.Stacked, EpochsPerStage = 2 });
        var all = TransformerRecipes.InternalDistillation(map, new InternalDistillationOptions { Schedule = InternalDistillationSchedule.AllLayers, EpochsPerStage = 3 });
        pid.Stages.Select(s => s.Name).Should().Equal("layer1", "layer2", "layer3", "kd");
        sid.Stages.Select(s => s.Name).Should().Equal("layer1", "layer2", "layer3", "kd");
        all.Stages.Select(s => s.Name).Should().Equal("internal", "kd");
        pid.Stages.Take(3).Should().OnlyContain(s => s.Epochs == 2);
        pid.Stages[^1].Epochs.Should().BeNull("by default the soft-label stage takes the run's epoch count");
        TransformerRecipes.InternalDistillation(map, new InternalDistillationOptions { KdEpochs = 5 }).Stages[^1].Epochs.Should().Be(5);

        for (var i = 0; i < 3; i++)
        {
            StudentLayers(pid.Stages[i].Loss).Should().Equal(new[] { i + 1 }, "PID stage {0} reads only its layer", i + 1);
            StudentLayers(sid.Stages[i].Loss).Should().Equal(Enumerable.Range(1, i + 1), "SID stage {0} stacks the layers below", i + 1);
        }

        StudentLayers(all.Stages[0].Loss).Should().Equal(1, 2, 3);
        pid.Stages[^1].Loss.Requirements.LogitsOf.Should().BeEquivalentTo("student", "teacher");
    }

    [Fact]
    public void Teacher_parameters_receive_no_gradient_through_the_terms()
    {
        torch.random.manual_seed(4);
        var config = new BertConfig { VocabSize = 20, HiddenSize = 8, NumHiddenLayers = 2, NumAttentionHeads = 2, IntermediateSize = 16, MaxPositionEmbeddings = 8 };
        using var teacher = new BertForSequenceClassification(config);
        using var student = new BertForSequenceClassification(config with { NumHiddenLayers = 1 });
        using var scope = NewDisposeScope();
        var ids = tensor(new long[] { 2, 5, 6, 3, 0, 2, 7, 3, 0, 0 }, new long[] { 2, 5 });
        var outputs = new Dictionary<string, ModelOutput> { ["student"] = student.call(ids), ["teacher"] = teacher.call(ids) };
        var loss = TransformerRecipes.Internal(LayerMap.Uniform(1, 2), new InternalDistillationOptions { HiddenWeight = 1 });
        var total = loss.Compute(new DistillationContext(new Batch(ids, null, arange(2)), outputs)).Total;
        total.backward();
        teacher.parameters().All(p => p.grad is null || p.grad.abs().max().item<float>() == 0f).Should().BeTrue("the teacher is a detached target");
        student.parameters().Count(p => p.grad is not null).Should().BeGreaterThan(0);
    }

    private static int[] StudentLayers(IDistillationLoss loss) =>
        loss.Requirements.Features.Where(r => r.Participant == "student" && r.Feature.StartsWith("attention.", StringComparison.Ordinal))
            .Select(r => int.Parse(r.Feature["attention.".Length..], System.Globalization.CultureInfo.InvariantCulture)).Order().ToArray();

    private static DistillationContext Context((string Name, Tensor Value) student, (string Name, Tensor Value) teacher, Tensor mask)
    {
        var outputs = new Dictionary<string, ModelOutput>
        {
            ["student"] = new(null, new Dictionary<string, Tensor> { [student.Name] = student.Value, [BertFeatures.AttentionMask] = mask }),
            ["teacher"] = new(null, new Dictionary<string, Tensor> { [teacher.Name] = teacher.Value, [BertFeatures.AttentionMask] = mask }),
        };
        return new DistillationContext(new Batch(zeros(mask.shape[0], 1), null, arange(mask.shape[0])), outputs);
    }
}
