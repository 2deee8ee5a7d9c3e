namespace KnowledgeDistillation.Engine;

/// <summary>
/// Continues a finished run to more epochs: a checkpoint written after the last stage's last epoch, resumed with a larger
/// epoch count for that stage, is repositioned inside the stage (after the epochs it ran), so <see cref="Distiller.Resume"/>
/// trains exactly the extra epochs. A last stage that a callback ended early (<see cref="EpochRecord.EndedStage"/>) is not continued. Stages before the last cannot be extended (the later stages already ran), and a
/// run is never shortened.
/// </summary>
internal static class RunContinuation
{
    /// <summary>The checkpoint's state, repositioned inside the last stage when this run gives that stage more epochs.</summary>
    /// <param name="path">The checkpoint (for messages).</param>
    /// <param name="state">The header, already checked to belong to this setup (same stages).</param>
    /// <param name="stageEpochs">This run's epochs per stage.</param>
    /// <exception cref="InvalidDataException">The finished run trained its last stage for more epochs than this run sets.</exception>
    public static CheckpointState Reposition(string path, CheckpointState state, IReadOnlyList<int> stageEpochs)
    {
        var last = stageEpochs.Count - 1;
        if (state.StageIndex != stageEpochs.Count || state.Stages.Length != stageEpochs.Count)
        {
            return state;
        }

        var stage = state.Stages[last];
        if (state.History.Count > 0 && state.History[^1].EndedStage)
        {
            return state; // a callback ended the last stage early: the run is finished, there is nothing to continue
        }

        var done = state.History.Count(r => r?.Stage == stage);
        if (done > stageEpochs[last])
        {
            throw new InvalidDataException(
                $"'{path}' holds a finished run whose last stage '{stage}' ran {done} epoch(s), but this run sets {stageEpochs[last]}: " +
                $"Resume continues a finished run to more epochs, never fewer. Set the stage's epochs (DistillationStage.Epochs, or " +
                $"DistillerOptions.Epochs for a stage without its own) to {done} or more.");
        }

        return done == stageEpochs[last] ? state : state with { StageIndex = last, Epoch = done, ContinuedFromEpochs = done };
    }
}
