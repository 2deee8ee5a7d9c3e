using System.Reflection;
using System.Text.RegularExpressions;
using FluentAssertions;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Losses;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Losses;

/// <summary>
/// The catalogue (<see cref="Loss"/>, <see cref="Recipes"/>): every factory is exercised, every term is named by the
/// scheme (lower-case words joined by '-') and every part it reports is its name or "name.sub" with one dot.
/// Serial: the fixture draws from TorchSharp's global generator, which other tests seed for exact values.
/// </summary>
[Collection(Support.SerialCollection.Name)]
public sealed class CatalogueTests
{
    private static readonly Regex Word = new("^[a-z0-9]+(-[a-z0-9]+)*$", RegexOptions.CultureInvariant);
    private static readonly string[] Combinators = { nameof(Loss.Of), nameof(Loss.Sum), nameof(Loss.Weighted), nameof(Loss.Scheduled) };

    [Fact]
    public void Every_loss_factory_names_its_parts_after_its_terms()
    {
        using var scope = NewDisposeScope();
        using var fixture = new Fixture();
        foreach (var (factory, loss) in fixture.Losses())
        {
            CheckParts(factory, loss, fixture.Context(DistillationRecipe.SingleStage));
        }
    }

    [Fact]
    public void Every_recipe_names_its_parts_after_its_terms()
    {
        using var scope = NewDisposeScope();
        using var fixture = new Fixture();
        foreach (var (factory, recipe) in fixture.Recipes())
        {
            Word.IsMatch(recipe.Name).Should().BeTrue($"recipe name '{recipe.Name}' of {factory} follows the naming scheme");
            foreach (var stage in recipe.Stages)
            {
                CheckParts($"{factory} stage '{stage.Name}'", stage.Loss, fixture.Context(stage.Name));
            }
        }
    }

    [Fact]
    public void Every_public_factory_is_covered_by_these_tests()
    {
        using var fixture = new Fixture();
        var lossFactories = Factories(typeof(Loss)).Except(Combinators);
        var recipeFactories = Factories(typeof(Recipes)).Except(new[] { nameof(Recipes.Of) });
        fixture.Losses().Select(l => l.Factory).Should().Contain(lossFactories, "a new Loss factory must be added to this test");
        fixture.Recipes().Select(r => r.Factory).Should().Contain(recipeFactories, "a new recipe must be added to this test");
    }

    [Fact]
    public void The_sokd_recipe_evaluates_the_bridge_on_the_teacher()
    {
        using var scope = NewDisposeScope();
        using var fixture = new Fixture();
        var recipe = fixture.Recipes().Single(r => r.Factory == nameof(Recipes.Sokd)).Recipe;
        using var teacherNet = nn.Linear(1, 3);
        using var studentNet = nn.Linear(1, 3);
        using var teacher = Teacher.FromModule(teacherNet);
        using var student = Student.FromModule(studentNet);
        using var distiller = new Distiller(new IDistillationModel[] { teacher, student }, recipe);
        distiller.Stages.Should().Equal(recipe.Stages);
        distiller.EvaluationModels.Select(m => m.Name).Should().Equal("bridge");
    }

    private static IEnumerable<string> Factories(Type catalogue) =>
        catalogue.GetMethods(BindingFlags.Public | BindingFlags.Static | BindingFlags.DeclaredOnly).Select(m => m.Name).Distinct();

    private static IEnumerable<IDistillationLoss> Terms(IDistillationLoss loss) => loss switch
    {
        SumLoss sum => sum.Terms.SelectMany(Terms),
        WeightedLoss weighted => Terms(weighted.Inner),
        _ => new[] { loss },
    };

    private static void CheckParts(string what, IDistillationLoss loss, DistillationContext context)
    {
        var terms = Terms(loss).ToArray();
        foreach (var term in terms)
        {
            Word.IsMatch(term.Name).Should().BeTrue($"term name '{term.Name}' of {what} is lower-case words joined by '-'");
        }

        var parts = loss.Compute(context).Parts.Keys.ToArray();
        parts.Should().NotBeEmpty(what);
        foreach (var part in parts)
        {
            var owner = terms.Where(t => part == t.Name || part.StartsWith(t.Name + ".", StringComparison.Ordinal)).ToArray();
            owner.Should().ContainSingle($"part '{part}' of {what} starts with exactly one term's name");
            if (part != owner[0].Name)
            {
                Word.IsMatch(part[(owner[0].Name.Length + 1)..]).Should().BeTrue($"sub-part '{part}' of {what} is 'name.sub' with sub in the naming scheme");
            }
        }

        foreach (var term in terms)
        {
            parts.Should().Contain(term.Name, $"{what} reports term '{term.Name}' under its name");
        }
    }

