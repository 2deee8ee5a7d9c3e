using System.Text.Json;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Tests.Support;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Losses;

internal sealed record FtCase(string Form, int P, double Value, FlatTensor GradStudent, Dictionary<string, FlatTensor> GradTranslator);

internal sealed record FtReconstruction(FlatTensor Feature, FlatTensor Reconstruction, double Mse);

internal sealed record FtReference(
    FlatTensor StudentFeature, FlatTensor TeacherFeature, int FactorChannels, Dictionary<string, FlatTensor> Paraphraser,
    Dictionary<string, FlatTensor> Translator, FtCase[] Cases, FtReconstruction Reconstruction);

internal sealed record CcCase(
    string Form, double Gamma, int Order, double Value, FlatTensor GradStudent, Dictionary<string, FlatTensor> GradStudentHead, Dictionary<string, FlatTensor> GradTeacherHead);

internal sealed record CcReference(
    FlatTensor StudentFeature, FlatTensor TeacherFeature, Dictionary<string, FlatTensor> StudentHead, Dictionary<string, FlatTensor> TeacherHead, CcCase[] Cases);

internal sealed record FtCcFixtureFile(string TorchVersion, int Seed, FtReference Ft, CcReference Cc);

/// <summary>
/// Reads Fixtures/ft_cc_terms.json (tests/fixtures/generate_ft_cc_fixtures.py: FT as in the paper and RepDistiller, CC as
/// in the paper, torchdistill's kernel and RepDistiller, in PyTorch float64), and builds the fixture's modules and cases.
/// </summary>
internal static class FtCcFixtures
{
    private static readonly Lazy<FtCcFixtureFile> File = new(() =>
    {
        using var stream = System.IO.File.OpenRead(Path.Combine(AppContext.BaseDirectory, "Fixtures", "ft_cc_terms.json"));
        return JsonSerializer.Deserialize<FtCcFixtureFile>(stream, new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower })!;
    });

    public static FtCcFixtureFile Data => File.Value;

    public static FeaturePair Pair => new("s", "t");

    public static FactorTransferForm FtForm(string form) => form == "flattened" ? FactorTransferForm.Flattened : FactorTransferForm.SpatialAttention;

    public static CorrelationCongruenceForm CcForm(string form) => form switch
    {
        "gaussian_kernel" => CorrelationCongruenceForm.GaussianKernel,
        "bilinear" => CorrelationCongruenceForm.Bilinear,
        _ => CorrelationCongruenceForm.RepDistiller,
    };

    /// <summary>The fixture's paraphraser (float64, eval mode: it is frozen) and translator (float64, train mode).</summary>
    public static (FactorAutoencoder Paraphraser, FactorCoder Translator) FtModules()
    {
        var ft = Data.Ft;
        var paraphraser = new FactorAutoencoder((int)ft.TeacherFeature.Shape[1], ft.FactorChannels);
        var translator = new FactorCoder((int)ft.StudentFeature.Shape[1], ft.FactorChannels, "translator");
        InheritanceExplorationFixtures.LoadInto(paraphraser, ft.Paraphraser);
        InheritanceExplorationFixtures.LoadInto(translator, ft.Translator);
        paraphraser.eval();
        return (paraphraser, translator);
    }

    public static FactorTransferLoss FtLoss(FactorTransferForm form = FactorTransferForm.Flattened, int p = 1)
    {
        var (paraphraser, translator) = FtModules();
        return Loss.FactorTransfer(Pair, paraphraser, translator, form, p);
    }

    public static LossContractCase FtCase(Device device, double? expected) =>
        DistillationTermFixtures.FeatureCase(device, new[] { ("s", Data.Ft.StudentFeature) }, new[] { ("t", Data.Ft.TeacherFeature) }, expected);

    /// <summary>The fixture's heads (float64), normalising for the kernel forms and not for RepDistiller's.</summary>
    public static (CorrelationEmbedding Student, CorrelationEmbedding Teacher) CcHeads(CorrelationCongruenceForm form)
    {
        var cc = Data.Cc;
        var normalize = form != CorrelationCongruenceForm.RepDistiller;
        var student = new CorrelationEmbedding(cc.StudentHead["linear.weight"].Shape[1], cc.StudentHead["linear.weight"].Shape[0], normalize);
        var teacher = new CorrelationEmbedding(cc.TeacherHead["linear.weight"].Shape[1], cc.TeacherHead["linear.weight"].Shape[0], normalize);
        InheritanceExplorationFixtures.LoadInto(student, cc.StudentHead);
        InheritanceExplorationFixtures.LoadInto(teacher, cc.TeacherHead);
        return (student, teacher);
    }

    public static CorrelationCongruenceLoss CcLoss(CorrelationCongruenceForm form = CorrelationCongruenceForm.GaussianKernel, double gamma = 0.4, int order = 2)
    {
        var (student, teacher) = CcHeads(form);
        return Loss.CorrelationCongruence(Pair, student, teacher, form, gamma, order);
    }

    public static LossContractCase CcCase(Device device, double? expected) =>
        DistillationTermFixtures.FeatureCase(device, new[] { ("s", Data.Cc.StudentFeature) }, new[] { ("t", Data.Cc.TeacherFeature) }, expected);
}
