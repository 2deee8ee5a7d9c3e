using System.Reflection;
using System.Text.RegularExpressions;
using FluentAssertions;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Graph.Graphs;
using KnowledgeDistillation.Graph.KnowledgeGraphs;
using KnowledgeDistillation.Graph.Recommendation;
using KnowledgeDistillation.Losses;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Tests;

/// <summary>
/// The Graph package's catalogue entries (C# 14 static extension members of <see cref="Loss"/> and <see cref="Recipes"/>):
/// every factory is exercised, and every part is its term's name or "name.sub" in the naming scheme.
/// </summary>
public sealed class GraphCatalogueTests
{
    private static readonly Regex Word = new("^[a-z0-9]+(-[a-z0-9]+)*$", RegexOptions.CultureInvariant);

    [Fact]
    public void Every_graph_loss_and_recipe_names_its_parts_after_its_terms()
    {
        using var scope = NewDisposeScope();
        using var weights = new DualDEWeights();
        using var kge = new ComplEx(4, 2, 3);
        var losses = new (string Factory, IDistillationLoss Loss)[]
        {
            ("EmbeddingL3", Loss.EmbeddingL3(kge, 1e-3)),
            ("Cpf", Loss.Cpf()),
            ("MaskedCrossEntropy", Loss.MaskedCrossEntropy()),
            ("DualDE", Loss.DualDE(weights, adjustTeacher: true)),
            ("ScoreDistillation", Loss.ScoreDistillation()),
            ("SelfAdversarial", Loss.SelfAdversarial()),
            ("score KD + hard", Loss.SelfAdversarial() + Loss.ScoreDistillation()),
        };
        var recipes = new (string Factory, DistillationRecipe Recipe)[]
        {
            ("Cpf", Recipes.Cpf()),
            ("GnnTeacher", Recipes.GnnTeacher()),
            ("DualDE", Recipes.DualDE(weights, stage1Epochs: 1, stage2Epochs: 1)),
        };

        foreach (var (factory, loss) in losses)
        {
            CheckParts(factory, loss, Context("distill"));
        }

        foreach (var (factory, recipe) in recipes)
        {
            Word.IsMatch(recipe.Name).Should().BeTrue($"recipe name '{recipe.Name}' of {factory}");
            foreach (var stage in recipe.Stages)
            {
                CheckParts($"{factory} stage '{stage.Name}'", stage.Loss, Context(stage.Name));
            }
        }

        // Recommender terms read int64 (user, positive, negative) triples and embedding tables.
        using var experts = new DistillationExperts(3, 5, 2);
        var split = InteractionSplit.FromLists(8, new[] { new[] { 0, 1 }, new[] { 2 }, new[] { 3, 4 } }, new[] { new[] { 5 }, new[] { 6 }, new[] { 7 } });
        var ranking = TeacherRanking.FromLists(new[] { new[] { 2, 3 }, new[] { 0, 1 }, new[] { 0, 1 } }, split);
        var recommenderLosses = new (string Factory, IDistillationLoss Loss)[]
        {
            ("Bpr", Loss.Bpr()),
            ("Ftd", Loss.Ftd()),
            ("Htd", Loss.Htd(experts, new GumbelAnnealing(5))),
            ("De", Loss.De(experts, new GumbelAnnealing(5))),
            ("Rrd", Loss.Rrd(ranking, interesting: 2, uninteresting: 3)),
        };
        var recommenderRecipes = new (string Factory, DistillationRecipe Recipe)[]
        {
            ("Bpr", Recipes.Bpr()),
            ("Ftd", Recipes.Ftd()),
            ("Htd", Recipes.Htd(experts, 5)),
            ("De", Recipes.De(experts, 5)),
            ("Rrd", Recipes.Rrd(ranking, interesting: 2, uninteresting: 3)),
        };
        foreach (var (factory, loss) in recommenderLosses)
        {
            CheckParts(factory, loss, RecommenderContext("distill"));
        }
        foreach (var (factory, recipe) in recommenderRecipes)
        {
            Word.IsMatch(recipe.Name).Should().BeTrue($"recipe name '{recipe.Name}' of {factory}");
            foreach (var stage in recipe.Stages)
            {
                CheckParts($"{factory} stage '{stage.Name}'", stage.Loss, RecommenderContext(stage.Name));
            }
        }

        Declared(typeof(GraphLosses)).Should().BeSubsetOf(losses.Concat(recommenderLosses).Select(l => l.Factory), "a new graph loss factory must be added to this test");
        Declared(typeof(GraphRecipes)).Should().BeSubsetOf(recipes.Concat(recommenderRecipes).Select(r => r.Factory), "a new graph recipe must be added to this test");
        recipes.Single(r => r.Factory == "DualDE").Recipe.Stages.Select(s => s.Name).Should().Equal(DualDE.Stage1, DualDE.Stage2);
    }

    private static IEnumerable<string> Declared(Type catalogue) =>
        catalogue.GetMethods(BindingFlags.Public | BindingFlags.Static | BindingFlags.DeclaredOnly).Select(m => m.Name).Distinct();

    /// <summary>Student and teacher with node logits [6, 3] and KGE scores pos [6], neg [6, 4]; a train mask over the nodes.</summary>
    private static DistillationContext Context(string stage)
    {
        ModelOutput Output() => new(randn(6, 3), new Dictionary<string, Tensor>
        {
            [KgeParticipant.PositiveScores] = randn(6),
            [KgeParticipant.NegativeScores] = randn(6, 4),
        });

        var outputs = new Dictionary<string, ModelOutput> { ["student"] = Output(), ["teacher"] = Output() };
        var extras = new Dictionary<string, Tensor> { [GraphBatchSource.TrainMask] = tensor(new[] { true, true, false, false, true, false }) };
        var batch = new Batch(zeros(6, 1), tensor(new long[] { 0, 1, 2, 0, 1, 2 }), arange(6, ScalarType.Int64), extras);
        return new DistillationContext(batch, outputs, stage);
    }

    /// <summary>Student (d = 3) and teacher (d = 5) tables of 3 users and 8 items; a batch of 4 triples.</summary>
    private static DistillationContext RecommenderContext(string stage)
    {
        ModelOutput Output(int d) => new(null, new Dictionary<string, Tensor>
        {
            [RecommenderParticipant.Users] = randn(3, d),
            [RecommenderParticipant.Items] = randn(8, d),
        });

        var outputs = new Dictionary<string, ModelOutput> { ["student"] = Output(3), ["teacher"] = Output(5) };
        var batch = new Batch(tensor(new long[] { 0, 0, 5, 1, 2, 7, 2, 3, 6, 2, 4, 0 }, new long[] { 4, 3 }), null, arange(4, ScalarType.Int64));
        return new DistillationContext(batch, outputs, stage);
    }

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
        foreach (var part in parts)
        {
            var owner = terms.Where(t => part == t.Name || part.StartsWith(t.Name + ".", StringComparison.Ordinal)).ToArray();
            owner.Should().ContainSingle($"part '{part}' of {what} starts with exactly one term's name");
            if (part != owner[0].Name)
            {
                Word.IsMatch(part[(owner[0].Name.Length + 1)..]).Should().BeTrue($"sub-part '{part}' of {what} is 'name.sub'");
            }
        }

        foreach (var term in terms)
        {
            parts.Should().Contain(term.Name, $"{what} reports term '{term.Name}' under its name");
        }
    }
}
