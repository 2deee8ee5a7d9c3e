using System.Net;
using FluentAssertions;
using KnowledgeDistillation.Data;
using TorchSharp;
using Xunit;
using static KnowledgeDistillation.Tests.Data.IdxTestData;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Data;

public sealed class FashionMnistTests : IDisposable
{
    private const string RealDataDirectory = "/usr/share/datasets/fashion-mnist";

    private static readonly string[] GzNames =
    [
        "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
    ];

    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    /// <summary>A machine with nothing on it: no environment variable, no system directory, an empty cache, no network.</summary>
    private FashionMnistEnvironment Isolated(HttpMessageHandler? handler = null, string? envDir = null) => new()
    {
        GetEnvironmentVariable = name => name == FashionMnist.EnvironmentVariable ? envDir : null,
        SystemDirectory = _temp.File("no-system-dir"),
        DefaultCacheDirectory = _temp.File("cache"),
        HttpHandler = handler ?? new FakeHttp(_ => throw new HttpRequestException("no network in this test")),
    };

    [Fact]
    public void Loads_synthetic_files_from_an_explicit_directory()
    {
        var dir = _temp.File("explicit");
        WriteFashionMnist(dir, train: 20, test: 8);

        using var data = FashionMnist.Load(new FashionMnistOptions { Directory = dir }, null, default, Isolated());

        data.SourceDirectory.Should().Be(Path.GetFullPath(dir));
        data.Train.Count.Should().Be(20);
        data.Test.Count.Should().Be(8);
        data.Train.Inputs.shape.Should().Equal(20, 1, 28, 28);
        data.Train.Inputs.dtype.Should().Be(ScalarType.Float32);
        data.Train.Targets!.dtype.Should().Be(ScalarType.Int64);
        data.Train.Targets.data<long>().ToArray().Should().Equal(Enumerable.Range(0, 20).Select(i => (long)(i % 10)));
        data.Test.Targets!.data<long>().ToArray().Should().Equal(Enumerable.Range(0, 8).Select(i => (long)((i + 3) % 10)));
        data.Train.ClassCount.Should().Be(10);
        data.ClassNames.Should().HaveCount(10);

        // Image 5, pixel (row 2, column 3) = p 59 holds (7*5 + 59) mod 256 = 94.
        var expected = ((94 / 255.0) - FashionMnist.TrainMean) / FashionMnist.TrainStd;
        data.Train.Inputs[5, 0, 2, 3].item<float>().Should().BeApproximately((float)expected, 1e-5f);
    }

    [Fact]
    public void Without_normalisation_pixels_are_scaled_to_the_unit_interval_and_limits_take_the_first_samples()
    {
        var dir = _temp.File("explicit");
        WriteFashionMnist(dir, train: 20, test: 8);
        var options = new FashionMnistOptions { Directory = dir, Normalize = false, TrainLimit = 5, TestLimit = 100 };

        using var data = FashionMnist.Load(options, null, default, Isolated());

        data.Train.Count.Should().Be(5);
        data.Test.Count.Should().Be(8, "a limit above the available count keeps everything");
        data.Train.Targets!.data<long>().ToArray().Should().Equal(0, 1, 2, 3, 4);
        data.Train.Inputs.min().item<float>().Should().BeGreaterThanOrEqualTo(0f);
        data.Train.Inputs.max().item<float>().Should().Be(1f);
        data.Train.Inputs[1, 0, 0, 0].item<float>().Should().BeApproximately(7 / 255f, 1e-7f);
    }

    [Fact]
    public void The_explicit_directory_wins_over_the_environment_variable_which_wins_over_the_cache()
    {
        var explicitDir = _temp.File("explicit");
        var envDir = _temp.File("env");
        WriteFashionMnist(explicitDir, train: 11, test: 3);
        WriteFashionMnist(envDir, train: 12, test: 3);
        WriteFashionMnist(_temp.File("cache"), train: 13, test: 3);

        using (var a = FashionMnist.Load(new FashionMnistOptions { Directory = explicitDir }, null, default, Isolated(envDir: envDir)))
        {
            a.Train.Count.Should().Be(11);
        }

        using (var b = FashionMnist.Load(new FashionMnistOptions { Directory = _temp.File("absent") }, null, default, Isolated(envDir: envDir)))
        {
            b.Train.Count.Should().Be(12);
        }

        using var c = FashionMnist.Load(new FashionMnistOptions(), null, default, Isolated());
        c.Train.Count.Should().Be(13);
        c.SourceDirectory.Should().Be(_temp.File("cache"));
    }

