using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Security.Cryptography;
using FluentAssertions;
using KnowledgeDistillation.Data;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Data.Pipeline;

public sealed class CifarTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("kd-cifar-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Cifar10_records_are_read_as_label_then_channel_planar_pixels()
    {
        var bytes = CifarTestData.File(CifarVariant.Cifar10, 4, offset: 7);
        var array = CifarReader.Read(new MemoryStream(bytes), "mem", CifarVariant.Cifar10);
        array.Count.Should().Be(4);
        array.Labels.ToArray().Should().Equal(Enumerable.Range(0, 4).Select(r => CifarTestData.Label(r, 7, 10)));
        array.CoarseLabels.Length.Should().Be(0);
        for (var r = 0; r < 4; r++)
        {
            array.Pixels.Slice(r * 3072, 3072).ToArray().Should().Equal(bytes.AsSpan((r * 3073) + 1, 3072).ToArray());
        }
    }

    [Fact]
    public void Cifar100_records_carry_coarse_and_fine_labels()
    {
        var array = CifarReader.Read(new MemoryStream(CifarTestData.File(CifarVariant.Cifar100, 30)), "mem", CifarVariant.Cifar100);
        array.Labels.ToArray().Should().Equal(Enumerable.Range(0, 30).Select(r => CifarTestData.Label(r, 0, 100)));
        array.CoarseLabels.ToArray().Should().Equal(Enumerable.Range(0, 30).Select(r => CifarTestData.Coarse(r, 0)));
        new CifarDataset(array, coarseLabels: true).ClassCount.Should().Be(20);
        new CifarDataset(array).ClassCount.Should().Be(100);
    }

    [Fact]
    public void Malformed_files_name_the_file_and_the_field()
    {
        var path = Path.Combine(_directory, "data_batch_1.bin");
        var bytes = CifarTestData.File(CifarVariant.Cifar10, 3);
        System.IO.File.WriteAllBytes(path, bytes[..^5]);
        var act = () => CifarReader.Read(path, CifarVariant.Cifar10);
        act.Should().Throw<InvalidDataException>().WithMessage($"*'{path}': record size: its 9214 bytes are not a whole number of 3073-byte records*");

        bytes[3073] = 10; // record 1's label
        System.IO.File.WriteAllBytes(path, bytes);
        act.Should().Throw<InvalidDataException>().WithMessage($"*'{path}': label of record 1 (byte offset 3073) is 10, outside 0..9*");

        var hundred = CifarTestData.File(CifarVariant.Cifar100, 2);
        hundred[3074 + 1] = 100; // record 1's fine label
        act = () => CifarReader.Read(new MemoryStream(hundred), "train.bin", CifarVariant.Cifar100);
        act.Should().Throw<InvalidDataException>().WithMessage("*'train.bin': fine label of record 1 (byte offset 3075) is 100, outside 0..99*");
        hundred[3074 + 1] = 1;
        hundred[0] = 20;
        act.Should().Throw<InvalidDataException>().WithMessage("*coarse label of record 0 (byte offset 0) is 20, outside 0..19*");

        act = () => CifarReader.Read(new MemoryStream(CifarTestData.File(CifarVariant.Cifar10, 2)), "ten.bin", CifarVariant.Cifar100);
        act.Should().Throw<InvalidDataException>().WithMessage("*'ten.bin': record size*3074-byte records*other CIFAR variant*");
        act = () => CifarReader.Read(new MemoryStream([]), "empty.bin", CifarVariant.Cifar10);
        act.Should().Throw<InvalidDataException>().WithMessage("*'empty.bin' is empty*");
        act = () => CifarReader.Read(new MemoryStream(CifarTestData.File(CifarVariant.Cifar10, 2)), "big.bin", CifarVariant.Cifar10, maxBytes: 100);
        act.Should().Throw<InvalidDataException>().WithMessage("*'big.bin' is 6146 bytes, more than the 100 accepted*");
    }

    [Theory]
    [InlineData(CifarVariant.Cifar10, "")]
    [InlineData(CifarVariant.Cifar10, Cifar.Cifar10Folder)]
    [InlineData(CifarVariant.Cifar100, Cifar.Cifar100Folder)]
    public void Load_reads_both_splits_from_a_directory_or_its_archive_folder(CifarVariant variant, string folder)
    {
        CifarTestData.WriteSet(variant, Path.Combine(_directory, folder));
        var data = Cifar.Load(variant, new CifarOptions { Directory = _directory, AllowDownload = false, CacheDirectory = Path.Combine(_directory, "cache") });
        var trainCount = variant == CifarVariant.Cifar10 ? 15 : 5;
        data.Train.Count.Should().Be(trainCount);
        data.Test.Count.Should().Be(4);
        data.SourceDirectory.Should().Be(Path.Combine(_directory, folder).TrimEnd('/'));
        var classes = variant == CifarVariant.Cifar10 ? 10 : 100;
        for (var i = 0; i < trainCount; i++)
        {
            // The five CIFAR-10 batches are concatenated in order; the generator numbered their records consecutively.
            var sample = data.Train.Get(i);
            sample.Label.Should().Be(CifarTestData.Label(i, 0, classes));
            sample.Shape.Should().Equal(3, 32, 32);
            sample.Values[5].Should().Be(CifarTestData.Pixel(i, 0, 5) / 255f);
            sample.Values[1024 + 3].Should().Be(CifarTestData.Pixel(i, 0, 1024 + 3) / 255f, "green starts at 1024");
        }

        data.Test.Get(0).Label.Should().Be(CifarTestData.Label(0, 100, classes));
        var limited = Cifar.Load(variant, new CifarOptions { Directory = _directory, AllowDownload = false, TrainLimit = 2, TestLimit = 1, CacheDirectory = Path.Combine(_directory, "cache") });
        limited.Train.Count.Should().Be(2);
        limited.Test.Count.Should().Be(1);
    }

    [Fact]
    public void ToTensorDataset_scales_and_standardises_per_channel()
    {
        var array = CifarReader.Read(new MemoryStream(CifarTestData.File(CifarVariant.Cifar10, 3)), "mem", CifarVariant.Cifar10);
        using var data = new CifarDataset(array).ToTensorDataset(Cifar.Cifar10Mean, Cifar.Cifar10Std);
        data.Inputs.shape.Should().Equal(3, 3, 32, 32);
        data.Targets!.data<long>().ToArray().Should().Equal(0L, 1L, 2L);
        var value = data.Inputs[2, 1, 4, 5].item<float>();
        var expected = ((CifarTestData.Pixel(2, 0, 1024 + (4 * 32) + 5) / 255f) - (float)Cifar.Cifar10Mean[1]) / (float)Cifar.Cifar10Std[1];
        value.Should().BeApproximately(expected, 1e-6f);
    }

    [Fact]
    public void Without_files_or_internet_the_error_lists_every_place_and_how_to_get_the_data()
    {
        var environment = new CifarEnvironment
        {
            GetEnvironmentVariable = _ => null,
            DefaultCacheDirectory = Path.Combine(_directory, "cache"),
            HttpHandler = new Handler(_ => throw new HttpRequestException("Name or service not known (www.cs.toronto.edu:443)")),
        };
        var act = () => Cifar.Load(CifarVariant.Cifar100, new CifarOptions { Directory = Path.Combine(_directory, "none") }, null, default, environment);
        act.Should().Throw<FileNotFoundException>()
            .WithMessage("CIFAR-100 (binary version) was not found*CifarOptions.Directory*does not exist*CIFAR100_DIR: not set*download cache*" +
                         "cifar-100-binary.tar.gz: failed: Name or service not known*MD5 03b5dce01913d631647c71ecec9e9cb8*")
            .WithInnerException<HttpRequestException>();
    }

    [Fact]
    public void A_download_is_checked_against_the_md5_and_only_the_expected_files_are_extracted()
    {
        var archive = Archive(CifarVariant.Cifar10);
        var md5 = Convert.ToHexStringLower(MD5.HashData(archive));
        var requests = new List<Uri>();
        var environment = new CifarEnvironment
        {
            GetEnvironmentVariable = _ => null,
            DefaultCacheDirectory = Path.Combine(_directory, "cache"),
            HttpHandler = new Handler(request =>
            {
                requests.Add(request.RequestUri!);
                return new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(archive) };
            }),
            ExpectedMd5 = _ => md5,
        };

        var data = Cifar.Load(CifarVariant.Cifar10, null, null, default, environment);
        requests.Should().Equal(new Uri("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"));
        data.Train.Count.Should().Be(15);
        data.SourceDirectory.Should().Be(Path.Combine(_directory, "cache", Cifar.Cifar10Folder));
        Directory.GetFiles(data.SourceDirectory).Select(Path.GetFileName).Should().BeEquivalentTo(
            "data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin");
        File.Exists(Path.Combine(_directory, "cache", "evil.sh")).Should().BeFalse();
        Directory.GetFiles(Path.Combine(_directory, "cache")).Should().BeEmpty("the archive is deleted after extraction");

        var tampered = new CifarEnvironment
        {
            GetEnvironmentVariable = _ => null,
            DefaultCacheDirectory = Path.Combine(_directory, "cache2"),
            HttpHandler = environment.HttpHandler,
        };
        var act = () => Cifar.Load(CifarVariant.Cifar10, null, null, default, tampered);
        act.Should().Throw<FileNotFoundException>().WithInnerException<InvalidDataException>()
            .WithMessage($"*has MD5 {md5}, not the published c32a1d4ab5d03f1284b67883e8d87530*");
    }

    private byte[] Archive(CifarVariant variant)
    {
        var staging = Path.Combine(_directory, "staging");
        CifarTestData.WriteSet(variant, Path.Combine(staging, Cifar.Cifar10Folder));
        File.WriteAllText(Path.Combine(staging, Cifar.Cifar10Folder, "batches.meta.txt"), "airplane\n");
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gzip))
        {
            foreach (var file in Directory.GetFiles(Path.Combine(staging, Cifar.Cifar10Folder)).Order())
            {
                tar.WriteEntry(file, $"{Cifar.Cifar10Folder}/{Path.GetFileName(file)}");
            }

            tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "../evil.sh") { DataStream = new MemoryStream([1, 2, 3]) });
        }

        Directory.Delete(staging, recursive: true);
        return output.ToArray();
    }

    private sealed class Handler(Func<HttpRequestMessage, HttpResponseMessage> respond) : HttpMessageHandler
    {
        protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken) => respond(request);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(respond(request));
    }
}
