namespace KnowledgeDistillation.Data;

/// <summary>Where <see cref="FashionMnist.Load(FashionMnistOptions?, Microsoft.Extensions.Logging.ILogger?, CancellationToken)"/> looks for the data and how it prepares it.</summary>
public sealed class FashionMnistOptions
{
    /// <summary>A directory holding the four IDX files, searched first; <c>null</c> (default) skips it.</summary>
    public string? Directory { get; set; }

    /// <summary>
    /// The per-user cache, searched last and the target of a download; <c>null</c> (default) means
    /// <see cref="FashionMnist.DefaultCacheDirectory"/>.
    /// </summary>
    public string? CacheDirectory { get; set; }

    /// <summary>Whether to download missing files into the cache when no location has them (default true).</summary>
    public bool AllowDownload { get; set; } = true;

    /// <summary>
    /// Whether to standardise pixels as <c>(x/255 - <see cref="FashionMnist.TrainMean"/>) / <see cref="FashionMnist.TrainStd"/></c>
    /// (default true); when false, pixels are only scaled to [0, 1].
    /// </summary>
    public bool Normalize { get; set; } = true;

    /// <summary>Keep at most this many training samples (the first ones in file order), &gt;= 1; <c>null</c> (default) keeps all.</summary>
    public int? TrainLimit { get; set; }

    /// <summary>Keep at most this many test samples (the first ones in file order), &gt;= 1; <c>null</c> (default) keeps all.</summary>
    public int? TestLimit { get; set; }

    /// <summary>The time allowed for downloading each file (default 5 minutes); <see cref="Timeout.InfiniteTimeSpan"/> disables the limit.</summary>
    public TimeSpan DownloadTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The base address the four <c>.gz</c> files are downloaded from (default <see cref="FashionMnist.DefaultDownloadUri"/>).</summary>
    public Uri DownloadUri { get; set; } = FashionMnist.DefaultDownloadUri;

    /// <summary>Checks every value; throws an exception whose parameter name is the offending property.</summary>
    /// <exception cref="ArgumentException">A value is invalid.</exception>
    public void Validate()
    {
        if (Directory is not null && string.IsNullOrWhiteSpace(Directory))
        {
            throw new ArgumentException($"{nameof(Directory)} must be null or a directory path; got an empty string.", nameof(Directory));
        }

        if (CacheDirectory is not null && string.IsNullOrWhiteSpace(CacheDirectory))
        {
            throw new ArgumentException($"{nameof(CacheDirectory)} must be null or a directory path; got an empty string.", nameof(CacheDirectory));
        }

        if (TrainLimit is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(TrainLimit), TrainLimit, $"{nameof(TrainLimit)} must be null or >= 1.");
        }

        if (TestLimit is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(TestLimit), TestLimit, $"{nameof(TestLimit)} must be null or >= 1.");
        }

        if (DownloadTimeout <= TimeSpan.Zero && DownloadTimeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(
                nameof(DownloadTimeout), DownloadTimeout, $"{nameof(DownloadTimeout)} must be positive or Timeout.InfiniteTimeSpan.");
        }

        if (DownloadUri is null || !DownloadUri.IsAbsoluteUri || (DownloadUri.Scheme != Uri.UriSchemeHttp && DownloadUri.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"{nameof(DownloadUri)} must be an absolute http or https address; got '{DownloadUri}'.", nameof(DownloadUri));
        }
    }
}
