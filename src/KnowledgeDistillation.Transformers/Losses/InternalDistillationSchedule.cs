namespace KnowledgeDistillation.Transformers.Losses;

/// <summary>How the internal-representation terms are scheduled before the soft-label stage (Aguilar et al., AAAI 2020).</summary>
public enum InternalDistillationSchedule
{
    /// <summary>Every pair of the layer map at once, in one stage.</summary>
    AllLayers,

    /// <summary>Progressive internal distillation (PID): one stage per pair, bottom-up, only that pair's terms.</summary>
    Progressive,

    /// <summary>Stacked internal distillation (SID): one stage per pair, bottom-up, the terms of that pair and all below it.</summary>
    Stacked,
}
