using FluentAssertions;
using KnowledgeDistillation.Data;
using SkiaSharp;
using Xunit;

namespace KnowledgeDistillation.Tests.Data.Pipeline;

public sealed class FileDatasetTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("kd-files-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void ImageFolder_decodes_png_exactly_with_classes_from_sorted_subfolders()
    {
        var cat = WritePng("cat", "b.png", 5, 4, seed: 1);
        var ant = WritePng("ant", "z.png", 5, 4, seed: 2);
        var cat2 = WritePng("cat", "a.png", 5, 4, seed: 3);
        File.WriteAllText(Path.Combine(_directory, "cat", "notes.txt"), "ignored");

        var dataset = new ImageFolderDataset(_directory);
        dataset.ClassNames.Should().Equal("ant", "cat");
        dataset.Count.Should().Be(3);
        dataset.Files.Select(Path.GetFileName).Should().Equal("z.png", "a.png", "b.png");
        var samples = Enumerable.Range(0, 3).Select(i => dataset.Get(i)).ToArray();
        samples.Select(s => s.Label).Should().Equal(0L, 1L, 1L);
        foreach (var (sample, pixels) in samples.Zip(new[] { ant, cat2, cat }))
        {
            sample.Shape.Should().Equal(3, 4, 5);
            sample.Values.Should().Equal(Planar(pixels, 4, 5));
        }

        var grey = new ImageFolderDataset(_directory, new ImageFolderOptions { Grayscale = true }).Get(0);
        grey.Shape.Should().Equal(1, 4, 5);
        var (r, g, b) = (ant[0], ant[1], ant[2]);
        grey.Values[0].Should().Be(MathF.Round(((r * 299) + (g * 587) + (b * 114)) / 1000f) / 255f);
    }

    [Fact]
    public void ImageFolder_resizes_jpegs_to_the_requested_size_and_names_a_damaged_file()
    {
        Directory.CreateDirectory(Path.Combine(_directory, "x"));
        using (var bitmap = new SKBitmap(new SKImageInfo(20, 10, SKColorType.Rgba8888, SKAlphaType.Unpremul)))
        {
            bitmap.Erase(new SKColor(200, 100, 50));
            using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, 95);
            File.WriteAllBytes(Path.Combine(_directory, "x", "photo.jpg"), data.ToArray());
        }

        var sample = new ImageFolderDataset(_directory, new ImageFolderOptions { Width = 8, Height = 6 }).Get(0);
        sample.Shape.Should().Equal(3, 6, 8);
        sample.Values[0].Should().BeApproximately(200 / 255f, 0.03f, "a flat colour survives JPEG and resizing");
        sample.Values[48].Should().BeApproximately(100 / 255f, 0.03f);

        var damaged = Path.Combine(_directory, "x", "zz.png");
        File.WriteAllBytes(damaged, [0x89, 0x50, 0x4E, 0x47, 1, 2, 3]);
        var act = () => new ImageFolderDataset(_directory).Get(1);
        act.Should().Throw<InvalidDataException>().WithMessage($"Image '{damaged}' cannot be decoded*");

        var empty = () => new ImageFolderDataset(Path.Combine(_directory, "x"));
        empty.Should().Throw<InvalidDataException>().WithMessage("*has no class subfolders*");
        var half = () => new ImageFolderDataset(_directory, new ImageFolderOptions { Width = 8 });
        half.Should().Throw<ArgumentException>().WithParameterName("Height");
    }

    [Fact]
    public void ImageFolder_refuses_an_image_whose_header_states_more_pixels_than_MaxPixels_before_decoding()
    {
        var path = Path.Combine(_directory, "big", "a.png");
        WritePng("big", "a.png", 5, 4, seed: 1);

        var act = () => new ImageFolderDataset(_directory, new ImageFolderOptions { MaxPixels = 19 }).Get(0);
        act.Should().Throw<InvalidDataException>().WithMessage($"Image '{path}' states a size of 5x4 pixels*expected 1..19 pixels (ImageFolderOptions.MaxPixels)*");
        new ImageFolderDataset(_directory, new ImageFolderOptions { MaxPixels = 20 }).Get(0).Shape.Should().Equal(3, 4, 5);
        var invalid = () => new ImageFolderDataset(_directory, new ImageFolderOptions { MaxPixels = 0 });
        invalid.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("MaxPixels");
    }

    [Fact]
    public void A_pipeline_of_image_files_gives_the_same_batches_with_workers_and_names_a_damaged_file_on_the_training_thread()
    {
        for (var i = 0; i < 12; i++)
        {
            WritePng(i % 2 == 0 ? "even" : "odd", $"{i:D2}.png", 6, 6, seed: i);
        }

        float[][] Read(int workers)
        {
            var dataset = new ImageFolderDataset(_directory); // lists the files now
            var options = new DataPipelineOptions { BatchSize = 5, Seed = 2, Workers = workers, PrefetchBatches = 2 };
            options.Transforms.Add(new RandomCrop(6, 6, padding: 1));
            options.Transforms.Add(new RandomHorizontalFlip());
            using var scope = TorchSharp.torch.NewDisposeScope();
            return new DataPipeline(dataset, options).GetBatches(1, TorchSharp.torch.CPU).Select(b => b.Inputs.data<float>().ToArray()).ToArray();
        }

        Read(3).Should().BeEquivalentTo(Read(0), o => o.WithStrictOrdering());

        var damaged = Path.Combine(_directory, "odd", "99.png");
        File.WriteAllBytes(damaged, [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0]);
        var act = () => Read(2);
        act.Should().Throw<InvalidDataException>().WithMessage($"Image '{damaged}' cannot be decoded*");
    }

    [Fact]
    public void IdxDataset_gives_the_FashionMnist_loader_values_without_normalisation()
    {
        var directory = Path.Combine(_directory, "fmnist");
        Directory.CreateDirectory(directory);
        IdxTestData.WriteFashionMnist(directory, train: 12, test: 3);
        using var reference = FashionMnist.Load(new FashionMnistOptions { Directory = directory, AllowDownload = false, Normalize = false });
        var dataset = new IdxDataset(Path.Combine(directory, "train-images-idx3-ubyte.gz"), Path.Combine(directory, "train-labels-idx1-ubyte.gz"));
        dataset.Count.Should().Be(12);
        dataset.SampleShape.Should().Equal(1, 28, 28);
        var expected = reference.Train.Inputs.data<float>().ToArray();
        var labels = reference.Train.Targets!.data<long>().ToArray();
        for (var i = 0; i < 12; i++)
        {
            var sample = dataset.Get(i);
            sample.Values.Should().Equal(expected.AsSpan(i * 784, 784).ToArray());
            sample.Label.Should().Be(labels[i]);
        }

        var mismatch = () => new IdxDataset(Path.Combine(directory, "train-images-idx3-ubyte.gz"), Path.Combine(directory, "t10k-labels-idx1-ubyte"));
        mismatch.Should().Throw<InvalidDataException>().WithMessage("*t10k-labels*must be UInt8 of shape [12]*got UInt8 [3]*");
    }

    private byte[] WritePng(string className, string name, int width, int height, int seed)
    {
        Directory.CreateDirectory(Path.Combine(_directory, className));
        var random = new Random(seed);
        var rgba = new byte[width * height * 4];
        random.NextBytes(rgba);
        for (var p = 0; p < width * height; p++)
        {
            rgba[(4 * p) + 3] = 255; // opaque: PNG keeps the colours exactly
        }

        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        rgba.CopyTo(bitmap.GetPixelSpan());
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(Path.Combine(_directory, className, name), data.ToArray());
        return rgba;
    }

    private static float[] Planar(byte[] rgba, int height, int width)
    {
        var plane = height * width;
        var values = new float[3 * plane];
        for (var p = 0; p < plane; p++)
        {
            for (var c = 0; c < 3; c++)
            {
                values[(c * plane) + p] = rgba[(4 * p) + c] / 255f;
            }
        }

        return values;
    }
}
