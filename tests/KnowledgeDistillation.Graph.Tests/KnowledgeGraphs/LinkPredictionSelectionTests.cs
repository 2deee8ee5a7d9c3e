using FluentAssertions;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Graph.KnowledgeGraphs;
using KnowledgeDistillation.Losses;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Tests.KnowledgeGraphs;

/// <summary>Model selection on validation MRR: the best weights restored, per-stage early stopping, the last epoch of a stage evaluated.</summary>
public sealed class LinkPredictionSelectionTests
{
    private static DistillerOptions Options(int epochs, double lr) => new()
    {
        Epochs = epochs,
        Seed = 1,
        Optimizer = new OptimizerOptions { Kind = OptimizerKind.Adam, LearningRate = lr, WeightDecay = 0 },
    };

    [Fact]
    public void The_weights_of_the_best_validation_mrr_are_restored_at_the_end()
    {
        var graph = KgTestData.Ring(10);
        var evaluator = LinkPredictionEvaluator.For(graph);
        random.manual_seed(3);
        using var model = new DistMult(10, 2, 4);
        using var callback = new LinkPredictionCallback(model, evaluator, graph.Valid, restoreBest: true);
        var (states, mrrs) = FeedRandomStates(model, evaluator, graph.Valid, callback, 5);

        var best = mrrs.IndexOf(mrrs.Max());
        callback.OnFitEnd(new FitResult(Array.Empty<EpochRecord>(), TimeSpan.Zero, false));

        Flat(model).Should().Equal(states[best], "the state with the highest validation MRR (the first of equal ones) is loaded back");
        callback.BestAt.Should().Be(("s", best));
        callback.Best!.Mrr.Should().Be(mrrs[best]);
        mrrs.Distinct().Should().HaveCountGreaterThan(1, "the test needs states of different quality");
    }

    [Fact]
    public void Without_restore_the_last_weights_stay()
    {
        var graph = KgTestData.Ring(6);
        random.manual_seed(4);
        using var model = new DistMult(6, 2, 4);
        using var callback = new LinkPredictionCallback(model, LinkPredictionEvaluator.For(graph), graph.Valid);
        var last = Flat(model);
        callback.OnEpochEnd(Record("s", 0, 1), new TrainingControl());
        callback.OnFitEnd(new FitResult(Array.Empty<EpochRecord>(), TimeSpan.Zero, false));
        Flat(model).Should().Equal(last);
        callback.RestoresBest.Should().BeFalse();
    }

    [Fact]
    public void A_stage_scoped_stop_ends_each_stage_and_the_run_goes_on()
    {
        var graph = KgTestData.Ring(8);
        random.manual_seed(9);
        using var model = new DistMult(8, 2, 4);
        using var student = KgeParticipant.Student(model);
        using var callback = new LinkPredictionCallback(model, LinkPredictionEvaluator.For(graph), graph.Valid, patience: 1, stopScope: EarlyStopScope.Stage);
        var stages = new[]
        {
            new DistillationStage("first", new SelfAdversarialLoss()) { Epochs = 4 },
            new DistillationStage("second", new SelfAdversarialLoss()) { Epochs = 4 },
        };
        // A vanishing learning rate: the MRR never improves after the first evaluation.
        var distiller = new Distiller(new[] { student }, stages, Options(4, 1e-30));
        distiller.Metrics.Clear();
        distiller.Callbacks.Add(callback);

        var result = distiller.Fit(new TripleBatchSource(graph.Train, 8, 16, 2));

        result.History.Select(h => (h.Stage, h.Epoch, h.EndedStage)).Should().Equal(("first", 0, false), ("first", 1, true), ("second", 0, true));
        result.StoppedEarly.Should().BeFalse("only stages were ended");
        callback.BestAt.Should().Be(("first", 0));
    }

    [Fact]
    public void The_last_epoch_of_a_stage_is_evaluated_even_off_the_cadence()
    {
        var graph = KgTestData.Ring(8);
        random.manual_seed(2);
        using var model = new DistMult(8, 2, 4);
        using var student = KgeParticipant.Student(model);
        using var callback = new LinkPredictionCallback(model, LinkPredictionEvaluator.For(graph), graph.Valid, everyEpochs: 3);
        var distiller = new Distiller(new[] { student }, new SelfAdversarialLoss(), Options(4, 0.01));
        distiller.Metrics.Clear();
        distiller.Callbacks.Add(callback);
        distiller.Fit(new TripleBatchSource(graph.Train, 8, 16, 2));
        callback.History.Select(h => h.Epoch).Should().Equal(2, 3);
    }

