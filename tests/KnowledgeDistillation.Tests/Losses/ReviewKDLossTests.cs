using FluentAssertions;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Models;
using KnowledgeDistillation.Tests.Support;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Losses;

[Collection(SerialCollection.Name)]
public class ReviewKDLossTests
{
    internal static readonly FeaturePair[] Pairs = { new("s1", "t1"), new("s2", "t2"), new("s3", "t3") };

    private static ReviewReference R => ContrastiveTermFixtures.Data.Reviewkd;

    /// <summary>The fixture's chain: 3 → 5, 4 → 6, 4 → 6 channels, C_mid 4, float64, fixture weights.</summary>
    internal static IReadOnlyList<ReviewFusion> FixtureFusions()
    {
        var fusions = ReviewFusion.Chain(new long[] { 3, 4, 4 }, new long[] { 5, 6, 6 });
        using var noGrad = no_grad();
        for (var i = 0; i < fusions.Count; i++)
        {
            fusions[i].to(ScalarType.Float64);
            var parameters = fusions[i].named_parameters().ToDictionary(p => p.name, p => p.parameter);
            parameters.Keys.Should().BeEquivalentTo(R.Weights[i].Keys, "the C# module uses the reference module's parameter names");
            foreach (var (name, value) in R.Weights[i])
            {
                parameters[name].copy_(value.ToTensor());
            }
        }

        return fusions;
    }

    internal static DistillationContext Context(Tensor[] students, Tensor[] teachers, int epoch = 0)
    {
        var batchSize = students[0].shape[0];
        var outputs = new Dictionary<string, ModelOutput>
        {
            ["student"] = new(zeros(batchSize, 3, ScalarType.Float64), students.Select((s, i) => ($"s{i + 1}", s)).ToDictionary(p => p.Item1, p => p.s)),
            ["teacher"] = new(zeros(batchSize, 3, ScalarType.Float64), teachers.Select((t, i) => ($"t{i + 1}", t)).ToDictionary(p => p.Item1, p => p.t)),
        };
        return new DistillationContext(new Batch(zeros(batchSize, 1), null, arange(batchSize, ScalarType.Int64)), outputs, epoch: epoch);
    }

    [Fact]
    public void Value_and_gradients_of_features_and_fusion_modules_match_pytorch()
    {
        using var scope = NewDisposeScope();
        var fusions = FixtureFusions();
        var loss = Loss.ReviewKD(Pairs, fusions, warmupEpochs: 0);
        loss.TrainableModules.Should().Equal(fusions);
        var teachers = R.Teachers.Select(t => t.ToTensor()).ToArray();
        var (value, grads) = DistillationTermFixtures.ValueAndGrads(s => loss.Compute(Context(s, teachers)).Total, R.Students.Select(s => s.ToTensor()).ToArray());
        value.ShouldBeClose(R.Value, 1e-10, "reviewkd");
        for (var i = 0; i < 3; i++)
        {
            grads[i].ShouldMatch(R.Grads[i], 1e-10, $"reviewkd gradient w.r.t. student feature {i + 1}");
            foreach (var (name, parameter) in fusions[i].named_parameters())
            {
                parameter.grad!.ShouldMatch(R.WeightGrads[i][name], 1e-10, $"reviewkd gradient w.r.t. fusion {i + 1} {name}");
            }
        }
    }

    [Theory]
    [InlineData(0, 0.05)]
    [InlineData(9, 0.5)]
    [InlineData(19, 1.0)]
    [InlineData(40, 1.0)]
    public void The_warm_up_follows_mdistiller_with_epochs_counted_from_one(int epoch, double factor)
    {
        using var scope = NewDisposeScope();
        var loss = Loss.ReviewKD(Pairs, FixtureFusions());
        var value = loss.Compute(Context(R.Students.Select(s => s.ToTensor()).ToArray(), R.Teachers.Select(t => t.ToTensor()).ToArray(), epoch)).Total.item<double>();
        value.ShouldBeClose(factor * R.Value, 1e-10, $"reviewkd at epoch {epoch}");
    }

    [Fact]
    public void Hcl_weights_the_pooled_levels_by_halves()
    {
        using var scope = NewDisposeScope();
        // A 4x4 map of ones against zeros: every level's mse is 1, so HCL = (1 + 1/2 + 1/4) / (1 + 1/2 + 1/4) = 1 whatever the weights;
        // a map whose mean is 0 but values are not: full mse 1, pooled mse 0 at 2x2 and 1x1 -> 1 / 1.75.
        var checker = tensor(new double[] { 1, -1, 1, -1, -1, 1, -1, 1, 1, -1, 1, -1, -1, 1, -1, 1 }, new long[] { 1, 1, 4, 4 });
        ReviewKDLoss.HierarchicalContextLoss(checker, zeros(1, 1, 4, 4, ScalarType.Float64)).item<double>().ShouldBeClose(1 / 1.75, 1e-15, "hcl");
        ReviewKDLoss.HierarchicalContextLoss(ones(1, 1, 1, 1, ScalarType.Float64), zeros(1, 1, 1, 1, ScalarType.Float64)).item<double>().Should().Be(1.0, "a 1x1 map has no pooled level");
    }

