using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// The per-layer module of VID (Ahn, Hu, Damianou, Lawrence and Dai, "Variational Information Distillation for Knowledge
/// Transfer", CVPR 2019, arXiv 1904.05835; RepDistiller <c>distiller_zoo/VID.py</c>, mdistiller <c>distillers/VID.py</c>):
/// the mean of a Gaussian over the teacher's map, predicted from the student's map by three 1×1 convolutions without bias
/// with ReLUs between (C_s → C_mid → C_mid → C_t), and a learned per-channel variance
/// <c>σ²_c = softplus(log_scale_c) + ε</c>, initialised so that <c>σ²_c</c> starts at a given initial variance.
/// State-dict names are <c>regressor.0.weight</c>, <c>regressor.2.weight</c>, <c>regressor.4.weight</c> and <c>log_scale</c>.
/// </summary>
public sealed class VidRegressor : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> regressor;
    private readonly TorchSharp.Modules.Parameter log_scale;

    /// <summary>Creates the module (convolutions initialised by TorchSharp's defaults, from its global generator).</summary>
    /// <param name="studentChannels">C_s &gt;= 1.</param>
    /// <param name="teacherChannels">C_t &gt;= 1.</param>
    /// <param name="midChannels">C_mid &gt;= 1; <c>null</c>: C_t (the references).</param>
    /// <param name="initialVariance">The variance every channel starts at, &gt; ε (the references: 5).</param>
    /// <param name="epsilon">ε &gt; 0, the variance floor (the references: 1e-5).</param>
    /// <param name="name">Module name.</param>
    /// <exception cref="ArgumentOutOfRangeException">A channel count is below 1, ε &lt;= 0, or the initial variance is not above ε.</exception>
    public VidRegressor(long studentChannels, long teacherChannels, long? midChannels = null, double initialVariance = 5.0, double epsilon = 1e-5, string name = "vid_regressor")
        : base(name)
    {
        StudentChannels = AtLeastOne(studentChannels, nameof(studentChannels));
        TeacherChannels = AtLeastOne(teacherChannels, nameof(teacherChannels));
        MidChannels = AtLeastOne(midChannels ?? teacherChannels, nameof(midChannels));
        Epsilon = Guard.Positive(epsilon, nameof(epsilon));
        InitialVariance = initialVariance > epsilon && double.IsFinite(initialVariance)
            ? initialVariance
            : throw new ArgumentOutOfRangeException(nameof(initialVariance), initialVariance, $"The initial variance must be finite and above epsilon ({epsilon}).");
        regressor = nn.Sequential(
            ("0", nn.Conv2d(studentChannels, MidChannels, 1, bias: false)),
            ("1", nn.ReLU()),
            ("2", nn.Conv2d(MidChannels, MidChannels, 1, bias: false)),
            ("3", nn.ReLU()),
            ("4", nn.Conv2d(MidChannels, teacherChannels, 1, bias: false)));
        var start = Math.Log(Math.Exp(initialVariance - epsilon) - 1.0);
        log_scale = nn.Parameter(full(teacherChannels, start, ScalarType.Float32));
        RegisterComponents();
    }

    /// <summary>C_s, the student map's channels.</summary>
    public long StudentChannels { get; }

    /// <summary>C_t, the teacher map's channels.</summary>
    public long TeacherChannels { get; }

    /// <summary>C_mid, the hidden width.</summary>
    public long MidChannels { get; }

    /// <summary>The variance every channel starts at.</summary>
    public double InitialVariance { get; }

    /// <summary>ε, the variance floor.</summary>
    public double Epsilon { get; }

    /// <summary>The per-channel variance <c>softplus(log_scale) + ε</c> [C_t].</summary>
    public Tensor Variance() => nn.functional.softplus(log_scale) + Epsilon;

    /// <summary>The predicted mean of the teacher's map [B, C_t, H, W] from the student's [B, C_s, H, W].</summary>
    /// <param name="input">The student's map.</param>
    public override Tensor forward(Tensor input) => regressor.call(input);

    /// <summary>
    /// VID's loss for one layer: the mean over all elements of the Gaussian negative log-likelihood (without its constant),
    /// <c>½ ((μ − t)² / σ²_c + log σ²_c)</c>; maps of other spatial sizes are pooled to the smaller one first.
    /// </summary>
    /// <param name="student">The student's map [B, C_s, H, W].</param>
    /// <param name="teacher">The teacher's map [B, C_t, H', W'].</param>
    public Tensor NegativeLogLikelihood(Tensor student, Tensor teacher)
    {
        var (s, t) = FeatureDistillationLoss.MatchSpatialSize(student, teacher);
        var mean = call(s);
        var variance = Variance().reshape(1, -1, 1, 1);
        return (0.5 * ((mean - t).pow(2) / variance + variance.log())).mean();
    }

    private static long AtLeastOne(long value, string name) =>
        value >= 1 ? value : throw new ArgumentOutOfRangeException(name, value, $"{name} must be >= 1.");
}
