using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Recommendation;

/// <summary>
/// Distillation experts of DE (Kang et al. 2020, "DE-RRD: A Knowledge Distillation Framework for Recommender System",
/// CIKM) as reused by HTD's group assignment: for users and for items separately, a selection network
/// <c>α_e = softmax(W t_e + b)</c> over K experts (input: the teacher's row) and K experts
/// <c>f_k: d_s → ⌊(d_s + d_t)/2⌋ → ReLU → d_t</c> (input: the student's row). The K experts of a type are evaluated at
/// once with batched matrix products (parameters [K, in, out]); each is initialised like <c>nn.Linear</c>
/// (uniform ±1/sqrt(fan_in)).
/// </summary>
public sealed class DistillationExperts : nn.Module
{
    private readonly Linear user_selection;
    private readonly Linear item_selection;
    private readonly Parameter user_w1, user_b1, user_w2, user_b2;
    private readonly Parameter item_w1, item_b1, item_w2, item_b2;

    /// <summary>Creates the experts.</summary>
    /// <param name="studentDimension">d_s &gt;= 1.</param>
    /// <param name="teacherDimension">d_t &gt;= 1.</param>
    /// <param name="experts">K &gt;= 1 (HTD: 30 groups per entity type).</param>
    /// <param name="name">Module name.</param>
    public DistillationExperts(int studentDimension, int teacherDimension, int experts, string name = "experts")
        : base(name)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(studentDimension, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(teacherDimension, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(experts, 1);
        StudentDimension = studentDimension;
        TeacherDimension = teacherDimension;
        Experts = experts;
        var hidden = (studentDimension + teacherDimension) / 2;
        user_selection = nn.Linear(teacherDimension, experts);
        item_selection = nn.Linear(teacherDimension, experts);
        (user_w1, user_b1) = Layer(experts, studentDimension, hidden);
        (user_w2, user_b2) = Layer(experts, hidden, teacherDimension);
        (item_w1, item_b1) = Layer(experts, studentDimension, hidden);
        (item_w2, item_b2) = Layer(experts, hidden, teacherDimension);
        RegisterComponents();
    }

    /// <summary>d_s.</summary>
    public int StudentDimension { get; }

    /// <summary>d_t.</summary>
    public int TeacherDimension { get; }

    /// <summary>K.</summary>
    public int Experts { get; }

    /// <summary>The selection logits <c>W t + b</c> [n, K] of users (<paramref name="users"/> true) or items.</summary>
    /// <param name="teacherRows">Teacher rows [n, d_t].</param>
    /// <param name="users">Users' network (true) or items' (false).</param>
    public Tensor SelectionLogits(Tensor teacherRows, bool users)
    {
        ArgumentNullException.ThrowIfNull(teacherRows);
        if (teacherRows.dim() != 2 || teacherRows.shape[1] != TeacherDimension)
        {
            throw new ArgumentException($"Teacher rows must be [n, {TeacherDimension}]; got {Guard.Shape(teacherRows)}.", nameof(teacherRows));
        }
        return (users ? user_selection : item_selection).call(teacherRows);
    }

    /// <summary>Every expert's output <c>f_k(s_e)</c> [n, K, d_t] for student rows [n, d_s].</summary>
    /// <param name="studentRows">Student rows [n, d_s].</param>
    /// <param name="users">Users' experts (true) or items' (false).</param>
    public Tensor ExpertOutputs(Tensor studentRows, bool users)
    {
        ArgumentNullException.ThrowIfNull(studentRows);
        if (studentRows.dim() != 2 || studentRows.shape[1] != StudentDimension)
        {
            throw new ArgumentException($"Student rows must be [n, {StudentDimension}]; got {Guard.Shape(studentRows)}.", nameof(studentRows));
        }
        using var scope = NewDisposeScope();
        var (w1, b1, w2, b2) = users ? (user_w1, user_b1, user_w2, user_b2) : (item_w1, item_b1, item_w2, item_b2);
        // [K, n, d_s] x [K, d_s, h] -> [K, n, h]
        var x = studentRows.unsqueeze(0).expand(Experts, -1, -1);
        var h = nn.functional.relu(x.bmm(w1) + b1.unsqueeze(1));
        var y = h.bmm(w2) + b2.unsqueeze(1);
        return y.permute(1, 0, 2).MoveToOuterDisposeScope();
    }

    private static (Parameter Weight, Parameter Bias) Layer(int experts, int fanIn, int fanOut)
    {
        var bound = 1.0 / Math.Sqrt(fanIn);
        using var noGrad = no_grad();
        var w = (rand(experts, fanIn, fanOut) * 2 - 1) * bound;
        var b = (rand(experts, fanOut) * 2 - 1) * bound;
        return (new Parameter(w), new Parameter(b));
    }
}
