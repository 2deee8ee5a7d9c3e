using KnowledgeDistillation.Data;

namespace KnowledgeDistillation.Tests.Data;

/// <summary>Small deterministic sources for the video tests.</summary>
internal static class VideoTestData
{
    /// <summary>Labelled [1, h, w] images whose pixels are a pure function of the index (no file needed).</summary>
    public static IDataset Items(int count, int size = 28, int classes = 4) =>
        Dataset.FromFunction(count, i =>
        {
            var values = new float[size * size];
            for (var p = 0; p < values.Length; p++)
            {
                values[p] = ((p * 31) + (i * 17)) % 97 / 96f;
            }

            return new DataSample(values, [1, size, size], i % classes);
        }, classCount: classes);

    /// <summary>A clip [T, C, H, W] whose value at (t, c, y, x) encodes its coordinates.</summary>
    public static DataSample Clip(int frames, int channels = 1, int height = 6, int width = 6, long label = 0)
    {
        var values = new float[frames * channels * height * width];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = i;
        }

        return new DataSample(values, [frames, channels, height, width], label);
    }
}
