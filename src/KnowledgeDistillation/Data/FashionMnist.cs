using KnowledgeDistillation.Internal;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Data;

/// <summary>
/// Loads Fashion-MNIST (Zalando's 28x28 grey-scale clothing images, 10 classes, 60,000 training and
/// 10,000 test samples) from its four IDX files into <see cref="TensorDataset"/>s.
/// </summary>
/// <remarks>
/// The files (<c>train-images-idx3-ubyte</c>, <c>train-labels-idx1-ubyte</c>, <c>t10k-images-idx3-ubyte</c>,
/// <c>t10k-labels-idx1-ubyte</c>, each optionally ending in <c>.gz</c>) are searched for in this order:
/// <list type="number">
/// <item><description><see cref="FashionMnistOptions.Directory"/>;</description></item>
/// <item><description>the directory named by the environment variable <see cref="EnvironmentVariable"/>;</description></item>
/// <item><description><see cref="SystemDirectory"/>, where the Debian package <c>dataset-fashion-mnist</c> installs them;</description></item>
/// <item><description>the cache (<see cref="FashionMnistOptions.CacheDirectory"/>, by default <see cref="DefaultCacheDirectory"/>).</description></item>
/// </list>
/// The first directory holding all four files is used. When none does and
/// <see cref="FashionMnistOptions.AllowDownload"/> is set, the missing files are downloaded into the cache,
/// each to a temporary file that is parsed and checked before it is renamed into place.
/// </remarks>
public static class FashionMnist
{
    /// <summary>
    /// Mean of the training pixels scaled to [0, 1] (the commonly quoted 0.2860). Measured on the
    /// 47,040,000 pixels of the real training set: 0.286041.
    /// </summary>
    public const double TrainMean = 0.2860;

    /// <summary>
    /// Standard deviation of the training pixels scaled to [0, 1] (the commonly quoted 0.3530). Measured on
    /// the real training set (population standard deviation over all pixels): 0.353024.
    /// </summary>
    public const double TrainStd = 0.3530;

    /// <summary>The number of classes.</summary>
    public const int ClassCount = 10;

    /// <summary>The height and width of an image in pixels.</summary>
    public const int ImageSize = 28;

    /// <summary>The number of samples in the full training set.</summary>
    public const int TrainCount = 60_000;

    /// <summary>The number of samples in the full test set.</summary>
    public const int TestCount = 10_000;

    /// <summary>The environment variable that may name a directory holding the files.</summary>
    public const string EnvironmentVariable = "FASHION_MNIST_DIR";

    /// <summary>Where the Debian package <c>dataset-fashion-mnist</c> installs the files.</summary>
    public const string SystemDirectory = "/usr/share/datasets/fashion-mnist";

    /// <summary>The largest file accepted from a download, in bytes (the largest real file is about 26 MB).</summary>
    internal const long MaxDownloadBytes = 128L << 20;

    private static readonly string[] Names =
    [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ];

    /// <summary>The four files in load order: training images, training labels, test images, test labels.</summary>
    private static readonly FileSpec[] Files =
    [
        new("train-images-idx3-ubyte", Images: true),
        new("train-labels-idx1-ubyte", Images: false),
        new("t10k-images-idx3-ubyte", Images: true),
        new("t10k-labels-idx1-ubyte", Images: false),
    ];

    /// <summary>The public address the <c>.gz</c> files are downloaded from.</summary>
    public static Uri DefaultDownloadUri { get; } = new("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/");

    /// <summary>The class names, indexed by label: T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal, Shirt, Sneaker, Bag, Ankle boot.</summary>
    public static IReadOnlyList<string> ClassNames { get; } = Array.AsReadOnly(Names);

