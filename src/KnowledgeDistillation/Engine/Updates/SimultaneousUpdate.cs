namespace KnowledgeDistillation.Engine;

/// <summary>
/// <see cref="ParticipantUpdateOrder.Simultaneous"/> (and any stage with one trained participant): one forward pass,
/// one loss, one backward pass, then every optimiser steps.
/// </summary>
internal sealed class SimultaneousUpdate : IUpdateStrategy
{
    private readonly NonFiniteGuard _guard;
    private readonly GradientClipper _clipper;
    private readonly DataParallel _dataParallel;

    public SimultaneousUpdate(NonFiniteGuard guard, GradientClipper clipper, DataParallel dataParallel)
    {
        _guard = guard;
        _clipper = clipper;
        _dataParallel = dataParallel;
    }

    public DistillationContext? Step(StepContext step)
    {
        var outputs = step.Run.Forward(step.Batch);
        step.InspectOutputs(outputs);
        var context = step.Context(outputs);
        var loss = step.Run.Stage.Loss.Compute(context);
        if (!_guard.Check(step.Run.Stage.Name, loss, step.Epoch, step.Step, step.Sums, context))
        {
            return null;
        }

        step.Optimizers.ZeroGrad();
        loss.Total.backward();
        _dataParallel.AverageGradients(step.Run.Parameters);
        _clipper.Clip(step.Run.Parameters);
        step.Optimizers.Step();
        step.Sums.Add(loss, outputs, step.Batch);
        return context;
    }
}