    /// <summary>Participants student, teacher, peer1, peer2, first, second: logits [4, 3], feature "f" [4, 8, 2, 2].</summary>
    private sealed class Fixture : IDisposable
    {
        private const string Feature = "f";
        private readonly List<IDisposable> _owned = new();

        public Fixture()
        {
            Autoencoder = Own(new FactorAutoencoder(8, 4));
            SecondAutoencoder = Own(new FactorAutoencoder(8, 4));
            Bridge = Own(nn.Sequential(("conv", nn.Conv2d(8, 8, 1)), ("flat", nn.Flatten()), ("fc", nn.Linear(32, 3))));
            CrdHeads = (Own(new CrdEmbedding(32, 8)), Own(new CrdEmbedding(32, 8)));
            Fusions = ReviewFusion.Chain(new long[] { 8 }, new long[] { 8 }).Select(f => Own(f)).ToArray();
        }

        public IReadOnlyList<ReviewFusion> Fusions { get; }

        public (CrdEmbedding Student, CrdEmbedding Teacher) CrdHeads { get; }

        public FactorAutoencoder Autoencoder { get; }

        public FactorAutoencoder SecondAutoencoder { get; }

        public nn.Module<Tensor, Tensor> Bridge { get; }

        private static string[] Peers => new[] { "peer1", "peer2" };

        private static ChannelSplit Split => ChannelSplit.Natural(8);

        public DistillationContext Context(string stage)
        {
            var outputs = new[] { "student", "teacher", "peer1", "peer2", "first", "second" }.ToDictionary(
                p => p,
                p => new ModelOutput(randn(4, 3), new Dictionary<string, Tensor> { [Feature] = randn(4, 8, 2, 2) }));
            var batch = new KnowledgeDistillation.Data.Batch(zeros(4, 1), tensor(new long[] { 0, 1, 2, 1 }), arange(4, ScalarType.Int64));
            return new DistillationContext(batch, outputs, stage);
        }

