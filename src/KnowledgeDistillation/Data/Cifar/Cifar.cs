using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using KnowledgeDistillation.Internal;
using Microsoft.Extensions.Logging;

namespace KnowledgeDistillation.Data;

/// <summary>
/// Loads CIFAR-10 (60,000 32x32 colour images, 10 classes) and CIFAR-100 (100 fine / 20 coarse classes) from the
/// official binary version into <see cref="CifarDataset"/>s.
/// </summary>
/// <remarks>
/// The files (CIFAR-10: <c>data_batch_1.bin</c> .. <c>data_batch_5.bin</c>, <c>test_batch.bin</c>; CIFAR-100:
/// <c>train.bin</c>, <c>test.bin</c>) are searched for, directly or inside the archive's folder
/// (<c>cifar-10-batches-bin</c>, <c>cifar-100-binary</c>), in this order: <see cref="CifarOptions.Directory"/>; the
/// directory named by <see cref="Cifar10EnvironmentVariable"/> or <see cref="Cifar100EnvironmentVariable"/>; the cache
/// (<see cref="CifarOptions.CacheDirectory"/>, by default <see cref="DefaultCacheDirectory"/>). When none has them and
/// <see cref="CifarOptions.AllowDownload"/> is set, the official archive is downloaded into the cache, its MD5 checked
/// against the published one, and only the expected files are extracted. Without internet access the error lists
/// every place searched and how to get the files.
/// </remarks>
public static class Cifar
{
    /// <summary>The environment variable that may name a directory holding the CIFAR-10 files.</summary>
    public const string Cifar10EnvironmentVariable = "CIFAR10_DIR";

    /// <summary>The environment variable that may name a directory holding the CIFAR-100 files.</summary>
    public const string Cifar100EnvironmentVariable = "CIFAR100_DIR";

    /// <summary>The archive's folder for CIFAR-10.</summary>
    public const string Cifar10Folder = "cifar-10-batches-bin";

    /// <summary>The archive's folder for CIFAR-100.</summary>
    public const string Cifar100Folder = "cifar-100-binary";

    /// <summary>The largest archive accepted from a download, in bytes (the real ones are about 170 MB).</summary>
    internal const long MaxDownloadBytes = 256L << 20;

    private static readonly Spec Cifar10Spec = new(
        CifarVariant.Cifar10, "cifar-10-binary.tar.gz", "c32a1d4ab5d03f1284b67883e8d87530", Cifar10Folder,
        ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"], "test_batch.bin");

    private static readonly Spec Cifar100Spec = new(
        CifarVariant.Cifar100, "cifar-100-binary.tar.gz", "03b5dce01913d631647c71ecec9e9cb8", Cifar100Folder, ["train.bin"], "test.bin");

    /// <summary>CIFAR-10's per-channel training means (RGB, pixels in [0, 1]), as commonly quoted.</summary>
    public static IReadOnlyList<double> Cifar10Mean { get; } = [0.4914, 0.4822, 0.4465];

    /// <summary>CIFAR-10's per-channel training standard deviations (RGB, population over all pixels), as commonly quoted.</summary>
    public static IReadOnlyList<double> Cifar10Std { get; } = [0.2470, 0.2435, 0.2616];

    /// <summary>CIFAR-100's per-channel training means (RGB, pixels in [0, 1]), as commonly quoted.</summary>
    public static IReadOnlyList<double> Cifar100Mean { get; } = [0.5071, 0.4865, 0.4409];

    /// <summary>CIFAR-100's per-channel training standard deviations (RGB), as commonly quoted.</summary>
    public static IReadOnlyList<double> Cifar100Std { get; } = [0.2673, 0.2564, 0.2762];

    /// <summary>The address the archives are downloaded from (the dataset authors' page).</summary>
    public static Uri DefaultDownloadUri { get; } = new("https://www.cs.toronto.edu/~kriz/");

    /// <summary>The per-user download cache: <c>&lt;LocalApplicationData&gt;/KnowledgeDistillation/cifar</c>, or under the temporary directory.</summary>
    public static string DefaultCacheDirectory
    {
        get
        {
            var root = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify);
            return Path.Combine(string.IsNullOrEmpty(root) ? Path.GetTempPath() : root, "KnowledgeDistillation", "cifar");
        }
    }

