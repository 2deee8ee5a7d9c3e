using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Recommendation;

/// <summary>
/// The distillation-experts objective shared by DE and HTD's group assignment (L_GA):
/// <c>z_e = softmax((log(α_e + 1e-10) + g_e) / T)</c> with Gumbel(0, 1) noise g, and
/// <c>L = Σ_e ‖t_e − Σ_k z_{e,k} f_k(s_e)‖²</c> (summed over the entities).
/// </summary>
public static class ExpertDistillation
{
    /// <summary>The value for explicit inputs (the noise is an argument so the formula can be checked).</summary>
    /// <param name="teacher">Teacher rows t [n, d_t].</param>
    /// <param name="expertOutputs">f_k(s_e) [n, K, d_t].</param>
    /// <param name="selection">α [n, K] (probabilities).</param>
    /// <param name="gumbel">g [n, K].</param>
    /// <param name="temperature">T &gt; 0.</param>
    public static Tensor Value(Tensor teacher, Tensor expertOutputs, Tensor selection, Tensor gumbel, double temperature)
    {
        ArgumentNullException.ThrowIfNull(teacher);
        ArgumentNullException.ThrowIfNull(expertOutputs);
        Guard.Positive(temperature, nameof(temperature));
        Guard.Rank(expertOutputs, 3, nameof(expertOutputs), "[n, K, d_t]");
        Guard.Rank(selection, 2, nameof(selection), "[n, K]");
        Guard.SameShape(gumbel, nameof(gumbel), selection, nameof(selection));
        if (expertOutputs.shape[0] != teacher.shape[0] || expertOutputs.shape[1] != selection.shape[1] || expertOutputs.shape[2] != teacher.shape[1]
            || selection.shape[0] != teacher.shape[0])
        {
            throw new ArgumentException(
                $"Shapes disagree: teacher {Guard.Shape(teacher)}, expert outputs {Guard.Shape(expertOutputs)} (expected [n, K, d_t]), selection {Guard.Shape(selection)}.",
                nameof(expertOutputs));
        }
        using var scope = NewDisposeScope();
        var z = ((selection + 1e-10).log() + gumbel).div(temperature).softmax(1);
        var reconstruction = (z.unsqueeze(2) * expertOutputs).sum(1);
        return (teacher - reconstruction).pow(2).sum().MoveToOuterDisposeScope();
    }

    /// <summary>Standard Gumbel(0, 1) noise <c>−log(−log U)</c>, U uniform in (0, 1), from TorchSharp's generator.</summary>
    /// <param name="like">A tensor of the wanted shape, type and device.</param>
    public static Tensor Noise(Tensor like)
    {
        ArgumentNullException.ThrowIfNull(like);
        using var scope = NewDisposeScope();
        var u = rand_like(like).clamp(1e-20, 1.0 - 1e-7);
        return (-(-u.log()).log()).MoveToOuterDisposeScope();
    }

    /// <summary>L_GA for one entity type: selection from the teacher rows, experts on the student rows, fresh Gumbel noise.</summary>
    /// <param name="experts">The experts.</param>
    /// <param name="teacher">Teacher rows (detached) [n, d_t].</param>
    /// <param name="student">Student rows [n, d_s].</param>
    /// <param name="users">Users' networks (true) or items'.</param>
    /// <param name="temperature">T.</param>
    public static Tensor Loss(DistillationExperts experts, Tensor teacher, Tensor student, bool users, double temperature)
    {
        ArgumentNullException.ThrowIfNull(experts);
        using var scope = NewDisposeScope();
        var alpha = experts.SelectionLogits(teacher, users).softmax(1);
        var value = Value(teacher, experts.ExpertOutputs(student, users), alpha, Noise(alpha), temperature);
        return value.MoveToOuterDisposeScope();
    }
}
