using KnowledgeDistillation.Detection.Models;
using KnowledgeDistillation.Losses;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Detection.Losses;

/// <summary>
/// The plain FPN feature-imitation baseline (FitNets-style hints, Romero et al. 2015, applied to every FPN level): the
/// mean over levels of <c>mean((a_l(F^S_l) − F^T_l)²)</c>, with a learned 1x1 convolution a_l per level (this term's
/// trainable modules) or, without adapters, the maps compared as they are. The teacher's maps are detached. Reports "NAME".
/// </summary>
public sealed class FpnFeatureMseLoss : DistillationLoss
{
    private readonly Conv2d[] _adapters;

    /// <summary>Creates the term.</summary>
    /// <param name="studentChannels">Student FPN channels.</param>
    /// <param name="teacherChannels">Teacher FPN channels.</param>
    /// <param name="adapters">Whether each level gets a learned 1x1 convolution (needed when the channel counts differ).</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    /// <param name="name">Reporting name (default "fpn-mse").</param>
    /// <exception cref="ArgumentException">Without adapters, the channel counts differ.</exception>
    public FpnFeatureMseLoss(int studentChannels, int teacherChannels, bool adapters = true, string student = "student", string teacher = "teacher", string name = "fpn-mse")
        : base(name)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(studentChannels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(teacherChannels, 1);
        if (!adapters && studentChannels != teacherChannels)
        {
            throw new ArgumentException($"Without adapters the student's {studentChannels} FPN channels must equal the teacher's {teacherChannels}.", nameof(adapters));
        }

        (Student, Teacher, StudentChannels, TeacherChannels) = (student, teacher, studentChannels, teacherChannels);
        _adapters = adapters ? FcosDetectorOptions.Levels.Select(_ => nn.Conv2d(studentChannels, teacherChannels, 1)).ToArray() : Array.Empty<Conv2d>();
    }

    /// <summary>The student's participant name.</summary>
    public string Student { get; }

    /// <summary>The teacher's participant name.</summary>
    public string Teacher { get; }

    /// <summary>Student FPN channels.</summary>
    public int StudentChannels { get; }

    /// <summary>Teacher FPN channels.</summary>
    public int TeacherChannels { get; }

    /// <inheritdoc />
    public override IReadOnlyList<nn.Module> TrainableModules => _adapters;

    /// <inheritdoc />
    public override LossRequirements Requirements
    {
        get
        {
            var r = LossRequirements.None;
            foreach (var level in FcosDetectorOptions.Levels)
            {
                r = r.Feature(Student, level).Feature(Teacher, level);
            }

            return r;
        }
    }

    /// <inheritdoc />
    public override LossResult Compute(DistillationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var total = (Tensor?)null;
        for (var l = 0; l < FcosDetectorOptions.Levels.Count; l++)
        {
            var level = FcosDetectorOptions.Levels[l];
            var s = context.Output(Student).Feature(level, Student);
            var t = context.Output(Teacher).Feature(level, Teacher).detach();
            var mapped = _adapters.Length > 0 ? _adapters[l].call(s) : s;
            if (!mapped.shape.SequenceEqual(t.shape))
            {
                throw new ArgumentException($"FPN level {level}: the student's map {Guard.Shape(s)} (after its adapter {Guard.Shape(mapped)}) does not match the teacher's {Guard.Shape(t)}.", nameof(context));
            }

            var term = nn.functional.mse_loss(mapped, t);
            total = total is null ? term : total + term;
        }

        return new LossResult(Name, total! / FcosDetectorOptions.Levels.Count);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var a in _adapters)
            {
                a.Dispose();
            }
        }
    }
}
