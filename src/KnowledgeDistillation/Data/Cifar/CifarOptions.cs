namespace KnowledgeDistillation.Data;

/// <summary>Where <see cref="Cifar.Load(CifarVariant, CifarOptions?, Microsoft.Extensions.Logging.ILogger?, CancellationToken)"/> looks for the CIFAR binary files and how it reads them.</summary>
public sealed class CifarOptions
{
    /// <summary>
    /// A directory holding the binary files, searched first; the files may be in it directly or in the archive's
    /// folder inside it (<c>cifar-10-batches-bin</c>, <c>cifar-100-binary</c>). <c>null</c> (default) skips it.
    /// </summary>
    public string? Directory { get; set; }

    /// <summary>The per-user cache, searched last and the target of a download; <c>null</c> (default) means <see cref="Cifar.DefaultCacheDirectory"/>.</summary>
    public string? CacheDirectory { get; set; }

    /// <summary>Whether to download the official archive into the cache when no location has the files (default true).</summary>
    public bool AllowDownload { get; set; } = true;

    /// <summary>For CIFAR-100, label samples with the 20 coarse classes instead of the 100 fine ones (default false).</summary>
    public bool CoarseLabels { get; set; }

    /// <summary>Keep at most this many training samples (the first in file order), &gt;= 1; <c>null</c> (default) keeps all.</summary>
    public int? TrainLimit { get; set; }

    /// <summary>Keep at most this many test samples (the first in file order), &gt;= 1; <c>null</c> (default) keeps all.</summary>
    public int? TestLimit { get; set; }

    /// <summary>The time allowed for the download (default 30 minutes; the archives are about 165 MB); <see cref="Timeout.InfiniteTimeSpan"/> disables the limit.</summary>
    public TimeSpan DownloadTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>The base address the archives are downloaded from (default <see cref="Cifar.DefaultDownloadUri"/>).</summary>
    public Uri DownloadUri { get; set; } = Cifar.DefaultDownloadUri;

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
