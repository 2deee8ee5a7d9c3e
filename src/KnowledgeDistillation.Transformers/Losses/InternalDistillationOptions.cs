namespace KnowledgeDistillation.Transformers.Losses;

/// <summary>Settings of <see cref="TransformerRecipes.InternalDistillation"/>.</summary>
public sealed record InternalDistillationOptions
{
    /// <summary>All layers, progressive (PID) or stacked (SID).</summary>
    public InternalDistillationSchedule Schedule { get; init; } = InternalDistillationSchedule.Stacked;

    /// <summary>Epochs of each internal stage (>= 1): the single all-layers stage, or each layer's stage under PID/SID.</summary>
    public int EpochsPerStage { get; init; } = 1;

    /// <summary>Weight of the attention KL (0 leaves it out).</summary>
    public double AttentionWeight { get; init; } = 1.0;

    /// <summary>Weight of the [CLS] cosine (0 leaves it out).</summary>
    public double ClsWeight { get; init; } = 1.0;

    /// <summary>Weight of the hidden-state MSE (0, the default, leaves it out; the paper uses attention and [CLS]).</summary>
    public double HiddenWeight { get; init; }

    /// <summary>Epochs of the final soft-label stage (>= 1); null uses the run's <c>DistillerOptions.Epochs</c>, so the internal stages come on top.</summary>
    public int? KdEpochs { get; init; }

    /// <summary>Soft-label temperature of the final stage.</summary>
    public double Temperature { get; init; } = 1.0;

    /// <summary>Weight of the soft-label KD in the final stage; 1 - Alpha goes to cross-entropy on the labels.</summary>
    public double Alpha { get; init; } = 0.5;

    /// <summary>Student hidden width, to build <see cref="LayerProjections"/> when it differs from <see cref="TeacherWidth"/>.</summary>
    public int? StudentWidth { get; init; }

    /// <summary>Teacher hidden width.</summary>
    public int? TeacherWidth { get; init; }

    /// <summary>Student participant.</summary>
    public string Student { get; init; } = "student";

    /// <summary>Teacher participant.</summary>
    public string Teacher { get; init; } = "teacher";
}