    /// <summary>Finds (or downloads) CIFAR-10 or CIFAR-100 and reads both splits.</summary>
    /// <param name="variant">Which dataset.</param>
    /// <param name="options">Where to look and how to read; <c>null</c> uses the defaults.</param>
    /// <param name="logger">Receives where the data came from and download progress; <c>null</c> logs nothing.</param>
    /// <param name="ct">Cancels a download.</param>
    /// <returns>The training and test splits.</returns>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    /// <exception cref="FileNotFoundException">No location has the files and the download is disabled or failed (the inner exception); the message lists every place searched.</exception>
    /// <exception cref="InvalidDataException">A file is malformed (the message names the file and the field).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="ct"/> was cancelled.</exception>
    public static CifarData Load(CifarVariant variant, CifarOptions? options = null, ILogger? logger = null, CancellationToken ct = default) =>
        Load(variant, options, logger, ct, CifarEnvironment.Default);

    /// <summary>The same as the public overload, with the environment, cache and HTTP replaceable for tests.</summary>
    internal static CifarData Load(CifarVariant variant, CifarOptions? options, ILogger? logger, CancellationToken ct, CifarEnvironment environment)
    {
        options ??= new CifarOptions();
        options.Validate();
        var spec = variant switch
        {
            CifarVariant.Cifar10 => Cifar10Spec,
            CifarVariant.Cifar100 => Cifar100Spec,
            _ => throw new ArgumentOutOfRangeException(nameof(variant), variant, "Expected Cifar10 or Cifar100."),
        };
        ct.ThrowIfCancellationRequested();
        var cacheDirectory = Path.GetFullPath(options.CacheDirectory ?? environment.DefaultCacheDirectory);
        var variable = variant == CifarVariant.Cifar10 ? Cifar10EnvironmentVariable : Cifar100EnvironmentVariable;
        var envValue = environment.GetEnvironmentVariable(variable);
        var candidates = new (string Label, string? Directory)[]
        {
            ($"{nameof(CifarOptions)}.{nameof(CifarOptions.Directory)}", options.Directory),
            ($"environment variable {variable}", string.IsNullOrWhiteSpace(envValue) ? null : envValue),
            ("download cache", cacheDirectory),
        };

        var searched = new List<string>();
        string? found = null;
        foreach (var (label, directory) in candidates)
        {
            if (directory is null)
            {
                searched.Add($"{label}: not set");
                continue;
            }

            var full = Path.GetFullPath(directory);
            if (Find(full, spec, out var missing) is { } hit)
            {
                found = hit;
                break;
            }

            searched.Add($"{label}: {full} ({missing})");
        }

        Exception? downloadError = null;
        if (found is null && options.AllowDownload)
        {
            try
            {
                Download(spec, cacheDirectory, options, environment, logger, ct);
                found = Find(cacheDirectory, spec, out _);
            }
            catch (Exception e) when (!ct.IsCancellationRequested && e is HttpRequestException or TimeoutException or IOException
                                          or InvalidDataException or UnauthorizedAccessException or NotSupportedException or OperationCanceledException)
            {
                logger?.LogWarning(e, "Downloading {Archive} into {Directory} failed", spec.Archive, cacheDirectory);
                downloadError = e;
            }
        }

        if (found is null)
        {
            throw NotFound(spec, searched, options, cacheDirectory, downloadError);
        }

        logger?.LogInformation("Loading {Variant} from {Directory}", variant, found);
        var train = CifarArray.Concat(spec.TrainFiles.Select(f => CifarReader.Read(Path.Combine(found, f), variant)).ToList());
        var test = CifarReader.Read(Path.Combine(found, spec.TestFile), variant);
        if (options.TrainLimit is { } trainLimit)
        {
            train = train.Take(trainLimit);
        }

        if (options.TestLimit is { } testLimit)
        {
            test = test.Take(testLimit);
        }

        logger?.LogInformation("Loaded {Variant}: {TrainCount} training and {TestCount} test samples", variant, train.Count, test.Count);
        return new CifarData(variant, new CifarDataset(train, options.CoarseLabels), new CifarDataset(test, options.CoarseLabels), found);
    }

