namespace KnowledgeDistillation.Data;

/// <summary>The Fashion-MNIST training and test sets, as returned by <see cref="FashionMnist.Load(FashionMnistOptions?, Microsoft.Extensions.Logging.ILogger?, CancellationToken)"/>. Disposing it disposes both datasets.</summary>
public sealed class FashionMnistData : IDisposable
{
    internal FashionMnistData(TensorDataset train, TensorDataset test, string sourceDirectory)
    {
        Train = train;
        Test = test;
        SourceDirectory = sourceDirectory;
    }

    /// <summary>The training set: inputs float32 [N, 1, 28, 28], targets int64 [N] (60,000 samples unless limited).</summary>
    public TensorDataset Train { get; }

    /// <summary>The test set: inputs float32 [N, 1, 28, 28], targets int64 [N] (10,000 samples unless limited).</summary>
    public TensorDataset Test { get; }

    /// <summary>The directory the files were read from.</summary>
    public string SourceDirectory { get; }

    /// <summary>The class names, indexed by label (see <see cref="FashionMnist.ClassNames"/>).</summary>
    public IReadOnlyList<string> ClassNames => FashionMnist.ClassNames;

    /// <inheritdoc />
    public void Dispose()
    {
        Train.Dispose();
        Test.Dispose();
    }
}