        public IReadOnlyList<(string Factory, IDistillationLoss Loss)> Losses() => new (string, IDistillationLoss)[]
        {
            (nameof(Loss.CrossEntropy), Loss.CrossEntropy(labelSmoothing: 0.1)),
            (nameof(Loss.KD), Loss.KD()),
            (nameof(Loss.LogitMatching), Loss.LogitMatching()),
            (nameof(Loss.InfiniteTemperatureKD), Loss.InfiniteTemperatureKD()),
            (nameof(Loss.RectifiedKD), Loss.RectifiedKD()),
            (nameof(Loss.VirtualTeacherKD), Loss.VirtualTeacherKD()),
            (nameof(Loss.MutualKL), Loss.MutualKL(Peers)),
            (nameof(Loss.SemiOnline), Loss.SemiOnline(Bridge, Feature, weights: new SemiOnlineWeights { Features = 1 }, studentFeature: Feature, bridgeFeature: "conv")),
            (nameof(Loss.InheritanceExploration), Loss.InheritanceExploration(Autoencoder, Split, Feature)),
            (nameof(Loss.FactorReconstruction), Loss.FactorReconstruction(Autoencoder, Feature)),
            (nameof(Loss.Hinton), Loss.Hinton()),
            (nameof(Loss.DrKd), Loss.DrKd()),
            (nameof(Loss.TfKdReg), Loss.TfKdReg()),
            (nameof(Loss.MutualLearning), Loss.MutualLearning(Peers)),
            (nameof(Loss.IeDml), Loss.IeDml(Autoencoder, SecondAutoencoder, Split, Split, Feature)),
            (nameof(Loss.DecoupledKD), Loss.DecoupledKD(warmupEpochs: 5)),
            (nameof(Loss.Dkd), Loss.Dkd()),
            (nameof(Loss.Dist), Loss.Dist()),
            (nameof(Loss.Standardized), Loss.Standardized(Loss.DecoupledKD())),
            (nameof(Loss.AttentionTransfer), Loss.AttentionTransfer(new FeaturePair[] { Feature, Feature })),
            (nameof(Loss.NeuronSelectivityTransfer), Loss.NeuronSelectivityTransfer(new FeaturePair[] { Feature })),
            (nameof(Loss.SimilarityPreserving), Loss.SimilarityPreserving(new FeaturePair[] { Feature })),
            (nameof(Loss.ProbabilisticKnowledgeTransfer), Loss.ProbabilisticKnowledgeTransfer(new FeaturePair[] { Feature })),
            (nameof(Loss.RelationalKD), Loss.RelationalKD(new FeaturePair[] { Feature, Feature })),
            (nameof(Loss.Hint), Loss.Hint(Feature)),
            (nameof(Loss.ScheduledKD), Loss.ScheduledKD(TemperatureSchedule.Cosine(8, 2, 10))),
            (nameof(Loss.ScheduledHinton), Loss.ScheduledHinton(TemperatureSchedule.Step(8, 0.5, 2))),
            (nameof(Loss.MultiTeacherKD), Loss.MultiTeacherKD(Peers, TeacherWeighting.Confidence)),
            (nameof(Loss.MultiTeacherKD) + " fixed", Loss.MultiTeacherKD(Peers, new[] { 2.0, 1.0 })),
            (nameof(Loss.LearnedMultiTeacherKD), Own(Loss.LearnedMultiTeacherKD(new[] { "teacher", "peer1", "peer2" }, classes: 3))),
            (nameof(Loss.MultiTeacher), Loss.MultiTeacher(Loss.MultiTeacherKD(Peers, TeacherWeighting.Entropy))),
            (nameof(Loss.LogitsGraph), Own(Loss.LogitsGraph(Peers, DistributionDistance.SinkhornEmd(EarthMoversDistance.OrderedCost(3)), edgeEntropyWeight: 0.1))),
            (nameof(Loss.RepresentationGraph), Own(Loss.RepresentationGraph(Peers, new[] { 32, 32 }, 32, Feature, Feature, pooledDimension: 16))),
            (nameof(Loss.GraphDistillation), Loss.GraphDistillation(Own(Loss.LogitsGraph(Peers)), Own(Loss.RepresentationGraph(Peers, new[] { 32, 32 }, 32, Feature, Feature, pooledDimension: 16)))),
            (nameof(Loss.FlowOfSolutionProcedure), Loss.FlowOfSolutionProcedure(new FeaturePair[] { Feature, Feature })),
            (nameof(Loss.ActivationBoundaries), Loss.ActivationBoundaries(new FeaturePair[] { Feature, Feature })),
            (nameof(Loss.Crd), Own(Loss.Crd(Feature, CrdHeads.Student, CrdHeads.Teacher, dataSize: 4, negatives: 4))),
            (nameof(Loss.ReviewKD), Loss.ReviewKD(new FeaturePair[] { Feature }, Fusions)),
            (nameof(Loss.VariationalInformation), Loss.VariationalInformation(new FeaturePair[] { Feature, Feature }, new[] { Own(new VidRegressor(8, 8)), Own(new VidRegressor(8, 8)) })),
            (nameof(Loss.FactorTransfer), Loss.FactorTransfer(Feature, Autoencoder, Own(new FactorCoder(8, 4)))),
            (nameof(Loss.FactorTransfer) + " RepDistiller", Loss.FactorTransfer(Feature, Autoencoder, Own(new FactorCoder(8, 4)), FactorTransferForm.SpatialAttention)),
            (nameof(Loss.CorrelationCongruence), Loss.CorrelationCongruence(Feature, Own(new CorrelationEmbedding(32, 8)), Own(new CorrelationEmbedding(32, 8)))),
            (nameof(Loss.CorrelationCongruence) + " RepDistiller", Loss.CorrelationCongruence(Feature, form: CorrelationCongruenceForm.RepDistiller)),
            (nameof(Loss.NtXent), Loss.NtXent(first: Feature, second: Feature)),
            (nameof(Loss.Moco), Own(Loss.Moco(Feature, new MomentumEncoder(Own(nn.Linear(1, 32)), Own(nn.Linear(1, 32))), 32, dataSize: 4, queueSize: 4, keyInput: b => b.Inputs))),
            (nameof(Loss.Seed), Own(Loss.Seed(Feature, 32, dataSize: 4, queueSize: 4))),
            (nameof(Loss.Compress), Own(Loss.Compress(Feature, 32, dataSize: 4, queueSize: 4))),
            (nameof(Loss.Rekd), Own(Loss.Rekd(Feature, Feature, new MomentumEncoder(Own(nn.Linear(1, 32)), Own(nn.Linear(1, 32))), 32, 32, dataSize: 4, new NearestAnchorRelation(2), queueSize: 4, keyInput: b => b.Inputs))),
            (nameof(Loss.Rekd) + " soft", Own(Loss.Rekd(Feature, Feature, new MomentumEncoder(Own(nn.Linear(1, 32)), Own(nn.Linear(1, 32))), 32, 32, dataSize: 4, new SoftRelation(), queueSize: 4, keyInput: b => b.Inputs))),
            (nameof(Loss.Hkd), Own(Loss.Hkd(Feature, Own(new CrdEmbedding(32, 8)), Own(new CrdEmbedding(32, 8)), Own(new HkdGraphEncoder(8)), Own(new HkdGraphEncoder(8)), dataSize: 4, negatives: 4, neighbours: 2))),
        };

