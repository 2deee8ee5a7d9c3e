namespace KnowledgeDistillation.Data;

/// <summary>A CIFAR training and test split, as returned by <see cref="Cifar.Load(CifarVariant, CifarOptions?, Microsoft.Extensions.Logging.ILogger?, CancellationToken)"/>.</summary>
public sealed class CifarData
{
    internal CifarData(CifarVariant variant, CifarDataset train, CifarDataset test, string sourceDirectory)
    {
        Variant = variant;
        Train = train;
        Test = test;
        SourceDirectory = sourceDirectory;
    }

    /// <summary>The dataset.</summary>
    public CifarVariant Variant { get; }

    /// <summary>The training split (50,000 samples unless limited).</summary>
    public CifarDataset Train { get; }

    /// <summary>The test split (10,000 samples unless limited).</summary>
    public CifarDataset Test { get; }

    /// <summary>The directory the files were read from.</summary>
    public string SourceDirectory { get; }
}
