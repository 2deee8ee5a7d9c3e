namespace KnowledgeDistillation.Engine;

/// <summary>Where a run stands: the next stage, epoch and batch to run, the global step and the data epoch (shuffle index).</summary>
internal readonly record struct TrainingPosition(int StageIndex, int Epoch, int BatchInEpoch, long Step, int DataEpoch)
{
    public static TrainingPosition Start => new(0, 0, 0, 0, 0);
}