        public IReadOnlyList<(string Factory, DistillationRecipe Recipe)> Recipes() => new (string, DistillationRecipe)[]
        {
            (nameof(KnowledgeDistillation.Losses.Recipes.Hinton), KnowledgeDistillation.Losses.Recipes.Hinton()),
            (nameof(KnowledgeDistillation.Losses.Recipes.DrKd), KnowledgeDistillation.Losses.Recipes.DrKd()),
            (nameof(KnowledgeDistillation.Losses.Recipes.TfKdReg), KnowledgeDistillation.Losses.Recipes.TfKdReg()),
            (nameof(KnowledgeDistillation.Losses.Recipes.TfKdSelf), KnowledgeDistillation.Losses.Recipes.TfKdSelf()),
            (nameof(KnowledgeDistillation.Losses.Recipes.MutualLearning), KnowledgeDistillation.Losses.Recipes.MutualLearning(Peers)),
            (nameof(KnowledgeDistillation.Losses.Recipes.Sokd), KnowledgeDistillation.Losses.Recipes.Sokd(
                Bridge, Feature, weights: new SemiOnlineWeights { Features = 1 }, studentFeature: Feature, bridgeFeature: "conv")),
            (nameof(KnowledgeDistillation.Losses.Recipes.IeKd), KnowledgeDistillation.Losses.Recipes.IeKd(Autoencoder, Split, Feature, autoencoderEpochs: 1)),
            (nameof(KnowledgeDistillation.Losses.Recipes.IeKd) + " without KD", KnowledgeDistillation.Losses.Recipes.IeKd(Autoencoder, Split, Feature, withKD: false)),
            (nameof(KnowledgeDistillation.Losses.Recipes.IeDml), KnowledgeDistillation.Losses.Recipes.IeDml(Autoencoder, SecondAutoencoder, Split, Split, Feature)),
            (nameof(KnowledgeDistillation.Losses.Recipes.Dkd), KnowledgeDistillation.Losses.Recipes.Dkd()),
            (nameof(KnowledgeDistillation.Losses.Recipes.Dist), KnowledgeDistillation.Losses.Recipes.Dist()),
            (nameof(KnowledgeDistillation.Losses.Recipes.FitNets), KnowledgeDistillation.Losses.Recipes.FitNets(Feature, null)),
            (nameof(KnowledgeDistillation.Losses.Recipes.MultiTeacher), KnowledgeDistillation.Losses.Recipes.MultiTeacher(Loss.MultiTeacherKD(Peers))),
            (nameof(KnowledgeDistillation.Losses.Recipes.GraphDistillation), KnowledgeDistillation.Losses.Recipes.GraphDistillation(Own(Loss.LogitsGraph(Peers)), Own(Loss.RepresentationGraph(Peers, new[] { 32, 32 }, 32, Feature, Feature, pooledDimension: 16)))),
            (nameof(KnowledgeDistillation.Losses.Recipes.Fsp), KnowledgeDistillation.Losses.Recipes.Fsp(new FeaturePair[] { Feature, Feature }, fspEpochs: 1)),
            (nameof(KnowledgeDistillation.Losses.Recipes.ActivationBoundaries), KnowledgeDistillation.Losses.Recipes.ActivationBoundaries(Loss.ActivationBoundaries(new FeaturePair[] { Feature }))),
            (nameof(KnowledgeDistillation.Losses.Recipes.TeacherAssistant), KnowledgeDistillation.Losses.Recipes.TeacherAssistant(assistantEpochs: 1, assistant: "peer1")),
            (nameof(KnowledgeDistillation.Losses.Recipes.Crd), KnowledgeDistillation.Losses.Recipes.Crd(Feature, CrdHeads.Student, CrdHeads.Teacher, dataSize: 4, negatives: 4)),
            (nameof(KnowledgeDistillation.Losses.Recipes.ReviewKD), KnowledgeDistillation.Losses.Recipes.ReviewKD(new FeaturePair[] { Feature }, Fusions)),
            (nameof(KnowledgeDistillation.Losses.Recipes.FactorTransfer), KnowledgeDistillation.Losses.Recipes.FactorTransfer(Feature, Autoencoder, Own(new FactorCoder(8, 4)), paraphraserEpochs: 1)),
            (nameof(KnowledgeDistillation.Losses.Recipes.Hkd), KnowledgeDistillation.Losses.Recipes.Hkd(Own(Loss.Hkd(Feature, Own(new CrdEmbedding(32, 8)), Own(new CrdEmbedding(32, 8)), Own(new HkdGraphEncoder(8)), Own(new HkdGraphEncoder(8)), dataSize: 4, negatives: 4, neighbours: 2)), kdWeight: 1)),
            (nameof(KnowledgeDistillation.Losses.Recipes.Of), KnowledgeDistillation.Losses.Recipes.Of("ce", Loss.CrossEntropy())),
        };

        public void Dispose()
        {
            foreach (var owned in _owned)
            {
                owned.Dispose();
            }
        }

        private T Own<T>(T value)
            where T : IDisposable
        {
            _owned.Add(value);
            return value;
        }
    }
}