    [Fact]
    public void A_directory_with_only_some_files_is_skipped_and_reported()
    {
        var partial = _temp.File("partial");
        WriteFashionMnist(partial, train: 4, test: 2);
        File.Delete(Path.Combine(partial, "t10k-labels-idx1-ubyte"));

        var act = () => FashionMnist.Load(new FashionMnistOptions { Directory = partial, AllowDownload = false }, null, default, Isolated());

        act.Should().Throw<FileNotFoundException>().WithMessage($"*{partial} (missing t10k-labels-idx1-ubyte[.gz])*");
    }

    [Fact]
    public void The_not_found_message_lists_every_place_searched_and_how_to_get_the_data()
    {
        var env = Isolated();
        var options = new FashionMnistOptions { Directory = _temp.File("mine"), AllowDownload = false };

        var error = FluentActions.Invoking(() => FashionMnist.Load(options, null, default, env))
            .Should().Throw<FileNotFoundException>().Which;

        error.Message.Should()
            .Contain($"FashionMnistOptions.Directory: {_temp.File("mine")} (directory does not exist)")
            .And.Contain("environment variable FASHION_MNIST_DIR: not set")
            .And.Contain($"{_temp.File("no-system-dir")} (directory does not exist)")
            .And.Contain($"download cache: {_temp.File("cache")}")
            .And.Contain("AllowDownload is false")
            .And.Contain("apt-get install dataset-fashion-mnist")
            .And.Contain("set the environment variable FASHION_MNIST_DIR")
            .And.Contain("FashionMnistOptions.Directory;")
            .And.Contain("internet access");
        error.InnerException.Should().BeNull();
    }

    [Fact]
    public void A_failed_download_is_reported_with_the_searched_places_and_the_cause()
    {
        var http = new FakeHttp(_ => new HttpResponseMessage(HttpStatusCode.NotFound));

        var error = FluentActions.Invoking(() => FashionMnist.Load(new FashionMnistOptions(), null, default, Isolated(http)))
            .Should().Throw<FileNotFoundException>().Which;

        error.Message.Should().Contain("failed: GET http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/train-images-idx3-ubyte.gz answered 404")
            .And.Contain("apt-get install dataset-fashion-mnist");
        error.InnerException.Should().BeOfType<HttpRequestException>();
        Directory.EnumerateFiles(_temp.File("cache")).Should().BeEmpty("no partial download may be left behind");
    }

    [Fact]
    public void Downloads_missing_files_into_the_cache_then_reuses_them()
    {
        var files = new Dictionary<string, byte[]>
        {
            [GzNames[0]] = Gzip(Images(20)),
            [GzNames[1]] = Gzip(Labels(20)),
            [GzNames[2]] = Gzip(Images(6)),
            [GzNames[3]] = Gzip(Labels(6)),
        };
        var http = new FakeHttp(request =>
            files.TryGetValue(request.RequestUri!.Segments[^1], out var body)
                ? new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(body) }
                : new HttpResponseMessage(HttpStatusCode.NotFound));
        var cache = _temp.File("my-cache");
        var options = new FashionMnistOptions { CacheDirectory = cache, DownloadUri = new Uri("https://mirror.example/fmnist") };

        using (var data = FashionMnist.Load(options, null, default, Isolated(http)))
        {
            data.Train.Count.Should().Be(20);
            data.Test.Count.Should().Be(6);
            data.SourceDirectory.Should().Be(cache);
        }

        http.Requests.Select(u => u.ToString()).Should().BeEquivalentTo(GzNames.Select(n => "https://mirror.example/fmnist/" + n));
        Directory.EnumerateFiles(cache).Select(Path.GetFileName).Should().BeEquivalentTo(GzNames);
        File.ReadAllBytes(Path.Combine(cache, GzNames[0])).Should().Equal(files[GzNames[0]]);

