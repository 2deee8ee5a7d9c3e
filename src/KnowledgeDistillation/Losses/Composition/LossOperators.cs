namespace KnowledgeDistillation.Losses;

/// <summary>
/// <c>*</c> and <c>+</c> for every <see cref="IDistillationLoss"/>, also one that implements only the interface (C# 14
/// extension operators, in scope with <c>using KnowledgeDistillation.Losses;</c>): <c>0.9 * kd + myLoss</c> and
/// <c>0.5 * myLoss</c> compose like <see cref="DistillationLoss"/>'s own operators. <see cref="Loss.Of"/> wraps such a
/// loss explicitly, for languages and compilers without extension operators.
/// </summary>
public static class LossOperators
{
    extension(IDistillationLoss)
    {
        /// <summary>Scales a loss by a constant weight.</summary>
        /// <param name="weight">A finite weight &gt;= 0.</param>
        /// <param name="loss">The loss.</param>
        /// <returns>The weighted loss.</returns>
        public static DistillationLoss operator *(double weight, IDistillationLoss loss) => new WeightedLoss(weight, loss);

        /// <summary>Scales a loss by a constant weight.</summary>
        /// <param name="loss">The loss.</param>
        /// <param name="weight">A finite weight &gt;= 0.</param>
        /// <returns>The weighted loss.</returns>
        public static DistillationLoss operator *(IDistillationLoss loss, double weight) => new WeightedLoss(weight, loss);

        /// <summary>Adds two losses (their names must differ).</summary>
        /// <param name="left">The first loss.</param>
        /// <param name="right">The second loss.</param>
        /// <returns>The sum.</returns>
        public static DistillationLoss operator +(IDistillationLoss left, IDistillationLoss right) => new SumLoss(left, right);
    }
}
