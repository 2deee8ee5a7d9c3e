namespace KnowledgeDistillation.Engine;

/// <summary>
/// <see cref="ParticipantUpdateOrder.Sequential"/> (Deep Mutual Learning's Algorithm 1): the trained participants take
/// turns. The first turn uses the step's outputs (a graph for the first participant only), whose loss is recorded for the
/// epoch; each later turn recomputes the outputs after the earlier updates, with a graph only for the participant whose
/// turn it is (frozen outputs are reused). The loss's own modules step in the last turn.
/// </summary>
internal sealed class SequentialUpdate : IUpdateStrategy
{
    private readonly NonFiniteGuard _guard;
    private readonly GradientClipper _clipper;
    private readonly DataParallel _dataParallel;

    public SequentialUpdate(NonFiniteGuard guard, GradientClipper clipper, DataParallel dataParallel)
    {
        _guard = guard;
        _clipper = clipper;
        _dataParallel = dataParallel;
    }

    public DistillationContext? Step(StepContext step)
    {
        var run = step.Run;
        var firstOutputs = run.Forward(step.Batch, run.Trainable[0], null);
        step.InspectOutputs(firstOutputs);
        var firstContext = step.Context(firstOutputs);
        var firstLoss = run.Stage.Loss.Compute(firstContext);
        if (!_guard.Check(run.Stage.Name, firstLoss, step.Epoch, step.Step, step.Sums, firstContext))
        {
            return null;
        }

        step.Sums.Add(firstLoss, firstOutputs, step.Batch);
        for (var turn = 0; turn < run.Trainable.Count; turn++)
        {
            var loss = firstLoss;
            if (turn > 0)
            {
                var outputs = run.Forward(step.Batch, run.Trainable[turn], firstOutputs);
                var context = step.Context(outputs);
                loss = run.Stage.Loss.Compute(context);
                if (!_guard.Check(run.Stage.Name, loss, step.Epoch, step.Step, step.Sums, context, countSkip: false))
                {
                    // The earlier turns' updates stand and the step counts, as its first loss was recorded.
                    return firstContext;
                }
            }

            Update(step, turn, loss);
        }

        return firstContext;
    }

    private void Update(StepContext step, int turn, LossResult loss)
    {
        var participant = step.Run.Trainable[turn].Name;
        var last = turn == step.Run.Trainable.Count - 1;
        step.Optimizers.ZeroGrad();
        loss.Total.backward();
        if (_dataParallel.Enabled)
        {
            var owned = step.Optimizers.ParametersOf(participant);
            _dataParallel.AverageGradients(last ? owned.Concat(step.Optimizers.ParametersOf(DistillationStage.LossModulesOwner)).ToArray() : owned);
        }

        if (_clipper.Enabled)
        {
            var owned = step.Optimizers.ParametersOf(participant);
            _clipper.Clip(last ? owned.Concat(step.Optimizers.ParametersOf(DistillationStage.LossModulesOwner)).ToArray() : owned);
        }

        step.Optimizers.Step(participant);
        if (last)
        {
            step.Optimizers.Step(DistillationStage.LossModulesOwner);
        }
    }
}
