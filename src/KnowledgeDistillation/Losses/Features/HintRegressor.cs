using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// The learned regressor of FitNets' hint (Romero et al., ICLR 2015), in the form mdistiller and RepDistiller use for
/// CIFAR (<c>ConvReg</c>): maps a student map [B, C_s, H_s, W_s] to the teacher's [B, C_t, H_t, W_t] with one convolution
/// chosen by the spatial sizes, then batch normalisation and (by default) ReLU:
/// <c>H_s = 2 H_t</c>: 3×3 convolution, stride 2, padding 1; <c>2 H_s = H_t</c>: 4×4 transposed convolution, stride 2,
/// padding 1; <c>H_s &gt;= H_t</c>: convolution with kernel <c>(1 + H_s − H_t) × (1 + W_s − W_t)</c>. State-dict names are
/// <c>conv.weight</c>, <c>conv.bias</c>, <c>bn.*</c> as in the reference module.
/// </summary>
public sealed class HintRegressor : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> conv;
    private readonly nn.Module<Tensor, Tensor> bn;

    /// <summary>Creates the regressor with freshly initialised weights (TorchSharp's global random generator).</summary>
    /// <param name="studentChannels">C_s &gt;= 1.</param>
    /// <param name="teacherChannels">C_t &gt;= 1.</param>
    /// <param name="studentSize">(H_s, W_s), each &gt;= 1.</param>
    /// <param name="teacherSize">(H_t, W_t), each &gt;= 1.</param>
    /// <param name="relu">Whether a ReLU follows the batch normalisation (the references: yes).</param>
    /// <param name="name">Module name.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is below 1.</exception>
    /// <exception cref="ArgumentException">The student map is smaller than the teacher's and not half its size (no reference rule).</exception>
    public HintRegressor(long studentChannels, long teacherChannels, (long Height, long Width) studentSize, (long Height, long Width) teacherSize, bool relu = true, string name = "hint_regressor")
        : base(name)
    {
        StudentChannels = AtLeastOne(studentChannels, nameof(studentChannels));
        TeacherChannels = AtLeastOne(teacherChannels, nameof(teacherChannels));
        StudentSize = (AtLeastOne(studentSize.Height, nameof(studentSize)), AtLeastOne(studentSize.Width, nameof(studentSize)));
        TeacherSize = (AtLeastOne(teacherSize.Height, nameof(teacherSize)), AtLeastOne(teacherSize.Width, nameof(teacherSize)));
        Relu = relu;
        var (hs, ws) = StudentSize;
        var (ht, wt) = TeacherSize;
        if (hs == 2 * ht)
        {
            conv = nn.Conv2d(studentChannels, teacherChannels, 3, stride: 2, padding: 1);
        }
        else if (2 * hs == ht)
        {
            conv = nn.ConvTranspose2d(studentChannels, teacherChannels, 4, stride: 2, padding: 1);
        }
        else if (hs >= ht && ws >= wt)
        {
            conv = nn.Conv2d(studentChannels, teacherChannels, (1 + hs - ht, 1 + ws - wt));
        }
        else
        {
            throw new ArgumentException(
                $"No hint regressor maps a {hs}x{ws} student map to a {ht}x{wt} teacher map: the student map must be twice, half, or at least the teacher's size.",
                nameof(studentSize));
        }

        bn = nn.BatchNorm2d(teacherChannels);
        RegisterComponents();
    }

    /// <summary>C_s, the channels of the student map.</summary>
    public long StudentChannels { get; }

    /// <summary>C_t, the channels of the teacher map (and of the output).</summary>
    public long TeacherChannels { get; }

    /// <summary>(H_s, W_s), the spatial size of the student map.</summary>
    public (long Height, long Width) StudentSize { get; }

    /// <summary>(H_t, W_t), the spatial size of the teacher map (and of the output).</summary>
    public (long Height, long Width) TeacherSize { get; }

    /// <summary>Whether a ReLU follows the batch normalisation.</summary>
    public bool Relu { get; }

    /// <summary>Creates a regressor for a student and a teacher map of the given shapes ([B, C, H, W]; B is ignored).</summary>
    /// <param name="studentShape">The student map's shape.</param>
    /// <param name="teacherShape">The teacher map's shape.</param>
    /// <param name="relu">Whether a ReLU follows the batch normalisation.</param>
    /// <exception cref="ArgumentException">A shape is not [B, C, H, W], or no rule maps the sizes.</exception>
    public static HintRegressor For(long[] studentShape, long[] teacherShape, bool relu = true)
    {
        ArgumentNullException.ThrowIfNull(studentShape);
        ArgumentNullException.ThrowIfNull(teacherShape);
        if (studentShape.Length != 4 || teacherShape.Length != 4)
        {
            throw new ArgumentException(
                $"Shapes must be [batch, channels, H, W]; got {Guard.FormatShape(studentShape)} and {Guard.FormatShape(teacherShape)}.", nameof(studentShape));
        }

        return new HintRegressor(studentShape[1], teacherShape[1], (studentShape[2], studentShape[3]), (teacherShape[2], teacherShape[3]), relu);
    }

    /// <summary>Checks that <paramref name="studentMap"/> is a floating-point [B, C_s, H_s, W_s] map this regressor accepts.</summary>
    /// <param name="studentMap">The student map.</param>
    /// <param name="what">Its description (the exception's parameter name).</param>
    /// <exception cref="ArgumentException">The rank, channel count or spatial size differs from the regressor's.</exception>
    public void CheckInput(Tensor studentMap, string what = "student map")
    {
        Guard.Rank(studentMap, 4, what, "[batch, channels, H, W]");
        Guard.FloatingPoint(studentMap, what);
        if (studentMap.shape[1] != StudentChannels || studentMap.shape[2] != StudentSize.Height || studentMap.shape[3] != StudentSize.Width)
        {
            throw new ArgumentException(
                $"The hint regressor maps [batch, {StudentChannels}, {StudentSize.Height}, {StudentSize.Width}] student maps; got {what} {Guard.Shape(studentMap)}.", what);
        }
    }

    /// <summary><c>[ReLU](BN(conv(x)))</c>: [B, C_s, H_s, W_s] → [B, C_t, H_t, W_t].</summary>
    /// <param name="input">The student map.</param>
    public override Tensor forward(Tensor input)
    {
        CheckInput(input, nameof(input));
        var output = bn.call(conv.call(input));
        return Relu ? nn.functional.relu(output) : output;
    }

    private static long AtLeastOne(long value, string name) =>
        value >= 1 ? value : throw new ArgumentOutOfRangeException(name, value, $"'{name}' must be >= 1.");
}
