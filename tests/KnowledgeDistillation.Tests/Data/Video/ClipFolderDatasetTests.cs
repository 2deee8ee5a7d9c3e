using System.Text;
using FluentAssertions;
using KnowledgeDistillation.Data;
using SkiaSharp;
using Xunit;

namespace KnowledgeDistillation.Tests.Data;

public sealed class ClipFolderDatasetTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("kd-clips-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>Writes a version-1 .npy file with the given dtype descriptor, shape and raw little-endian data.</summary>
    internal static void WriteNpy(string path, string descr, int[] shape, byte[] data, bool fortran = false)
    {
        var dims = shape.Length == 1 ? $"{shape[0]}," : string.Join(", ", shape);
        var header = $"{{'descr': '{descr}', 'fortran_order': {(fortran ? "True" : "False")}, 'shape': ({dims}), }}";
        var total = 10 + header.Length + 1;
        header = header.PadRight(header.Length + ((64 - (total % 64)) % 64)) + "\n";
        using var file = File.Create(path);
        file.Write(new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0 });
        file.Write(BitConverter.GetBytes((ushort)header.Length));
        file.Write(Encoding.Latin1.GetBytes(header));
        file.Write(data);
    }

    private static void WritePng(string path, int width, int height, byte grey)
    {
        using var bitmap = new SKBitmap(width, height);
        bitmap.Erase(new SKColor(grey, grey, grey));
        using var image = SKImage.FromBitmap(bitmap);
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(path, png.ToArray());
    }

    [Fact]
    public void Reads_frame_folders_and_npy_clips_by_class()
    {
        // class "a": a frame folder of 3 PNG frames (grey levels 0, 51, 102); class "b": uint8 [T, H, W, C] and float32 [T, H, W].
        var frames = Directory.CreateDirectory(Path.Combine(_root, "a", "clip1")).FullName;
        for (var t = 0; t < 3; t++)
        {
            WritePng(Path.Combine(frames, $"frame{t:D3}.png"), 5, 4, (byte)(51 * t));
        }

        Directory.CreateDirectory(Path.Combine(_root, "b"));
        var thwc = Enumerable.Range(0, 2 * 2 * 3 * 3).Select(i => (byte)i).ToArray(); // [2, 2, 3, 3]
        WriteNpy(Path.Combine(_root, "b", "c1.npy"), "|u1", [2, 2, 3, 3], thwc);
        var thw = Enumerable.Range(0, 4 * 2 * 2).SelectMany(i => BitConverter.GetBytes(i * 0.5f)).ToArray();
        WriteNpy(Path.Combine(_root, "b", "c2.npy"), "<f4", [4, 2, 2], thw);

        var clips = new ClipFolderDataset(_root, new ImageFolderOptions { Grayscale = true });
        clips.ClassNames.Should().Equal("a", "b");
        clips.Count.Should().Be(3);
        clips.ClassCount.Should().Be(2);

        var folder = clips.Get(0);
        folder.Shape.Should().Equal(3, 1, 4, 5);
        folder.Label.Should().Be(0);
        folder.Values[20 * 2].Should().BeApproximately(102 / 255f, 1e-6f, "frames in file-name order");

        var channelsLast = clips.Get(1);
        channelsLast.Shape.Should().Equal(new[] { 2, 3, 2, 3 }, "[T, H, W, C] becomes [T, C, H, W]");
        channelsLast.Label.Should().Be(1);
        // (t=1, c=2, y=1, x=0) was raw index ((1·2 + 1)·3 + 0)·3 + 2 = 29.
        channelsLast.Values[(((1 * 3) + 2) * 2 + 1) * 3].Should().BeApproximately(29 / 255f, 1e-6f);

        var grey = clips.Get(2);
        grey.Shape.Should().Equal(4, 1, 2, 2);
        grey.Values[5].Should().Be(2.5f);

        var channelsFirst = new ClipFolderDataset(_root, layout: NpyClipLayout.FramesChannelsHeightWidth).Get(1);
        channelsFirst.Shape.Should().Equal(2, 2, 3, 3);
        channelsFirst.Values[29].Should().BeApproximately(29 / 255f, 1e-6f);
    }

    [Fact]
    public void Bad_clips_name_the_file()
    {
        Directory.CreateDirectory(Path.Combine(_root, "a", "empty"));
        WriteNpy(Path.Combine(_root, "a", "fortran.npy"), "<f4", [2, 2, 2], new byte[32], fortran: true);
        WriteNpy(Path.Combine(_root, "a", "int.npy"), "<i8", [2, 2, 2], new byte[64]);
        WriteNpy(Path.Combine(_root, "a", "rank2.npy"), "<f4", [2, 2], new byte[16]);
        WriteNpy(Path.Combine(_root, "a", "short.npy"), "<f4", [2, 2, 2], new byte[30]);
        File.WriteAllText(Path.Combine(_root, "a", "text.npy"), "not numpy");
        var clips = new ClipFolderDataset(_root);
        var byName = clips.Clips.Select((p, i) => (Path.GetFileName(p), i)).ToDictionary(p => p.Item1, p => (long)p.i);
        ((Action)(() => clips.Get(byName["empty"]))).Should().Throw<InvalidDataException>().WithMessage("*empty*no frame images*");
        ((Action)(() => clips.Get(byName["fortran.npy"]))).Should().Throw<InvalidDataException>().WithMessage("*fortran.npy*Fortran order*");
        ((Action)(() => clips.Get(byName["int.npy"]))).Should().Throw<InvalidDataException>().WithMessage("*int.npy*'<i8'*");
        ((Action)(() => clips.Get(byName["rank2.npy"]))).Should().Throw<InvalidDataException>().WithMessage("*rank2.npy*[T, H, W]*");
        ((Action)(() => clips.Get(byName["short.npy"]))).Should().Throw<InvalidDataException>().WithMessage("*short.npy*8 values of 4 bytes*30 bytes*");
        ((Action)(() => clips.Get(byName["text.npy"]))).Should().Throw<InvalidDataException>().WithMessage("*text.npy*magic*");
        ((Action)(() => new ClipFolderDataset(Path.Combine(_root, "missing")))).Should().Throw<DirectoryNotFoundException>();
        ((Action)(() => new ClipFolderDataset(Path.Combine(_root, "a", "empty")))).Should().Throw<InvalidDataException>().WithMessage("*no class subfolders*");
    }
}