    /// <summary>
    /// The per-user download cache: <c>&lt;LocalApplicationData&gt;/KnowledgeDistillation/fashion-mnist</c>
    /// (on Linux usually <c>~/.local/share/KnowledgeDistillation/fashion-mnist</c>), or under the temporary
    /// directory when the system reports no such folder.
    /// </summary>
    public static string DefaultCacheDirectory
    {
        get
        {
            var root = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify);
            if (string.IsNullOrEmpty(root))
            {
                root = Path.GetTempPath();
            }

            return Path.Combine(root, "KnowledgeDistillation", "fashion-mnist");
        }
    }

    /// <summary>
    /// Finds (or downloads) Fashion-MNIST and loads both splits on the CPU: inputs float32
    /// [N, 1, 28, 28], standardised unless <see cref="FashionMnistOptions.Normalize"/> is off; targets
    /// int64 class labels [N].
    /// </summary>
    /// <param name="options">Where to look and how to prepare the data; <c>null</c> uses the defaults.</param>
    /// <param name="logger">Receives where the data came from and download progress; <c>null</c> logs nothing.</param>
    /// <param name="ct">Cancels a download.</param>
    /// <returns>The training and test sets; dispose the result to free them.</returns>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    /// <exception cref="FileNotFoundException">
    /// No location has the files and the download is disabled or failed; the message lists every place
    /// searched and how to get the data, and a failed download is the inner exception.
    /// </exception>
    /// <exception cref="InvalidDataException">A file exists but is corrupt or is not what its name says.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="ct"/> was cancelled.</exception>
    public static FashionMnistData Load(FashionMnistOptions? options = null, ILogger? logger = null, CancellationToken ct = default) =>
        Load(options, logger, ct, FashionMnistEnvironment.Default);

    /// <summary>The same as the public overload, with the machine-dependent parts (environment, system directory, HTTP) replaceable for tests.</summary>
    internal static FashionMnistData Load(FashionMnistOptions? options, ILogger? logger, CancellationToken ct, FashionMnistEnvironment environment)
    {
        options ??= new FashionMnistOptions();
        options.Validate();
        ArgumentNullException.ThrowIfNull(environment);
        ct.ThrowIfCancellationRequested();

        var cacheDirectory = Path.GetFullPath(options.CacheDirectory ?? environment.DefaultCacheDirectory);
        var envValue = environment.GetEnvironmentVariable(EnvironmentVariable);
        var candidates = new (string Label, string? Directory)[]
        {
            ($"{nameof(FashionMnistOptions)}.{nameof(FashionMnistOptions.Directory)}", options.Directory),
            ($"environment variable {EnvironmentVariable}", string.IsNullOrWhiteSpace(envValue) ? null : envValue),
            ("system directory (Debian package dataset-fashion-mnist)", environment.SystemDirectory),
            ("download cache", cacheDirectory),
        };

        var parsed = new Dictionary<string, IdxArray>(StringComparer.Ordinal);
        var searched = new List<string>();
        string? sourceDirectory = null;
        string[]? paths = null;
        foreach (var (label, directory) in candidates)
        {
            if (directory is null)
            {
                searched.Add($"{label}: not set");
                continue;
            }

            var full = Path.GetFullPath(directory);
            if (!System.IO.Directory.Exists(full))
            {
                searched.Add($"{label}: {full} (directory does not exist)");
                continue;
            }

            var found = FindFiles(full, out var missing);
            if (missing.Count == 0)
            {
                sourceDirectory = full;
                paths = found;
                break;
            }

            searched.Add($"{label}: {full} (missing {string.Join(", ", missing)})");
        }

        Exception? downloadError = null;
        if (paths is null && options.AllowDownload)
        {
            try
            {
                paths = Download(cacheDirectory, options, environment, parsed, logger, ct);
                sourceDirectory = cacheDirectory;
            }
            catch (Exception e) when (IsDownloadFailure(e, ct))
            {
                logger?.LogWarning(e, "Downloading Fashion-MNIST into {Directory} failed", cacheDirectory);
                downloadError = e;
            }
        }

        if (paths is null || sourceDirectory is null)
        {
            throw NotFound(searched, options, cacheDirectory, downloadError);
        }

        ct.ThrowIfCancellationRequested();
        logger?.LogInformation("Loading Fashion-MNIST from {Directory}", sourceDirectory);
        var train = LoadSplit(paths[0], paths[1], options.TrainLimit, options.Normalize, parsed);
        try
        {
            var test = LoadSplit(paths[2], paths[3], options.TestLimit, options.Normalize, parsed);
            logger?.LogInformation(
                "Loaded Fashion-MNIST: {TrainCount} training and {TestCount} test samples", train.Count, test.Count);
            return new FashionMnistData(train, test, sourceDirectory);
        }
        catch
        {
            train.Dispose();
            throw;
        }
    }

    private static string[] FindFiles(string directory, out List<string> missing)
    {
        missing = [];
        var found = new string[Files.Length];
        for (var i = 0; i < Files.Length; i++)
        {
            var gz = Path.Combine(directory, Files[i].Name + ".gz");
            var plain = Path.Combine(directory, Files[i].Name);
            if (File.Exists(gz))
            {
                found[i] = gz;
            }
            else if (File.Exists(plain))
            {
                found[i] = plain;
            }
            else
            {
                missing.Add(Files[i].Name + "[.gz]");
            }
        }

        return found;
    }

    private static string[] Download(
        string cacheDirectory,
        FashionMnistOptions options,
        FashionMnistEnvironment environment,
        Dictionary<string, IdxArray> parsed,
        ILogger? logger,
        CancellationToken ct)
    {
        System.IO.Directory.CreateDirectory(cacheDirectory);
        var found = FindFiles(cacheDirectory, out _);
        var baseUri = options.DownloadUri.AbsoluteUri.EndsWith('/') ? options.DownloadUri : new Uri(options.DownloadUri.AbsoluteUri + "/");
        using var client = environment.HttpHandler is { } handler ? new HttpClient(handler, disposeHandler: false) : new HttpClient();
        client.Timeout = Timeout.InfiniteTimeSpan; // each file gets its own deadline below
        for (var i = 0; i < Files.Length; i++)
        {
            if (found[i] is not null)
            {
                continue;
            }

            var fileName = Files[i].Name + ".gz";
            var uri = new Uri(baseUri, fileName);
            var destination = Path.Combine(cacheDirectory, fileName);
            logger?.LogInformation("Downloading {Uri} to {Path}", uri, destination);
            var temp = DownloadToTempFile(client, uri, destination, options.DownloadTimeout, ct);
            try
            {
                IdxArray content;
                try
                {
                    content = IdxReader.Read(temp);
                }
                catch (InvalidDataException e)
                {
                    throw new InvalidDataException($"The file downloaded from {uri} is not a valid IDX file: {e.Message}", e);
                }

                Check(content, Files[i], uri.ToString());
                File.Move(temp, destination, overwrite: true);
                parsed[destination] = content;
                found[i] = destination;
            }
            finally
            {
                AtomicFile.TryDelete(temp);
            }
        }

        return found;
    }

    private static string DownloadToTempFile(HttpClient client, Uri uri, string destination, TimeSpan timeout, CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        var token = deadline.Token;
        var temp = $"{destination}.{Guid.NewGuid():N}.part";
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, uri);
            using var response = client.Send(request, HttpCompletionOption.ResponseHeadersRead, token);
            if (!response.IsSuccessStatusCode)
            {
                throw new HttpRequestException(
                    $"GET {uri} answered {(int)response.StatusCode} {response.ReasonPhrase}.", null, response.StatusCode);
            }

            if (response.Content.Headers.ContentLength is > MaxDownloadBytes)
            {
                throw new InvalidDataException(
                    $"GET {uri} announced {response.Content.Headers.ContentLength} bytes, more than the {MaxDownloadBytes} accepted.");
            }

            // Synchronous reads ignore the token, so a deadline aborts a stalled transfer by disposing the response.
            using var abort = token.Register(static r => ((IDisposable)r!).Dispose(), response);
            using (var body = response.Content.ReadAsStream(token))
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                BoundedDownload.Copy(body, file, uri, MaxDownloadBytes, null, token);
            }

            token.ThrowIfCancellationRequested();
            return temp;
        }
        catch (Exception e) when (deadline.IsCancellationRequested && !ct.IsCancellationRequested &&
                                  e is OperationCanceledException or IOException or ObjectDisposedException or HttpRequestException)
        {
            AtomicFile.TryDelete(temp);
            throw new TimeoutException($"Downloading {uri} did not finish within {timeout}.", e);
        }
        catch
        {
            AtomicFile.TryDelete(temp);
            throw;
        }
    }

    private static bool IsDownloadFailure(Exception e, CancellationToken ct) =>
        !ct.IsCancellationRequested &&
        e is HttpRequestException or TimeoutException or IOException or InvalidDataException
            or UnauthorizedAccessException or NotSupportedException or OperationCanceledException;

    private static FileNotFoundException NotFound(List<string> searched, FashionMnistOptions options, string cacheDirectory, Exception? downloadError)
    {
        var download = !options.AllowDownload
            ? $"disabled ({nameof(FashionMnistOptions)}.{nameof(FashionMnistOptions.AllowDownload)} is false)"
            : $"failed: {downloadError?.Message}";
        var message =
            "Fashion-MNIST was not found. Searched, in order:" + Environment.NewLine +
            string.Concat(searched.Select(s => $"  - {s}{Environment.NewLine}")) +
            $"Download from {options.DownloadUri}: {download}" + Environment.NewLine +
            "A directory must hold all four files train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte " +
            "and t10k-labels-idx1-ubyte (each may end in .gz). To get the data, do one of:" + Environment.NewLine +
            $"  - install the Debian package: sudo apt-get install dataset-fashion-mnist (it puts the files in {SystemDirectory});" + Environment.NewLine +
            $"  - put the files in a directory and set the environment variable {EnvironmentVariable} to it;" + Environment.NewLine +
            $"  - put the files in a directory and pass it as {nameof(FashionMnistOptions)}.{nameof(FashionMnistOptions.Directory)};" + Environment.NewLine +
            $"  - on a machine with internet access, allow the download ({nameof(FashionMnistOptions)}.{nameof(FashionMnistOptions.AllowDownload)} = true, " +
            $"the default) to fetch them from {options.DownloadUri} into {cacheDirectory}.";
        return new FileNotFoundException(message, downloadError);
    }

    private static TensorDataset LoadSplit(string imagesPath, string labelsPath, int? limit, bool normalize, Dictionary<string, IdxArray> parsed)
    {
        var images = Parse(imagesPath, parsed);
        Check(images, new FileSpec(string.Empty, Images: true), imagesPath);
        var labels = Parse(labelsPath, parsed);
        Check(labels, new FileSpec(string.Empty, Images: false), labelsPath);
        var count = images.Shape[0];
        if (labels.Shape[0] != count)
        {
            throw new InvalidDataException(
                $"Fashion-MNIST files disagree: '{imagesPath}' holds {count} images but '{labelsPath}' holds {labels.Shape[0]} labels.");
        }

        var n = Math.Min(limit ?? count, count);
        const int pixels = ImageSize * ImageSize;
        var pixelArray = Prefix(images.Bytes, n * pixels);
        var labelArray = Prefix(labels.Bytes, n);

        Tensor? inputs = null;
        Tensor? targets = null;
        try
        {
            using (var raw = tensor(pixelArray, [n, 1, ImageSize, ImageSize]))
            {
                inputs = raw.to(ScalarType.Float32);
            }

            inputs.div_(255.0);
            if (normalize)
            {
                inputs.sub_(TrainMean).div_(TrainStd);
            }

            using (var raw = tensor(labelArray, [n]))
            {
                targets = raw.to(ScalarType.Int64);
            }

            return new TensorDataset(inputs, targets);
        }
        catch
        {
            inputs?.Dispose();
            targets?.Dispose();
            throw;
        }
    }

    private static IdxArray Parse(string path, Dictionary<string, IdxArray> parsed)
    {
        if (!parsed.TryGetValue(path, out var array))
        {
            array = IdxReader.Read(path);
            parsed[path] = array;
        }

        return array;
    }

    /// <summary>The first <paramref name="length"/> bytes as an array, without copying when that is all of them.</summary>
    private static byte[] Prefix(ReadOnlyMemory<byte> bytes, int length) =>
        MemoryMarshal.TryGetArray(bytes, out var segment) && segment.Offset == 0 && segment.Count == length && segment.Array!.Length == length
            ? segment.Array
            : bytes[..length].ToArray();

    private static void Check(IdxArray array, FileSpec spec, string source)
    {
        if (spec.Images)
        {
            if (array.ElementType != IdxElementType.UInt8 || array.Shape.Count != 3 || array.Shape[0] < 1 ||
                array.Shape[1] != ImageSize || array.Shape[2] != ImageSize)
            {
                throw new InvalidDataException(
                    $"Fashion-MNIST image file '{source}' must hold UInt8 images of shape [N, {ImageSize}, {ImageSize}] with N >= 1; " +
                    $"it holds {array.ElementType} {Guard.FormatShape(array.Shape.Select(d => (long)d))}.");
            }

            return;
        }

        if (array.ElementType != IdxElementType.UInt8 || array.Shape.Count != 1 || array.Shape[0] < 1)
        {
            throw new InvalidDataException(
                $"Fashion-MNIST label file '{source}' must hold UInt8 labels of shape [N] with N >= 1; " +
                $"it holds {array.ElementType} {Guard.FormatShape(array.Shape.Select(d => (long)d))}.");
        }

        var span = array.Bytes.Span;
        for (var i = 0; i < span.Length; i++)
        {
            if (span[i] >= ClassCount)
            {
                throw new InvalidDataException(
                    $"Fashion-MNIST label file '{source}': label {span[i]} at index {i} is outside 0..{ClassCount - 1}.");
            }
        }
    }

    private sealed record FileSpec(string Name, bool Images);
}

/// <summary>The machine-dependent inputs of <see cref="FashionMnist"/>'s search, replaceable in tests.</summary>
internal sealed class FashionMnistEnvironment
{
    /// <summary>The real machine: process environment, <see cref="FashionMnist.SystemDirectory"/>, the default cache, real HTTP.</summary>
    public static FashionMnistEnvironment Default { get; } = new();

    /// <summary>Reads an environment variable.</summary>
    public Func<string, string?> GetEnvironmentVariable { get; init; } = Environment.GetEnvironmentVariable;

    /// <summary>The system-wide data directory, or <c>null</c> to skip it.</summary>
    public string? SystemDirectory { get; init; } = FashionMnist.SystemDirectory;

    /// <summary>The cache used when the options name none.</summary>
    public string DefaultCacheDirectory { get; init; } = FashionMnist.DefaultCacheDirectory;

    /// <summary>
    /// The HTTP handler for downloads, or <c>null</c> for the default. It is not disposed. Downloads are
    /// synchronous, so a replacement must override <see cref="HttpMessageHandler.Send"/>.
    /// </summary>
    public HttpMessageHandler? HttpHandler { get; init; }
}