        using (var again = FashionMnist.Load(options, null, default, Isolated(http)))
        {
            again.Train.Count.Should().Be(20);
        }

        http.Requests.Should().HaveCount(4, "the second load finds everything in the cache");
    }

    [Fact]
    public void Only_the_files_missing_from_the_cache_are_downloaded()
    {
        var cache = _temp.File("cache");
        WriteFashionMnist(cache, train: 9, test: 4);
        File.Delete(Path.Combine(cache, "t10k-images-idx3-ubyte"));
        var http = new FakeHttp(_ => new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(Gzip(Images(4))) });

        using var data = FashionMnist.Load(new FashionMnistOptions(), null, default, Isolated(http));

        http.Requests.Should().ContainSingle().Which.Segments[^1].Should().Be("t10k-images-idx3-ubyte.gz");
        data.Test.Count.Should().Be(4);
    }

    [Fact]
    public void A_download_that_is_not_valid_idx_is_rejected_and_not_cached()
    {
        var http = new FakeHttp(_ => new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent("<html>captive portal</html>"u8.ToArray()) });

        var error = FluentActions.Invoking(() => FashionMnist.Load(new FashionMnistOptions(), null, default, Isolated(http)))
            .Should().Throw<FileNotFoundException>().Which;

        error.InnerException.Should().BeOfType<InvalidDataException>()
            .Which.Message.Should().Contain("train-images-idx3-ubyte.gz is not a valid IDX file").And.Contain("bad magic");
        Directory.EnumerateFiles(_temp.File("cache")).Should().BeEmpty();
    }

    [Fact]
    public void A_download_with_the_wrong_content_is_rejected()
    {
        // Valid IDX, but labels where images belong.
        var http = new FakeHttp(_ => new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(Gzip(Labels(5))) });

        var error = FluentActions.Invoking(() => FashionMnist.Load(new FashionMnistOptions(), null, default, Isolated(http)))
            .Should().Throw<FileNotFoundException>().Which;

        error.InnerException.Should().BeOfType<InvalidDataException>()
            .Which.Message.Should().Contain("must hold UInt8 images of shape [N, 28, 28]");
    }

    [Fact]
    public void A_stalled_download_times_out()
    {
        var http = new FakeHttp((_, ct) =>
        {
            ct.WaitHandle.WaitOne(TimeSpan.FromSeconds(30));
            ct.ThrowIfCancellationRequested();
            throw new InvalidOperationException("the deadline never fired");
        });
        var options = new FashionMnistOptions { DownloadTimeout = TimeSpan.FromMilliseconds(200) };

        var error = FluentActions.Invoking(() => FashionMnist.Load(options, null, default, Isolated(http)))
            .Should().Throw<FileNotFoundException>().Which;

        error.InnerException.Should().BeOfType<TimeoutException>().Which.Message.Should().Contain("did not finish within");
    }

    [Fact]
    public void Cancellation_is_not_mistaken_for_a_missing_dataset()
    {
        using var cts = new CancellationTokenSource();
        var http = new FakeHttp((_, ct) =>
        {
            cts.Cancel();
            ct.ThrowIfCancellationRequested();
            throw new InvalidOperationException("not cancelled");
        });

        FluentActions.Invoking(() => FashionMnist.Load(new FashionMnistOptions(), null, cts.Token, Isolated(http)))
            .Should().Throw<OperationCanceledException>();
    }

    [Fact]
    public void Corrupt_or_inconsistent_files_are_reported_by_name()
    {
        var dir = _temp.File("bad");
        WriteFashionMnist(dir, train: 6, test: 3);
        var options = new FashionMnistOptions { Directory = dir };

        var labels = Path.Combine(dir, "t10k-labels-idx1-ubyte");
        File.WriteAllBytes(labels, Labels(4));
        FluentActions.Invoking(() => FashionMnist.Load(options, null, default, Isolated()))
            .Should().Throw<InvalidDataException>().WithMessage($"*'{Path.Combine(dir, "t10k-images-idx3-ubyte")}' holds 3 images but '{labels}' holds 4 labels*");

        File.WriteAllBytes(labels, Encode(0x08, [3], new byte[] { 1, 10, 2 }));
        FluentActions.Invoking(() => FashionMnist.Load(options, null, default, Isolated()))
            .Should().Throw<InvalidDataException>().WithMessage($"*'{labels}': label 10 at index 1 is outside 0..9*");

        File.WriteAllBytes(labels, Labels(3)[..10]);
        FluentActions.Invoking(() => FashionMnist.Load(options, null, default, Isolated()))
            .Should().Throw<InvalidDataException>().WithMessage($"IDX file '{labels}'*truncated*");
    }

    [Fact]
    public void Options_are_validated_with_the_property_name()
    {
        FluentActions.Invoking(() => FashionMnist.Load(new FashionMnistOptions { TrainLimit = 0 }, null, default, Isolated()))
            .Should().Throw<ArgumentOutOfRangeException>().WithParameterName("TrainLimit");
        FluentActions.Invoking(() => FashionMnist.Load(new FashionMnistOptions { TestLimit = -1 }, null, default, Isolated()))
            .Should().Throw<ArgumentOutOfRangeException>().WithParameterName("TestLimit");
        FluentActions.Invoking(() => FashionMnist.Load(new FashionMnistOptions { DownloadTimeout = TimeSpan.Zero }, null, default, Isolated()))
            .Should().Throw<ArgumentOutOfRangeException>().WithParameterName("DownloadTimeout");
        FluentActions.Invoking(() => FashionMnist.Load(new FashionMnistOptions { DownloadUri = new Uri("ftp://x/") }, null, default, Isolated()))
            .Should().Throw<ArgumentException>().WithParameterName("DownloadUri");
        FluentActions.Invoking(() => FashionMnist.Load(new FashionMnistOptions { Directory = " " }, null, default, Isolated()))
            .Should().Throw<ArgumentException>().WithParameterName("Directory");
    }

    [Fact]
    public void Class_names_follow_the_label_order()
    {
        FashionMnist.ClassNames.Should().Equal(
            "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");
    }

    [FactRequiresPath(RealDataDirectory, "Install it with: sudo apt-get install dataset-fashion-mnist")]
    public void Loads_the_real_dataset_with_standard_counts_balanced_classes_and_unit_statistics()
    {
        using var data = FashionMnist.Load(new FashionMnistOptions { Directory = RealDataDirectory, AllowDownload = false });

        data.Train.Count.Should().Be(FashionMnist.TrainCount);
        data.Test.Count.Should().Be(FashionMnist.TestCount);
        data.Train.ClassCount.Should().Be(10);
        using (var trainHistogram = data.Train.Targets!.bincount(null))
        using (var testHistogram = data.Test.Targets!.bincount(null))
        {
            trainHistogram.data<long>().ToArray().Should().Equal(Enumerable.Repeat(6000L, 10));
            testHistogram.data<long>().ToArray().Should().Equal(Enumerable.Repeat(1000L, 10));
        }

        using var mean = data.Train.Inputs.mean([0L, 1L, 2L, 3L], type: ScalarType.Float64);
        using var std = data.Train.Inputs.to(ScalarType.Float64).std();
        mean.item<double>().Should().BeApproximately(0, 0.005, "the standard mean 0.2860 is the measured 0.286041, rounded");
        std.item<double>().Should().BeApproximately(1, 0.005, "the standard std 0.3530 is the measured 0.353024, rounded");
    }

    /// <summary>Serves requests from memory, synchronously (the loader uses HttpClient.Send).</summary>
    private sealed class FakeHttp(Func<HttpRequestMessage, CancellationToken, HttpResponseMessage> respond) : HttpMessageHandler
    {
        public FakeHttp(Func<HttpRequestMessage, HttpResponseMessage> respond)
            : this((request, _) => respond(request))
        {
        }

        public List<Uri> Requests { get; } = [];

        protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            lock (Requests)
            {
                Requests.Add(request.RequestUri!);
            }

            return respond(request, cancellationToken);
        }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(Send(request, cancellationToken));
    }
}
