using KnowledgeDistillation.Models;

namespace MethodComparison;

/// <summary>The pair (RepDistiller's resnet32x4 teacher, resnet8x4 student) at the settings' width, and the extra networks some methods need.</summary>
internal static class Networks
{
    public static ResNetCifar Teacher(ComparisonSettings s) => ResNetCifar.ResNet32x4(s.Classes, s.InputChannels, s.WidthScale);

    public static ResNetCifar Student(ComparisonSettings s) => ResNetCifar.ResNet8x4(s.Classes, s.InputChannels, s.WidthScale);

    /// <summary>The multi-teacher run's second teacher: resnet20x4 at the pair's width (seed 1001), another architecture than the first.</summary>
    public static TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor> SecondTeacher(ComparisonSettings s) => Assistant(s);

    /// <summary>resnet20x4 at the pair's width: TAKD's assistant.</summary>
    public static ResNetCifar Assistant(ComparisonSettings s)
    {
        using var reference = Teacher(s);
        return new ResNetCifar(20, reference.StageWidths, reference.StemWidth, s.Classes, s.InputChannels);
    }

    /// <summary>Input height and width: 28 (Fashion-MNIST) or 32 (CIFAR).</summary>
    public static int InputSize(ComparisonSettings s) => s.Preset == Preset.FashionMnist ? 28 : 32;

    /// <summary>Height (= width) of stage <paramref name="stage"/>'s output (0-based): full, half, quarter resolution, rounding up.</summary>
    public static long StageSize(ComparisonSettings s, int stage)
    {
        long size = InputSize(s);
        for (var i = 0; i < stage; i++)
        {
            size = (size + 1) / 2;
        }

        return size;
    }
}