    [Fact]
    public void Bad_construction_is_rejected()
    {
        var chain = ReviewFusion.Chain(new long[] { 3, 4 }, new long[] { 5, 6 });
        ((Action)(() => Loss.ReviewKD(Pairs, chain))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "fusions").WithMessage("*3 pairs, 2 modules*");
        ((Action)(() => Loss.ReviewKD(Pairs.Take(2).ToArray(), chain.Reverse().ToArray()))).Should().Throw<ArgumentException>().WithMessage("*deepest*");
        ((Action)(() => Loss.ReviewKD(Pairs.Take(2).ToArray(), chain, warmupEpochs: -1))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "warmupEpochs");
        ((Action)(() => ReviewFusion.Chain(new long[] { 3 }, new long[] { 5, 6 }))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "teacherChannels");
        ((Action)(() => new ReviewFusion(0, 4, 5, true))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "inChannels");
    }

    [Fact]
    public void The_reviewkd_recipe_trains_the_fusions_and_leaves_the_teacher_alone()
    {
        using var data = SyntheticData.Images(16, classes: 4, seed: 11);
        random.manual_seed(12);
        using var teacherNet = new SmallCnn(new[] { 8, 6 }, numClasses: 4);
        using var studentNet = new SmallCnn(new[] { 4, 8 }, numClasses: 4);
        using var teacher = Teacher.FromModule(teacherNet);
        using var student = Student.FromModule(studentNet);
        var fusions = ReviewFusion.Chain(new long[] { 4, 8 }, new long[] { 8, 6 });
        var recipe = Recipes.ReviewKD(new FeaturePair[] { "features.block1", "features.block2" }, fusions, warmupEpochs: 1);
        recipe.Stages.Single().Loss.TrainableModules.Should().Equal(fusions);
        var before = Weights(fusions[0]);
        var teacherBefore = Weights(teacherNet);
        using var distiller = new Distiller(new IDistillationModel[] { teacher, student }, recipe, new DistillerOptions { Epochs = 1, Seed = 13 });
        var result = distiller.Fit(new DataLoader(data, 8, seed: 14));
        result.History.Single().LossParts.Should().ContainKeys("ce", "reviewkd");
        double.IsFinite(result.History.Single().Loss).Should().BeTrue();
        Weights(fusions[0]).Should().NotEqual(before);
        Weights(teacherNet).Should().Equal(teacherBefore);
    }

    private static double[] Weights(nn.Module module) =>
        module.parameters().SelectMany(p => p.detach().cpu().to_type(ScalarType.Float64).reshape(-1).data<double>().ToArray()).ToArray();
}

/// <summary>The loss contract for ReviewKD with the fixture's fusion chain (its parameters are checked by finite differences too).</summary>
public sealed class ReviewKDLossContractTests : LossContractTests
{
    private static ReviewReference R => ContrastiveTermFixtures.Data.Reviewkd;

    protected override IDistillationLoss CreateLoss() => Loss.ReviewKD(ReviewKDLossTests.Pairs, ReviewKDLossTests.FixtureFusions(), warmupEpochs: 0);

    protected override LossContractCase CreateCase(Device device) =>
        DistillationTermFixtures.FeatureCase(
            device,
            R.Students.Select((s, i) => ($"s{i + 1}", s)).ToArray(),
            R.Teachers.Select((t, i) => ($"t{i + 1}", t)).ToArray(),
            R.Value);

    protected override IEnumerable<LossBadInput> BadInputs => base.BadInputs
        .Concat(DistillationTermFixtures.FeatureBadInputs("s1", "t1"))
        .Append(new("a student map with other channels than its fusion module's", c =>
            DistillationTermFixtures.WithFeature(c, "student", "s2", zeros(2, 5, 4, 4, ScalarType.Float64)), typeof(ArgumentException)))
        .Append(new("a teacher map with other channels than its fusion module's output", c =>
            DistillationTermFixtures.WithFeature(c, "teacher", "t1", zeros(2, 7, 8, 8, ScalarType.Float64)), typeof(ArgumentException)))
        .Append(new("a rank-3 student feature", c =>
            DistillationTermFixtures.WithFeature(c, "student", "s1", zeros(2, 3, 8, ScalarType.Float64)), typeof(ArgumentException)));
}
