using System.Security.Cryptography;
using FluentAssertions;
using KnowledgeDistillation.Data;
using Xunit;

namespace KnowledgeDistillation.Tests.Data;

public class MovingFashionMnistTests
{
    private static string Hash(IDataset clips, int first)
    {
        using var sha = SHA256.Create();
        for (var i = 0; i < first; i++)
        {
            var clip = clips.Get(i);
            var bytes = new byte[clip.Values.Length * sizeof(float)];
            Buffer.BlockCopy(clip.Values, 0, bytes, 0, bytes.Length);
            sha.TransformBlock(bytes, 0, bytes.Length, null, 0);
            var label = BitConverter.GetBytes(clip.Label!.Value);
            sha.TransformBlock(label, 0, label.Length, null, 0);
        }

        sha.TransformFinalBlock(Array.Empty<byte>(), 0, 0);
        return Convert.ToHexString(sha.Hash!);
    }

    [FactRequiresPath(FashionMnist.SystemDirectory)]
    public void The_first_clips_of_a_seed_are_fixed_on_the_real_test_split()
    {
        var clips = MovingFashionMnist.Load(train: false, frames: 10, seed: 17);
        clips.Count.Should().Be(10_000);
        clips.ClassCount.Should().Be(10);
        clips.ClipShape.Should().Equal(10, 1, 64, 64);
        Hash(clips, 4).Should().Be(RealSplitHash, "the generator is a pure function of (seed, index); a change to it must be deliberate");
        MovingFashionMnist.Load(train: true, frames: 4, seed: 1, count: 100).Count.Should().Be(100);
    }

    [Fact]
    public void The_first_clips_of_a_seed_are_fixed_on_a_synthetic_source()
    {
        var clips = new MovingFashionMnist(VideoTestData.Items(8), frames: 6, seed: 3);
        Hash(clips, 4).Should().Be(SyntheticHash);
        Hash(new MovingFashionMnist(VideoTestData.Items(8), frames: 6, seed: 3), 4).Should().Be(SyntheticHash, "the same seed gives the same clips");
        Hash(new MovingFashionMnist(VideoTestData.Items(8), frames: 6, seed: 4), 4).Should().NotBe(SyntheticHash, "another seed gives other trajectories");
    }

    [Fact]
    public void Every_frame_shows_the_whole_item_moving_at_the_drawn_speed_and_bouncing_inside_the_canvas()
    {
        var source = VideoTestData.Items(5);
        var clips = new MovingFashionMnist(source, frames: 40, seed: 9, minSpeed: 3, maxSpeed: 6);
        for (var i = 0; i < clips.Count; i++)
        {
            var item = source.Get(i);
            var clip = clips.Get(i);
            clip.Label.Should().Be(item.Label, "the clip's class is the item's");
            var trajectory = clips.Trajectory(i);
            for (var t = 0; t < 40; t++)
            {
                var (x, y) = trajectory[t];
                x.Should().BeInRange(0, 64 - 28);
                y.Should().BeInRange(0, 64 - 28);
                var frame = clip.Values.AsSpan(t * 64 * 64, 64 * 64);
                frame.ToArray().Sum().Should().BeApproximately(item.Values.Sum(), 1e-2f, "the item is pasted whole in frame {0}", t);
                frame[(y * 64) + x + 5].Should().Be(item.Values[5], "the item's top-left corner is at the trajectory's position");
                if (t > 0)
                {
                    var step = Math.Sqrt(Math.Pow(x - trajectory[t - 1].X, 2) + Math.Pow(y - trajectory[t - 1].Y, 2));
                    step.Should().BeLessThanOrEqualTo(6 + 1.5, "a step is at most the speed (plus rounding)");
                }
            }

            trajectory.Select(p => p.X).Distinct().Count().Should().BeGreaterThan(5, "the item moves");
        }
    }

    [Fact]
    public void Bad_arguments_are_rejected()
    {
        var source = VideoTestData.Items(3);
        ((Action)(() => new MovingFashionMnist(source, frames: 0))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "frames");
        ((Action)(() => new MovingFashionMnist(source, canvasSize: 20))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "source").WithMessage("*canvas (20)*");
        ((Action)(() => new MovingFashionMnist(source, minSpeed: 3, maxSpeed: 2))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "maxSpeed");
        ((Action)(() => new MovingFashionMnist(Dataset.FromFunction(2, i => new DataSample(new float[4], [1, 2, 2]))))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "source");
        ((Action)(() => new MovingFashionMnist(source).Get(3))).Should().Throw<ArgumentOutOfRangeException>();
        ((Action)(() => MovingFashionMnist.Load(true, directory: "/nonexistent/fashion"))).Should().Throw<FileNotFoundException>().WithMessage("*train-images-idx3-ubyte*");
    }

    private const string RealSplitHash = "C1070C031685D1465583279F03FE37C948549856691522FF37AE6809346FE662";

    private const string SyntheticHash = "8C65E5A7D07A3EFE89D73815796651B195D65E22570D0F3A9A272E0E8B2B3B6E";
}
