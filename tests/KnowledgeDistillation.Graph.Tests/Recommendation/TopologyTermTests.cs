using FluentAssertions;
using KnowledgeDistillation.Graph.Recommendation;
using KnowledgeDistillation.Tests.Support;
using TorchSharp;
using Xunit;
using static KnowledgeDistillation.Graph.Tests.Recommendation.RecommendationFixtures;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Tests.Recommendation;

/// <summary>The oracles of htd.md ("What a correct implementation must show", 1-5) and the PyTorch fixtures of every term.</summary>
public sealed class TopologyTermTests
{
    private const double Tol = 1e-10;

    [Fact]
    public void Ftd_closed_form_is_2()
    {
        var t = tensor(new[,] { { 1.0, 0 }, { 0, 1.0 } });
        var s = tensor(new[,] { { 1.0, 0 }, { 1.0, 0 } });
        FullTopologyLoss.Value(t, s).item<double>().Should().BeApproximately(2, 1e-12);
    }

    [Fact]
    public void Topology_terms_are_scale_and_rotation_invariant_and_ga_is_not_rotation_invariant()
    {
        manual_seed(3);
        var t = randn(10, 6, ScalarType.Float64);
        var s = randn(10, 4, ScalarType.Float64);
        var groups = tensor(new long[] { 0, 0, 1, 1, 1, 3, 3, 2, 2, 0 });
        var perRow = s * (rand(10, 1, ScalarType.Float64) * 5 + 0.1);
        var (q, _) = linalg.qr(randn(4, 4, ScalarType.Float64));
        var rotated = s.matmul(q);
        double Ftd(Tensor x) => FullTopologyLoss.Value(t, x).item<double>();
        (double E, double G) Htd(Tensor x, GroupTopology c)
        {
            var (e, g) = HierarchicalTopologyLoss.TopologyValue(t, x, groups, 4, c);
            return (e.item<double>(), g.item<double>());
        }

        Ftd(perRow).Should().BeApproximately(Ftd(s), 1e-9);
        Ftd(rotated).Should().BeApproximately(Ftd(s), 1e-9);
        foreach (var c in new[] { GroupTopology.PrototypeToEntity, GroupTopology.PrototypeToPrototype })
        {
            var baseline = Htd(s, c);
            Htd(perRow, c).E.Should().BeApproximately(baseline.E, 1e-9);
            Htd(rotated, c).E.Should().BeApproximately(baseline.E, 1e-9);
            Htd(rotated, c).G.Should().BeApproximately(baseline.G, 1e-9);
            Htd(s * 3.7, c).G.Should().BeApproximately(baseline.G, 1e-9);
            // The note's oracle 2 says any row may be scaled; for the group level that holds only for a common scale:
            // a prototype is the mean of its members' rows, so scaling one row turns the prototype.
            Math.Abs(Htd(perRow, c).G - baseline.G).Should().BeGreaterThan(1e-6);
        }

        // L_GA with fixed experts changes when the student rotates (the experts see other inputs).
        var experts = new DistillationExperts(4, 6, 3);
        experts.to(ScalarType.Float64);
        var noise = zeros(10, 3, ScalarType.Float64);
        var alpha = experts.SelectionLogits(t, users: true).softmax(1);
        var ga0 = ExpertDistillation.Value(t, experts.ExpertOutputs(s, true), alpha, noise, 1).item<double>();
        var ga1 = ExpertDistillation.Value(t, experts.ExpertOutputs(rotated, true), alpha, noise, 1).item<double>();
        Math.Abs(ga0 - ga1).Should().BeGreaterThan(1e-6);
    }

    [Fact]
    public void One_group_per_type_with_positive_teacher_cosines_reduces_entity_level_to_the_same_type_blocks_of_ftd()
    {
        manual_seed(5);
        var t = rand(9, 5, ScalarType.Float64) + 0.1; // positive entries: all cosines > 0
        var s = randn(9, 3, ScalarType.Float64);
        var groups = tensor(new long[] { 0, 0, 0, 0, 1, 1, 1, 1, 1 }); // 4 users (group 0), 5 items (group K = 1)
        var (entity, _) = HierarchicalTopologyLoss.TopologyValue(t, s, groups, 2);
        var users = FullTopologyLoss.Value(t.narrow(0, 0, 4), s.narrow(0, 0, 4));
        var items = FullTopologyLoss.Value(t.narrow(0, 4, 5), s.narrow(0, 4, 5));
        entity.item<double>().Should().BeApproximately((users + items).item<double>(), 1e-10);
        entity.item<double>().Should().BeLessThan(FullTopologyLoss.Value(t, s).item<double>());
    }

    [Fact]
    public void Temperature_to_zero_makes_ga_the_de_loss_of_the_sampled_expert()
    {
        manual_seed(7);
        var t = randn(6, 5, ScalarType.Float64);
        var outputs = randn(6, 4, 5, ScalarType.Float64);
        var alpha = randn(6, 4, ScalarType.Float64).softmax(1);
        var noise = ExpertDistillation.Noise(alpha);
        var chosen = ((alpha + 1e-10).log() + noise).argmax(1);
        var selected = outputs.gather(1, chosen.view(6, 1, 1).expand(6, 1, 5)).squeeze(1);
        var de = (t - selected).pow(2).sum().item<double>();
        ExpertDistillation.Value(t, outputs, alpha, noise, 1e-10).item<double>().Should().BeApproximately(de, 1e-9);
        ExpertDistillation.Value(t, outputs, alpha, noise, 1.0).item<double>().Should().NotBeApproximately(de, 1e-6);
    }