    [Fact]
    public void Bad_arguments_are_rejected()
    {
        var graph = KgTestData.Ring(6);
        using var model = new DistMult(6, 2, 4);
        var evaluator = LinkPredictionEvaluator.For(graph);
        FluentActions.Invoking(() => new LinkPredictionCallback(model, evaluator, graph.Valid, everyEpochs: 0)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new LinkPredictionCallback(model, evaluator, graph.Valid, patience: 0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("patience");
        FluentActions.Invoking(() => new LinkPredictionCallback(model, evaluator, graph.Valid, stopScope: (EarlyStopScope)7)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("stopScope");
    }

    [Fact]
    public void The_selection_state_survives_a_checkpoint_round_trip()
    {
        var graph = KgTestData.Ring(10);
        var evaluator = LinkPredictionEvaluator.For(graph);
        random.manual_seed(3);
        using var model = new DistMult(10, 2, 4);
        using var saved = new LinkPredictionCallback(model, evaluator, graph.Valid, patience: 10, restoreBest: true);
        var (states, mrrs) = FeedRandomStates(model, evaluator, graph.Valid, saved, 5);

        // As the engine does: export, copy to the CPU, import into a fresh callback of a fresh model.
        var exported = saved.Export().ToDictionary(kv => kv.Key, kv => kv.Value.cpu().clone());
        random.manual_seed(77);
        using var other = new DistMult(10, 2, 4);
        using var restored = new LinkPredictionCallback(other, evaluator, graph.Valid, patience: 10, restoreBest: true);
        restored.Import(exported);
        foreach (var t in exported.Values)
        {
            t.Dispose(); // the callback keeps its own copies
        }

        restored.OnFitEnd(new FitResult(Array.Empty<EpochRecord>(), TimeSpan.Zero, false));

        var best = mrrs.IndexOf(mrrs.Max());
        restored.BestAt.Should().Be(("s", best));
        restored.Best.Should().Be(saved.Best);
        Flat(other).Should().Equal(states[best], "the imported copy of the best weights is what the resumed run restores");
    }

    [Fact]
    public void A_saved_selection_for_another_model_shape_is_refused()
    {
        var graph = KgTestData.Ring(10);
        var evaluator = LinkPredictionEvaluator.For(graph);
        using var model = new DistMult(10, 2, 4);
        using var saved = new LinkPredictionCallback(model, evaluator, graph.Valid, restoreBest: true);
        saved.OnEpochEnd(Record("s", 0, 1), new TrainingControl());
        using var wider = new DistMult(10, 2, 6);
        using var restored = new LinkPredictionCallback(wider, evaluator, graph.Valid, restoreBest: true);

        var act = () => restored.Import(saved.Export());

        act.Should().Throw<InvalidDataException>().WithMessage("*link-prediction*weights*");
    }

    /// <summary>
    /// Gives the model <paramref name="epochs"/> random states, each followed by the callback's epoch end, and returns each
    /// state with its own validation MRR (the independent reference the selection is checked against).
    /// </summary>
    private static (List<float[]> States, List<double> Mrrs) FeedRandomStates(
        KgeModel model, LinkPredictionEvaluator evaluator, IReadOnlyList<Triple> valid, LinkPredictionCallback callback, int epochs)
    {
        var control = new TrainingControl();
        var states = new List<float[]>();
        var mrrs = new List<double>();
        for (var epoch = 0; epoch < epochs; epoch++)
        {
            using (no_grad())
            {
                foreach (var p in model.parameters())
                {
                    p.copy_(randn(p.shape));
                }
            }

            states.Add(Flat(model));
            mrrs.Add(evaluator.Evaluate(model, valid).Mrr);
            callback.OnEpochEnd(Record("s", epoch, epochs), control);
        }

        return (states, mrrs);
    }

    private static float[] Flat(KgeModel model) =>
        model.parameters().SelectMany(p => p.detach().cpu().reshape(-1).data<float>().ToArray()).ToArray();

    private static EpochRecord Record(string stage, int epoch, int stageEpochs) => new()
    {
        Stage = stage,
        Epoch = epoch,
        StageEpochs = stageEpochs,
        Steps = 1,
        Loss = 0,
        LossParts = new Dictionary<string, double>(),
        TrainMetrics = new Dictionary<string, IReadOnlyDictionary<string, double>>(),
        EvalMetrics = new Dictionary<string, IReadOnlyDictionary<string, double>>(),
        LearningRate = 0.1,
        Duration = TimeSpan.Zero,
    };
}
