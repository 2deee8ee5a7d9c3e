using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Transformers.Losses;

/// <summary>
/// Learned linear maps from the student's hidden width to the teacher's, one per pair of the map (<c>layers.{i}</c>), for the
/// hidden-state and [CLS] terms when the widths differ. Owned and trained by the loss (one instance may serve the
/// terms of several stages, so a layer keeps its projection from stage to stage).
/// </summary>
public sealed class LayerProjections : nn.Module
{
    private readonly ModuleList<Linear> layers;
    private readonly Dictionary<int, int> indexByLayer;

    /// <summary>Creates projections for the student layers of <paramref name="map"/>.</summary>
    /// <param name="map">The pairs.</param>
    /// <param name="studentWidth">Student hidden width.</param>
    /// <param name="teacherWidth">Teacher hidden width.</param>
    public LayerProjections(LayerMap map, int studentWidth, int teacherWidth)
        : base(nameof(LayerProjections))
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentOutOfRangeException.ThrowIfLessThan(studentWidth, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(teacherWidth, 1);
        StudentWidth = studentWidth;
        TeacherWidth = teacherWidth;
        layers = nn.ModuleList(map.Pairs.Select(_ => nn.Linear(studentWidth, teacherWidth)).ToArray());
        indexByLayer = map.Pairs.Select((p, i) => (p.Student, i)).ToDictionary(x => x.Student, x => x.i);
        RegisterComponents();
    }

    /// <summary>Input width.</summary>
    public int StudentWidth { get; }

    /// <summary>Output width.</summary>
    public int TeacherWidth { get; }

    /// <summary>The projection of student layer <paramref name="studentLayer"/>.</summary>
    /// <param name="studentLayer">A student layer of the map.</param>
    /// <returns>The linear layer.</returns>
    /// <exception cref="ArgumentException">The layer has no projection.</exception>
    public Linear For(int studentLayer) =>
        indexByLayer.TryGetValue(studentLayer, out var index) ? layers[index]
        : throw new ArgumentException($"No projection for student layer {studentLayer}; projections exist for layers {string.Join(", ", indexByLayer.Keys)}.", nameof(studentLayer));

    /// <summary>Projects <paramref name="student"/> <c>[..., studentWidth]</c> of layer <paramref name="studentLayer"/>.</summary>
    /// <param name="studentLayer">The student layer.</param>
    /// <param name="student">The student's states.</param>
    /// <returns><c>[..., teacherWidth]</c>.</returns>
    public Tensor Project(int studentLayer, Tensor student)
    {
        ArgumentNullException.ThrowIfNull(student);
        if (student.shape[^1] != StudentWidth)
        {
            throw new ArgumentException($"The projection of student layer {studentLayer} takes width {StudentWidth}; got {Guard.Shape(student)}.", nameof(student));
        }

        return For(studentLayer).call(student);
    }
}