    /// <summary>The directory (<paramref name="directory"/> or its archive folder) holding every file, or <c>null</c> with what is missing.</summary>
    private static string? Find(string directory, Spec spec, out string missing)
    {
        if (!System.IO.Directory.Exists(directory))
        {
            missing = "directory does not exist";
            return null;
        }

        var names = spec.TrainFiles.Append(spec.TestFile).ToArray();
        foreach (var candidate in new[] { directory, Path.Combine(directory, spec.Folder) })
        {
            if (names.All(n => File.Exists(Path.Combine(candidate, n))))
            {
                missing = string.Empty;
                return candidate;
            }
        }

        var absent = names.Where(n => !File.Exists(Path.Combine(directory, n)) && !File.Exists(Path.Combine(directory, spec.Folder, n)));
        missing = $"missing {string.Join(", ", absent)}, directly or in {spec.Folder}/";
        return null;
    }

    private static void Download(Spec spec, string cacheDirectory, CifarOptions options, CifarEnvironment environment, ILogger? logger, CancellationToken ct)
    {
        System.IO.Directory.CreateDirectory(cacheDirectory);
        var baseUri = options.DownloadUri.AbsoluteUri.EndsWith('/') ? options.DownloadUri : new Uri(options.DownloadUri.AbsoluteUri + "/");
        var uri = new Uri(baseUri, spec.Archive);
        var archive = Path.Combine(cacheDirectory, $"{spec.Archive}.{Guid.NewGuid():N}.part");
        try
        {
            logger?.LogInformation("Downloading {Uri} into {Directory}", uri, cacheDirectory);
            var md5 = DownloadToFile(uri, archive, options.DownloadTimeout, environment, ct);
            var expected = environment.ExpectedMd5?.Invoke(spec.Variant) ?? spec.Md5;
            if (!string.Equals(md5, expected, StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidDataException($"The archive downloaded from {uri} has MD5 {md5}, not the published {expected}; it is incomplete or not the official file.");
            }

            Extract(spec, archive, uri, cacheDirectory, ct);
        }
        finally
        {
            AtomicFile.TryDelete(archive);
        }
    }

    /// <summary>Downloads <paramref name="uri"/> into <paramref name="path"/> and returns the content's MD5 (lower-case hex).</summary>
    private static string DownloadToFile(Uri uri, string path, TimeSpan timeout, CifarEnvironment environment, CancellationToken ct)
    {
        using var client = environment.HttpHandler is { } handler ? new HttpClient(handler, disposeHandler: false) : new HttpClient();
        client.Timeout = Timeout.InfiniteTimeSpan;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        var token = deadline.Token;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, uri);
            using var response = client.Send(request, HttpCompletionOption.ResponseHeadersRead, token);
            if (!response.IsSuccessStatusCode)
            {
                throw new HttpRequestException($"GET {uri} answered {(int)response.StatusCode} {response.ReasonPhrase}.", null, response.StatusCode);
            }

            using var abort = token.Register(static r => ((IDisposable)r!).Dispose(), response);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
            using (var body = response.Content.ReadAsStream(token))
            using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                BoundedDownload.Copy(body, file, uri, MaxDownloadBytes, hash, token);
            }

