using KnowledgeDistillation.Detection.Data;
using KnowledgeDistillation.Detection.Models;

namespace KnowledgeDistillation.Detection.Tests.Support;

internal static class DetectionSetup
{
    public static DetectionBatchSource Source(int images = 8, int batchSize = 4, int seed = 0)
    {
        var data = VocReader.Read(SyntheticVoc.Create(images, 64, 64, seed), new VocOptions { Classes = SyntheticVoc.Classes });
        return new DetectionBatchSource(data, new DetectionBatchOptions { BatchSize = batchSize, ImageSize = 64, Seed = seed });
    }

    public static FcosDetectorOptions Small(int classes = 2) => new() { Classes = classes, Widths = new[] { 8, 8, 16, 16 }, FpnChannels = 16, GroupNormGroups = 4, HeadConvs = 1 };

    public static FcosDetectorOptions Larger(int classes = 2) => new() { Classes = classes, Widths = new[] { 8, 16, 16, 32 }, Blocks = new[] { 1, 1, 2, 1 }, FpnChannels = 16, GroupNormGroups = 4, HeadConvs = 1 };
}
