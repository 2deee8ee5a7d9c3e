namespace KnowledgeDistillation.Engine;

/// <summary>How a stage updates several trained participants within one step.</summary>
public enum ParticipantUpdateOrder
{
    /// <summary>
    /// One forward of every active participant, one loss, one backward, then every optimiser steps. With peers detached in
    /// the loss (DML, SOKD) each participant gets exactly the gradient of its own objective.
    /// </summary>
    Simultaneous,

    /// <summary>
    /// For each trained participant in turn (participant order): forward every active participant, with gradients only
    /// for this one (the others' outputs are constants), compute the loss, backward, step this participant's optimiser.
    /// Later participants therefore see the already-updated earlier ones, as in Deep Mutual Learning's Algorithm 1 (Zhang
    /// et al., 2018). Frozen participants are run once per step. The loss's own modules step once, in the last turn, from
    /// that turn's loss. Losses and metrics are recorded from the first turn (the outputs before any update). Costs up to
    /// K forwards per participant per step instead of one.
    /// </summary>
    Sequential,
}
