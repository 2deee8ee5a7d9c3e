using System.Reflection;
using System.Text.RegularExpressions;
using FluentAssertions;
using KnowledgeDistillation.Detection.Losses;
using KnowledgeDistillation.Detection.Models;
using KnowledgeDistillation.Detection.Tests.Support;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Losses;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Detection.Tests.Losses;

/// <summary>
/// The detection part of the catalogue (<see cref="DetectionLosses"/>, <see cref="DetectionRecipes"/>), held to the core
/// catalogue test's rules (KnowledgeDistillation.Tests' CatalogueTests cannot reference this package): every factory is
/// exercised on a real detection batch, every term is named by the scheme (lower-case words joined by '-'), every part
/// it reports is its name or "name.sub", and a new factory fails the coverage test until it is added here.
/// </summary>
public sealed class DetectionCatalogueTests
{
    private static readonly Regex Word = new("^[a-z0-9]+(-[a-z0-9]+)*$", RegexOptions.CultureInvariant);

    private static IcdOptions IcdOptions => new() { Classes = 2, TeacherChannels = 16, Heads = 4, WarmupSteps = 0, Seed = 3 };

    [Fact]
    public void Every_detection_loss_factory_names_its_parts_after_its_terms()
    {
        using var scope = NewDisposeScope();
        using var fixture = new Fixture();
        foreach (var (factory, loss) in Losses())
        {
            CheckParts(factory, loss, fixture.Context);
            (loss as IDisposable)?.Dispose();
        }
    }

    [Fact]
    public void Every_detection_recipe_names_its_parts_after_its_terms()
    {
        using var scope = NewDisposeScope();
        using var fixture = new Fixture();
        foreach (var (factory, recipe) in Recipes())
        {
            Word.IsMatch(recipe.Name).Should().BeTrue($"recipe name '{recipe.Name}' of {factory} follows the naming scheme");
            recipe.Stages.Should().NotBeEmpty(factory);
            foreach (var stage in recipe.Stages)
            {
                CheckParts($"{factory} stage '{stage.Name}'", stage.Loss, fixture.Context);
            }
        }
    }

    [Fact]
    public void Every_public_detection_factory_is_covered_by_these_tests()
    {
        var lossFactories = Factories(typeof(DetectionLosses));
        var recipeFactories = Factories(typeof(DetectionRecipes));
        lossFactories.Should().BeEquivalentTo(new[] { "Fcos", "Icd", "FpnFeatureMse" }, "the test can fail: it finds the factories by reflection");
        Losses().Select(l => l.Factory).Should().Contain(lossFactories, "a new detection Loss factory must be added to this test");
        Recipes().Select(r => r.Factory).Should().Contain(recipeFactories, "a new detection recipe must be added to this test");
    }

    private static (string Factory, IDistillationLoss Loss)[] Losses() => new (string, IDistillationLoss)[]
    {
        (nameof(DetectionLosses.Fcos), Loss.Fcos(2)),
        (nameof(DetectionLosses.Icd), Loss.Icd(IcdOptions)),
        (nameof(DetectionLosses.FpnFeatureMse), Loss.FpnFeatureMse(16, 16)),
    };

    private static (string Factory, DistillationRecipe Recipe)[] Recipes() => new (string, DistillationRecipe)[]
    {
        (nameof(DetectionRecipes.Detector), KnowledgeDistillation.Losses.Recipes.Detector(2)),
        (nameof(DetectionRecipes.FpnFeatureMse), KnowledgeDistillation.Losses.Recipes.FpnFeatureMse(2, 16, 16, weight: 2)),
        (nameof(DetectionRecipes.Icd), KnowledgeDistillation.Losses.Recipes.Icd(IcdOptions)),
        (nameof(DetectionRecipes.Icd) + " (auxiliary stage first)", KnowledgeDistillation.Losses.Recipes.Icd(IcdOptions, auxiliaryEpochs: 1)),
    };

    // The public static members an extension block compiles to (their names, once each).
    private static string[] Factories(Type catalogue) =>
        catalogue.GetMethods(BindingFlags.Public | BindingFlags.Static | BindingFlags.DeclaredOnly).Select(m => m.Name).Distinct().ToArray();

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

        var parts = loss.Compute(context).Parts;
        parts.Should().NotBeEmpty(what);
        foreach (var (part, value) in parts)
        {
            var owner = terms.Where(t => part == t.Name || part.StartsWith(t.Name + ".", StringComparison.Ordinal)).ToArray();
            owner.Should().ContainSingle($"part '{part}' of {what} starts with exactly one term's name");
            if (part != owner[0].Name)
            {
                Word.IsMatch(part[(owner[0].Name.Length + 1)..]).Should().BeTrue($"sub-part '{part}' of {what} is 'name.sub' with sub in the naming scheme");
            }

            value.numel().Should().Be(1, $"part '{part}' of {what} is a scalar");
            double.IsFinite(value.item<float>()).Should().BeTrue($"part '{part}' of {what} is finite");
        }

        foreach (var term in terms)
        {
            parts.Keys.Should().Contain(term.Name, $"{what} reports term '{term.Name}' under its name");
        }
    }

    /// <summary>A synthetic VOC batch of 4 images with the outputs of a teacher and a student FCOS detector (FPN 16 channels).</summary>
    private sealed class Fixture : IDisposable
    {
        private readonly FcosDetector _teacher;
        private readonly FcosDetector _student;

        public Fixture()
        {
            random.manual_seed(11);
            var batch = DetectionSetup.Source(4, 4).GetBatches(0, CPU).First();
            _teacher = new FcosDetector(DetectionSetup.Larger());
            _student = new FcosDetector(DetectionSetup.Small());
            var outputs = new Dictionary<string, ModelOutput> { ["teacher"] = _teacher.call(batch.Inputs), ["student"] = _student.call(batch.Inputs) };
            Context = new DistillationContext(batch, outputs);
        }

        public DistillationContext Context { get; }

        public void Dispose()
        {
            _teacher.Dispose();
            _student.Dispose();
        }
    }
}
