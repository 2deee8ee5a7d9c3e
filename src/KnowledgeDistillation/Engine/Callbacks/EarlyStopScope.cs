namespace KnowledgeDistillation.Engine;

/// <summary>What an early stop ends.</summary>
public enum EarlyStopScope
{
    /// <summary>The whole run: later stages do not run (<see cref="TrainingControl.Stop"/>).</summary>
    Run,

    /// <summary>Only the current stage: the run goes on with the next one (<see cref="TrainingControl.StopStage"/>).</summary>
    Stage,
}