    [Fact]
    public void Bpr_matches_pytorch_value_and_gradients()
    {
        var f = Root.GetProperty("bpr");
        var (u, i, j) = (T(f.GetProperty("users"), true), T(f.GetProperty("positives"), true), T(f.GetProperty("negatives"), true));
        var value = BprLoss.Value(u, i, j);
        value.item<double>().Should().BeApproximately(D(f, "value"), Tol);
        value.backward();
        MaxDiff(u.grad!, T(f.GetProperty("grad_users"))).Should().BeLessThan(Tol);
        MaxDiff(i.grad!, T(f.GetProperty("grad_positives"))).Should().BeLessThan(Tol);
        MaxDiff(j.grad!, T(f.GetProperty("grad_negatives"))).Should().BeLessThan(Tol);
    }

    [Fact]
    public void Ftd_matches_pytorch_value_and_gradient()
    {
        var f = Root.GetProperty("ftd");
        var s = T(f.GetProperty("student"), true);
        var value = FullTopologyLoss.Value(T(f.GetProperty("teacher")), s);
        value.item<double>().Should().BeApproximately(D(f, "value"), Tol);
        value.backward();
        MaxDiff(s.grad!, T(f.GetProperty("grad_student"))).Should().BeLessThan(Tol);
    }

    [Fact]
    public void Htd_topology_matches_pytorch_for_both_group_levels_and_masks()
    {
        foreach (var f in Root.GetProperty("htd").EnumerateArray())
        {
            var s = T(f.GetProperty("student"), true);
            var groups = tensor(f.GetProperty("groups").EnumerateArray().Select(x => x.GetInt64()).ToArray());
            var choice = f.GetProperty("choice").GetString() == "second" ? GroupTopology.PrototypeToEntity : GroupTopology.PrototypeToPrototype;
            var (entity, group) = HierarchicalTopologyLoss.TopologyValue(
                T(f.GetProperty("teacher")), s, groups, f.GetProperty("group_count").GetInt64(), choice, f.GetProperty("mask_non_positive").GetBoolean());
            entity.item<double>().Should().BeApproximately(D(f, "entity"), Tol, "{0} entity", choice);
            group.item<double>().Should().BeApproximately(D(f, "group"), Tol, "{0} group", choice);
            (entity + group).backward();
            MaxDiff(s.grad!, T(f.GetProperty("grad_student"))).Should().BeLessThan(Tol);
        }
    }

    [Fact]
    public void Group_assignment_matches_pytorch_value_and_gradients_and_finite_differences()
    {
        var f = Root.GetProperty("ga");
        var outputs = T(f.GetProperty("expert_outputs"), true);
        var logits = T(f.GetProperty("selection_logits"), true);
        var t = T(f.GetProperty("teacher"));
        var g = T(f.GetProperty("gumbel"));
        var temperature = D(f, "temperature");
        var value = ExpertDistillation.Value(t, outputs, logits.softmax(1), g, temperature);
        value.item<double>().Should().BeApproximately(D(f, "value"), Tol);
        value.backward();
        MaxDiff(outputs.grad!, T(f.GetProperty("grad_expert_outputs"))).Should().BeLessThan(Tol);
        MaxDiff(logits.grad!, T(f.GetProperty("grad_selection_logits"))).Should().BeLessThan(1e-8);
        outputs.grad!.zero_();
        logits.grad!.zero_();
        GradientCheck.AssertMatchesFiniteDifferences(
            () => ExpertDistillation.Value(t, outputs, logits.softmax(1), g, temperature), new[] { ("outputs", outputs), ("logits", logits) }, tolerance: 1e-6);
    }

    [Fact]
    public void Rrd_matches_pytorch_value_and_gradients()
    {
        var f = Root.GetProperty("rrd");
        var s1 = T(f.GetProperty("interesting"), true);
        var s2 = T(f.GetProperty("uninteresting"), true);
        var value = RelaxedRankingLoss.Value(s1, s2);
        value.item<double>().Should().BeApproximately(D(f, "value"), Tol);
        value.backward();
        MaxDiff(s1.grad!, T(f.GetProperty("grad_interesting"))).Should().BeLessThan(Tol);
        MaxDiff(s2.grad!, T(f.GetProperty("grad_uninteresting"))).Should().BeLessThan(Tol);
        // Large scores stay finite (log-sum-exp form; the exp form overflows).
        RelaxedRankingLoss.Value(tensor(new[,] { { 900.0, 800.0 } }), tensor(new[,] { { 1000.0 } })).isfinite().item<bool>().Should().BeTrue();
    }

    [Fact]
    public void Terms_reject_mismatched_shapes_with_the_argument_named()
    {
        var ftd = () => FullTopologyLoss.Value(randn(4, 3), randn(5, 2));
        ftd.Should().Throw<ArgumentException>().Where(e => e.ParamName == "student");
        var rrd = () => RelaxedRankingLoss.Value(randn(4, 3), randn(5, 2));
        rrd.Should().Throw<ArgumentException>().Where(e => e.ParamName == "uninteresting");
        var ga = () => ExpertDistillation.Value(randn(4, 3), randn(4, 2, 5), randn(4, 2), randn(4, 2), 1);
        ga.Should().Throw<ArgumentException>().Where(e => e.ParamName == "expertOutputs");
        var temperature = () => new GumbelAnnealing(10, 1, 2);
        temperature.Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "final");
    }

    [Fact]
    public void Annealing_follows_the_official_schedule()
    {
        var a = new GumbelAnnealing(100);
        a.At(0).Should().Be(1);
        a.At(50).Should().BeApproximately(1e-5, 1e-12);
        a.At(100).Should().BeApproximately(1e-10, 1e-20);
        a.At(150).Should().Be(1e-10);
    }
}
