using System.Globalization;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Losses;

namespace KnowledgeDistillation.Transformers.Losses;

/// <summary>Recipes for transformer students.</summary>
public static class TransformerRecipes
{
    /// <summary>
    /// Internal-representation distillation (Aguilar et al., AAAI 2020): stages of attention-KL + [CLS]-cosine (+ optional
    /// hidden-state MSE) terms over the layer map (all layers at once, progressive or stacked, bottom-up), each for
    /// <see cref="InternalDistillationOptions.EpochsPerStage"/> epochs, then a final stage <c>kd</c> of soft-label KD plus
    /// cross-entropy for <see cref="InternalDistillationOptions.KdEpochs"/> epochs (by default the run's epoch count, so the
    /// internal stages come on top of it). When widths differ, one set of projections serves every stage.
    /// </summary>
    /// <param name="map">Pairs of layers, bottom-up.</param>
    /// <param name="options">Schedule and weights; defaults when null.</param>
    /// <returns>The recipe (stages <c>internal</c> or <c>layer{j}</c>..., then <c>kd</c>).</returns>
    /// <exception cref="ArgumentException">Every internal weight is 0, a weight is negative, or widths differ and are incomplete.</exception>
    public static DistillationRecipe InternalDistillation(LayerMap map, InternalDistillationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(map);
        var o = options ?? new InternalDistillationOptions();
        Guard.NonNegative(o.AttentionWeight, nameof(o.AttentionWeight));
        Guard.NonNegative(o.ClsWeight, nameof(o.ClsWeight));
        Guard.NonNegative(o.HiddenWeight, nameof(o.HiddenWeight));
        ArgumentOutOfRangeException.ThrowIfLessThan(o.EpochsPerStage, 1, nameof(options));
        if (o.KdEpochs is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), o.KdEpochs, "KdEpochs must be >= 1 (null: the run's epoch count).");
        }
        if (o.AttentionWeight == 0 && o.ClsWeight == 0 && o.HiddenWeight == 0)
        {
            throw new ArgumentException("At least one of AttentionWeight, ClsWeight and HiddenWeight must be > 0.", nameof(options));
        }

        if (o.StudentWidth.HasValue != o.TeacherWidth.HasValue)
        {
            throw new ArgumentException("Give both StudentWidth and TeacherWidth, or neither.", nameof(options));
        }

        var projections = o.StudentWidth is int sw && o.TeacherWidth is int tw && sw != tw && (o.ClsWeight > 0 || o.HiddenWeight > 0)
            ? new LayerProjections(map, sw, tw)
            : null;
        var stages = new List<DistillationStage>();
        switch (o.Schedule)
        {
            case InternalDistillationSchedule.AllLayers:
                stages.Add(new DistillationStage("internal", Internal(map, o, projections)) { Epochs = o.EpochsPerStage });
                break;
            case InternalDistillationSchedule.Progressive:
                for (var i = 0; i < map.Count; i++)
                {
                    stages.Add(new DistillationStage(StageName(map, i), Internal(map.At(i), o, projections)) { Epochs = o.EpochsPerStage });
                }

                break;
            default:
                for (var i = 0; i < map.Count; i++)
                {
                    stages.Add(new DistillationStage(StageName(map, i), Internal(map.Take(i + 1), o, projections)) { Epochs = o.EpochsPerStage });
                }

                break;
        }

        stages.Add(new DistillationStage("kd", Loss.Hinton(o.Temperature, o.Alpha, o.Student, o.Teacher)) { Epochs = o.KdEpochs });
        var name = o.Schedule switch
        {
            InternalDistillationSchedule.AllLayers => "internal-all",
            InternalDistillationSchedule.Progressive => "internal-pid",
            _ => "internal-sid",
        };
        return new DistillationRecipe(name, stages);
    }

    /// <summary>The internal terms of one stage over <paramref name="map"/>.</summary>
    /// <param name="map">The pairs of the stage.</param>
    /// <param name="options">Weights and participants.</param>
    /// <param name="projections">Shared projections, or null.</param>
    /// <returns>The weighted sum.</returns>
    public static DistillationLoss Internal(LayerMap map, InternalDistillationOptions options, LayerProjections? projections = null)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(options);
        var terms = new List<DistillationLoss>();
        if (options.AttentionWeight > 0)
        {
            terms.Add(options.AttentionWeight * new AttentionKLLoss(map, options.Student, options.Teacher));
        }

        if (options.ClsWeight > 0)
        {
            terms.Add(options.ClsWeight * new ClsCosineLoss(map, projections, options.Student, options.Teacher));
        }

        if (options.HiddenWeight > 0)
        {
            terms.Add(options.HiddenWeight * new HiddenStateMseLoss(map, projections, options.Student, options.Teacher));
        }

        return terms.Count == 1 ? terms[0] : Loss.Sum(terms.ToArray());
    }

    private static string StageName(LayerMap map, int index) => "layer" + map.Pairs[index].Student.ToString(CultureInfo.InvariantCulture);
}