            token.ThrowIfCancellationRequested();
            return Convert.ToHexStringLower(hash.GetHashAndReset());
        }
        catch (Exception e) when (deadline.IsCancellationRequested && !ct.IsCancellationRequested &&
                                  e is OperationCanceledException or IOException or ObjectDisposedException or HttpRequestException)
        {
            throw new TimeoutException($"Downloading {uri} did not finish within {timeout}.", e);
        }
    }

    /// <summary>Extracts only the expected regular files of the archive's folder, each checked by the reader before it is renamed into place.</summary>
    private static void Extract(Spec spec, string archive, Uri uri, string cacheDirectory, CancellationToken ct)
    {
        var wanted = spec.TrainFiles.Append(spec.TestFile).ToHashSet(StringComparer.Ordinal);
        var folder = Path.Combine(cacheDirectory, spec.Folder);
        System.IO.Directory.CreateDirectory(folder);
        using var file = File.OpenRead(archive);
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var tar = new TarReader(gzip);
        while (tar.GetNextEntry() is { } entry)
        {
            ct.ThrowIfCancellationRequested();
            var name = entry.Name.Replace('\\', '/');
            var slash = name.LastIndexOf('/');
            var fileName = name[(slash + 1)..];
            if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || !wanted.Contains(fileName) || entry.DataStream is null)
            {
                continue;
            }

            var destination = Path.Combine(folder, fileName);
            var temp = $"{destination}.{Guid.NewGuid():N}.part";
            try
            {
                using (var output = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
                {
                    entry.DataStream.CopyTo(output);
                }

                try
                {
                    CifarReader.Read(temp, spec.Variant);
                }
                catch (InvalidDataException e)
                {
                    throw new InvalidDataException($"'{name}' in the archive from {uri} is not a valid CIFAR file: {e.Message}", e);
                }

                File.Move(temp, destination, overwrite: true);
                wanted.Remove(fileName);
            }
            finally
            {
                AtomicFile.TryDelete(temp);
            }
        }

        if (wanted.Count > 0)
        {
            throw new InvalidDataException($"The archive from {uri} lacks {string.Join(", ", wanted)}.");
        }
    }

    private static FileNotFoundException NotFound(Spec spec, List<string> searched, CifarOptions options, string cacheDirectory, Exception? downloadError)
    {
        var name = spec.Variant == CifarVariant.Cifar10 ? "CIFAR-10" : "CIFAR-100";
        var variable = spec.Variant == CifarVariant.Cifar10 ? Cifar10EnvironmentVariable : Cifar100EnvironmentVariable;
        var download = !options.AllowDownload
            ? $"disabled ({nameof(CifarOptions)}.{nameof(CifarOptions.AllowDownload)} is false)"
            : $"failed: {downloadError?.Message}";
        var files = string.Join(", ", spec.TrainFiles.Append(spec.TestFile));
        var message =
            $"{name} (binary version) was not found. Searched, in order:" + Environment.NewLine +
            string.Concat(searched.Select(s => $"  - {s}{Environment.NewLine}")) +
            $"Download of {new Uri(options.DownloadUri, spec.Archive)}: {download}" + Environment.NewLine +
            $"A directory must hold {files} (directly or in {spec.Folder}/). To get them: download {spec.Archive} " +
            $"(MD5 {spec.Md5}) from {DefaultDownloadUri} on a machine with internet access, extract it (tar xzf {spec.Archive}), and " +
            $"pass the directory as {nameof(CifarOptions)}.{nameof(CifarOptions.Directory)} or set {variable}; or allow the download " +
            $"({nameof(CifarOptions)}.{nameof(CifarOptions.AllowDownload)} = true) into {cacheDirectory}.";
        return new FileNotFoundException(message, downloadError);
    }

    private sealed record Spec(CifarVariant Variant, string Archive, string Md5, string Folder, string[] TrainFiles, string TestFile);
}

/// <summary>The machine-dependent inputs of <see cref="Cifar"/>'s search, replaceable in tests.</summary>
internal sealed class CifarEnvironment
{
    /// <summary>The real machine.</summary>
    public static CifarEnvironment Default { get; } = new();

    /// <summary>Reads an environment variable.</summary>
    public Func<string, string?> GetEnvironmentVariable { get; init; } = Environment.GetEnvironmentVariable;

    /// <summary>The cache used when the options name none.</summary>
    public string DefaultCacheDirectory { get; init; } = Cifar.DefaultCacheDirectory;

    /// <summary>The HTTP handler for downloads (must override the synchronous <see cref="HttpMessageHandler.Send"/>), or <c>null</c> for the default; not disposed.</summary>
    public HttpMessageHandler? HttpHandler { get; init; }

    /// <summary>Replaces the published MD5 of an archive (tests serve archives of their own); <c>null</c> checks the published one.</summary>
    public Func<CifarVariant, string>? ExpectedMd5 { get; init; }
}
