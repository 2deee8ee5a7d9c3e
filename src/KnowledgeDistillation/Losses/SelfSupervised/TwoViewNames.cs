namespace KnowledgeDistillation.Losses;

/// <summary>The feature names <see cref="Data.TwoViews"/> gives the two views' outputs by default.</summary>
public static class TwoViewNames
{
    /// <summary>The first view's output ("view1").</summary>
    public const string First = "view1";

    /// <summary>The second view's output ("view2").</summary>
    public const string Second = "view2";
}
