using FluentAssertions;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Models;
using KnowledgeDistillation.Tests.Support;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Losses;

[Collection(SerialCollection.Name)]
public sealed class CrdLossTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("kd-crd-").FullName;

    private static CrdReference R => ContrastiveTermFixtures.Data.Crd;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>The fixture's heads (6 → 3 and 5 → 3, float64, fixture weights).</summary>
    internal static (CrdEmbedding Student, CrdEmbedding Teacher) FixtureHeads()
    {
        var student = new CrdEmbedding(6, 3);
        var teacher = new CrdEmbedding(5, 3);
        student.to(ScalarType.Float64);
        teacher.to(ScalarType.Float64);
        using var noGrad = no_grad();
        foreach (var (prefix, head) in new[] { ("student.", student), ("teacher.", teacher) })
        {
            var parameters = head.named_parameters().ToDictionary(p => p.name, p => p.parameter);
            parameters.Keys.Should().BeEquivalentTo("linear.weight", "linear.bias");
            foreach (var (name, parameter) in parameters)
            {
                parameter.copy_(R.Weights[prefix + name].ToTensor());
            }
        }

        return (student, teacher);
    }

    /// <summary>The fixture's term: its heads, its fixed negatives, and its banks imported through the public state.</summary>
    internal static CrdLoss FixtureLoss()
    {
        var (student, teacher) = FixtureHeads();
        var loss = new CrdLoss(new FeaturePair("s", "t"), student, teacher, R.DataSize, R.Negatives, R.Temperature, R.Momentum, sampler: new FixedNegatives(R.Negatives1, R.Negatives2));
        loss.State.Should().ContainSingle().Which.Import(new Dictionary<string, Tensor>
        {
            ["student_bank"] = R.StudentBank.ToTensor(),
            ["teacher_bank"] = R.TeacherBank.ToTensor(),
            ["normalizers"] = tensor(new[] { -1.0, -1.0 }, ScalarType.Float64),
            ["updates"] = zeros(1, ScalarType.Int64),
        });
        return loss;
    }

    /// <summary>A context with the fixture's features and the fixture's positives as batch indices.</summary>
    internal static DistillationContext FixtureContext(Tensor student, Tensor? teacher = null, Tensor? indices = null)
    {
        var batchSize = student.shape[0];
        var outputs = new Dictionary<string, ModelOutput>
        {
            ["student"] = new(zeros(batchSize, 3, ScalarType.Float64), new Dictionary<string, Tensor> { ["s"] = student }),
            ["teacher"] = new(zeros(batchSize, 3, ScalarType.Float64), new Dictionary<string, Tensor> { ["t"] = teacher ?? R.TeacherFeature.ToTensor() }),
        };
        var batch = new Batch(zeros(batchSize, 1, ScalarType.Float64), zeros(batchSize, ScalarType.Int64), indices ?? tensor(R.Positives, ScalarType.Int64));
        return new DistillationContext(batch, outputs);
    }

    [Fact]
    public void Value_parts_and_gradients_of_feature_and_both_heads_match_pytorch_for_fixed_negatives()
    {
        using var scope = NewDisposeScope();
        using var loss = FixtureLoss();
        LossResult? result = null;
        var (value, grads) = DistillationTermFixtures.ValueAndGrads(
            s => (result = loss.Compute(FixtureContext(s[0]))).Total, R.StudentFeature.ToTensor());
        value.ShouldBeClose(R.Value, 1e-10, "crd");
        result!.Parts["crd.student"].item<double>().ShouldBeClose(R.StudentAnchor, 1e-10, "student anchor");
        result.Parts["crd.teacher"].item<double>().ShouldBeClose(R.TeacherAnchor, 1e-10, "teacher anchor");
        grads[0].ShouldMatch(R.Grad, 1e-10, "crd gradient w.r.t. the student feature");
        foreach (var (prefix, head) in new[] { ("student.", loss.StudentEmbedding), ("teacher.", loss.TeacherEmbedding) })
        {
            foreach (var (name, parameter) in head.named_parameters())
            {
                parameter.grad!.ShouldMatch(R.WeightGrads[prefix + name], 1e-10, $"crd gradient w.r.t. {prefix}{name}");
            }
        }
    }

    [Fact]
    public void The_bank_moves_at_step_end_not_in_compute_and_z_stays_fixed_from_the_first_step()
    {
        using var scope = NewDisposeScope();
        using var loss = FixtureLoss();
        var context = FixtureContext(R.StudentFeature.ToTensor());
        loss.Compute(context);
        loss.Compute(context);
        Bank(loss, "student_bank").ShouldMatch(R.StudentBank, 0, "the bank before the step end");
        loss.Normalizers.Should().Be((-1.0, -1.0), "Z is fixed when the first step ends");
        loss.Updates.Should().Be(0);

        loss.OnStepEnd(context);
        Bank(loss, "student_bank").ShouldMatch(R.StudentBankAfter, 1e-12, "the student bank after the momentum update");
        Bank(loss, "teacher_bank").ShouldMatch(R.TeacherBankAfter, 1e-12, "the teacher bank after the momentum update");
        loss.Normalizers.Student.ShouldBeClose(R.Normalizers[0], 1e-12, "Z_s");
        loss.Normalizers.Teacher.ShouldBeClose(R.Normalizers[1], 1e-12, "Z_t");
        loss.Updates.Should().Be(1);

        var second = loss.Compute(FixtureContext(R.SecondStudentFeature.ToTensor())).Total.item<double>();
        second.ShouldBeClose(R.SecondValue, 1e-10, "the second step (updated banks, fixed Z, the sampler's step-1 negatives)");
        loss.OnStepEnd(context);
        loss.OnStepEnd(context);
        loss.Updates.Should().Be(2, "a step end without a new Compute does not update twice");
    }

    [Fact]
    public void The_uniform_sampler_is_a_pure_function_of_seed_and_step()
    {
        using var scope = NewDisposeScope();
        var positives = arange(8L);
        var sampler = new UniformCrdNegativeSampler(seed: 3);
        var a = sampler.Sample(positives, 50, 64, step: 7);
        a.shape.Should().Equal(8, 64);
        a.min().item<long>().Should().BeGreaterThanOrEqualTo(0);
        a.max().item<long>().Should().BeLessThan(50);
        a.eq(new UniformCrdNegativeSampler(3).Sample(positives, 50, 64, 7)).all().item<bool>().Should().BeTrue("the draw depends only on (seed, step)");
        a.eq(sampler.Sample(positives, 50, 64, 8)).all().item<bool>().Should().BeFalse("each step draws anew");
        a.eq(new UniformCrdNegativeSampler(4).Sample(positives, 50, 64, 7)).all().item<bool>().Should().BeFalse("the seed matters");
        var counts = bincount(sampler.Sample(arange(1000L), 10, 100, 0).reshape(-1), minlength: 10).to_type(ScalarType.Float64);
        (counts / counts.sum()).sub(0.1).abs().max().item<double>().Should().BeLessThan(0.01, "the draw is uniform over the bank");
    }

    [Fact]
    public void Bad_construction_is_rejected()
    {
        using var student = new CrdEmbedding(6, 3);
        using var teacher = new CrdEmbedding(5, 3);
        using var other = new CrdEmbedding(5, 4);
        FeaturePair f = "x";
        ((Action)(() => new CrdLoss(f, student, teacher, 0))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "dataSize").WithMessage("*N >= 1*");
        ((Action)(() => new CrdLoss(f, student, teacher, 10, negatives: 0))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "negatives");
        ((Action)(() => new CrdLoss(f, student, teacher, 10, temperature: 0))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "temperature");
        ((Action)(() => new CrdLoss(f, student, teacher, 10, momentum: 1))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "momentum");
        ((Action)(() => new CrdLoss(f, student, other, 10))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "teacherEmbedding").WithMessage("*3*4*");
        ((Action)(() => new CrdEmbedding(0))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "inputDimension");
    }

    [Fact]
    public void Bad_batches_and_samplers_fail_with_dotnet_exceptions_before_native_code()
    {
        using var scope = NewDisposeScope();
        using var loss = FixtureLoss();
        var s = R.StudentFeature.ToTensor();
        ((Action)(() => loss.Compute(FixtureContext(s, indices: tensor(new long[] { 7, 2, 10, 0 }))))).Should().Throw<ArgumentOutOfRangeException>()
            .Where(e => e.ParamName == "indices").WithMessage("*[0, 10]*10 rows*");
        ((Action)(() => loss.Compute(FixtureContext(s, indices: tensor(new long[] { 7, -1, 3, 0 }))))).Should().Throw<ArgumentOutOfRangeException>();
        ((Action)(() => loss.Compute(FixtureContext(s, indices: zeros(4, ScalarType.Float64))))).Should().Throw<ArgumentException>().WithMessage("*int64 [4]*Float64*");
        ((Action)(() => loss.Compute(FixtureContext(zeros(4, 7, ScalarType.Float64))))).Should().Throw<ArgumentException>().WithMessage("*[4, 7]*7 values*takes 6*");
        ((Action)(() => loss.Compute(FixtureContext(s, teacher: zeros(4, 2, 3, ScalarType.Float64))))).Should().Throw<ArgumentException>().WithMessage("*[4, 2, 3]*6 values*takes 5*");
        ((Action)(() => loss.Compute(FixtureContext(zeros(4, ScalarType.Float64))))).Should().Throw<ArgumentException>().WithMessage("*[4]*");

        var (student, teacher) = FixtureHeads();
        using var badSampler = new CrdLoss("x", student, teacher, 10, 5, sampler: new FixedNegatives(new[] { new long[] { 1, 2 } }, Array.Empty<long[]>()));
        var context = FixtureContext(s);
        var features = new Dictionary<string, ModelOutput>
        {
            ["student"] = new(zeros(4, 3, ScalarType.Float64), new Dictionary<string, Tensor> { ["x"] = s }),
            ["teacher"] = new(zeros(4, 3, ScalarType.Float64), new Dictionary<string, Tensor> { ["x"] = R.TeacherFeature.ToTensor() }),
        };
        ((Action)(() => badSampler.Compute(new DistillationContext(context.Batch, features)))).Should().Throw<InvalidOperationException>().WithMessage("*int64 [4, 5]*[1, 2]*");
    }

    [Fact]
    public void A_saved_state_of_another_size_is_refused()
    {
        using var scope = NewDisposeScope();
        using var loss = FixtureLoss();
        var state = loss.State.Single();
        state.Name.Should().Be("crd.memory");
        var saved = state.Export().ToDictionary(p => p.Key, p => p.Value.clone());
        saved["student_bank"] = zeros(11, 3, ScalarType.Float64);
        ((Action)(() => state.Import(saved))).Should().Throw<InvalidDataException>().WithMessage("*student_bank*[10, 3]*N = 10*");
    }

    [Theory]
    [InlineData(5, false)]  // mid-epoch (4 batches per epoch)
    [InlineData(8, false)]  // at an epoch boundary
    [InlineData(5, true)]   // mid-epoch, negatives from the other classes
    public void The_memory_bank_resumes_bit_for_bit_after_a_stop(int cancelAtStep, bool classAware)
    {
        var (uninterrupted, bank, z, updates) = Train(classAware: classAware);
        updates.Should().Be(12, "one bank update per step");
        z.Student.Should().BePositive();

        using var cancel = new CancellationTokenSource();
        var act = () => Train(cancel, cancelAtStep, classAware: classAware);
        act.Should().Throw<OperationCanceledException>();
        var (resumed, resumedBank, resumedZ, resumedUpdates) = Train(resumeFrom: Path.Combine(_directory, "checkpoint.kdck"), classAware: classAware);

        resumedBank.Should().Equal(bank, "the banks after the resumed run equal the uninterrupted run's bit for bit");
        resumedZ.Should().Be(z);
        resumedUpdates.Should().Be(12);
        Losses(resumed).Should().Equal(Losses(uninterrupted));
    }

    [Fact]
    public void The_crd_recipe_trains_both_heads_and_leaves_the_teacher_alone()
    {
        using var data = SyntheticData.Blobs(32, classes: 3, seed: 3);
        random.manual_seed(12);
        using var teacherNet = new Mlp(8, new[] { 12 }, numClasses: 3);
        using var studentNet = new Mlp(8, new[] { 6 }, numClasses: 3);
        using var teacher = Teacher.FromModule(teacherNet);
        using var student = Student.FromModule(studentNet);
        using var studentHead = new CrdEmbedding(6, 4);
        using var teacherHead = new CrdEmbedding(12, 4);
        var recipe = Recipes.Crd(new FeaturePair("layers.relu1", "layers.relu1"), studentHead, teacherHead, 32, negatives: 16);
        recipe.Stages.Should().ContainSingle().Which.Loss.TrainableModules.Should().Equal(studentHead, teacherHead);
        var before = (Weights(studentHead), Weights(teacherHead), Weights(teacherNet));
        using var distiller = new Distiller(new IDistillationModel[] { teacher, student }, recipe, new DistillerOptions { Epochs = 1, Seed = 13 });
        var result = distiller.Fit(new DataLoader(data, 8, seed: 14));
        result.History.Should().ContainSingle().Which.LossParts.Should().ContainKeys("ce", "crd", "crd.student", "crd.teacher");
        Weights(studentHead).Should().NotEqual(before.Item1);
        Weights(teacherHead).Should().NotEqual(before.Item2, "the teacher's head is trained (only the teacher's features are detached)");
        Weights(teacherNet).Should().Equal(before.Item3);
    }

    private (FitResult Result, double[] Bank, (double Student, double Teacher) Z, long Updates) Train(CancellationTokenSource? cancel = null, int cancelAtStep = -1, string? resumeFrom = null, bool classAware = false)
    {
        using var data = SyntheticData.Blobs(32, classes: 3, seed: 3);
        var sampler = classAware ? new ClassAwareCrdNegativeSampler(data.Targets!.data<long>().ToArray(), seed: 21) : null;
        random.manual_seed(4);
        using var teacherNet = new Mlp(8, new[] { 12 }, numClasses: 3);
        random.manual_seed(resumeFrom is null ? 40 : 99); // the resumed run starts from other student and head weights
        using var studentNet = new Mlp(8, new[] { 6 }, numClasses: 3);
        using var studentHead = new CrdEmbedding(6, 4);
        using var teacherHead = new CrdEmbedding(12, 4);
        using var teacher = Teacher.FromModule(teacherNet);
        using var student = Student.FromModule(studentNet);
        using var crd = Loss.Crd(new FeaturePair("layers.relu1", "layers.relu1"), studentHead, teacherHead, 32, negatives: 8, seed: 21, sampler: sampler);
        var options = new DistillerOptions { Epochs = 3, Seed = 5, Checkpoint = new CheckpointOptions { Directory = _directory, Overwrite = true } }; // the reference run and the interrupted run share the directory
        using var distiller = new Distiller(new IDistillationModel[] { teacher, student }, new CrossEntropyLoss() + (0.8 * crd), options);
        if (cancel is not null)
        {
            distiller.Callbacks.Add(new CancelAfterSteps(cancel, cancelAtStep));
        }

        var loader = new DataLoader(data, 8, seed: 6);
        var result = resumeFrom is null ? distiller.Fit(loader, cancellationToken: cancel?.Token ?? default) : distiller.Resume(resumeFrom, loader);
        var exported = crd.State.Single().Export();
        var bank = exported["student_bank"].reshape(-1).to_type(ScalarType.Float64).data<double>()
            .Concat(exported["teacher_bank"].reshape(-1).to_type(ScalarType.Float64).data<double>()).ToArray();
        return (result, bank, crd.Normalizers, crd.Updates);
    }

    private static double[] Losses(FitResult result) =>
        result.History.SelectMany(h => h.LossParts.OrderBy(p => p.Key).Select(p => p.Value).Prepend(h.Loss)).ToArray();

    private static Tensor Bank(CrdLoss loss, string key) => loss.State.Single().Export()[key];

    private static double[] Weights(nn.Module module) =>
        module.parameters().SelectMany(p => p.detach().cpu().to_type(ScalarType.Float64).reshape(-1).data<double>().ToArray()).ToArray();

    /// <summary>Negatives fixed per step (step 0: the first set, later steps: the second), for comparison with PyTorch.</summary>
    internal sealed class FixedNegatives(long[][] first, long[][] second) : ICrdNegativeSampler
    {
        public Tensor Sample(Tensor positives, long dataSize, int count, long step)
        {
            var rows = step == 0 || second.Length == 0 ? first : second;
            return tensor(rows.SelectMany(r => r).ToArray(), new[] { (long)rows.Length, rows[0].Length }, ScalarType.Int64);
        }
    }
}

/// <summary>The loss contract for CRD with the fixture's heads, banks and negatives (the heads are checked by finite differences too).</summary>
public sealed class CrdLossContractTests : LossContractTests
{
    private static CrdReference R => ContrastiveTermFixtures.Data.Crd;

    protected override IDistillationLoss CreateLoss() => CrdLossTests.FixtureLoss();

    protected override LossContractCase CreateCase(Device device)
    {
        var student = R.StudentFeature.ToTensor().to(device).requires_grad_();
        var teacher = R.TeacherFeature.ToTensor().to(device).requires_grad_();
        var context = CrdLossTests.FixtureContext(student, teacher, tensor(R.Positives, ScalarType.Int64, device));
        return new LossContractCase(context, [("student.s", student)], [("teacher.t", teacher)], R.Value);
    }

    protected override IEnumerable<LossBadInput> BadInputs => base.BadInputs
        .Concat(DistillationTermFixtures.FeatureBadInputs("s", "t"))
        .Append(new("indices out of the bank's range", c => WithIndices(c, tensor(new long[] { 7, 2, 10, 0 })), typeof(ArgumentOutOfRangeException)))
        .Append(new("float indices", c => WithIndices(c, zeros(4, ScalarType.Float64)), typeof(ArgumentException)))
        .Append(new("a student feature of another width than its head's", c =>
            DistillationTermFixtures.WithFeature(c, "student", "s", zeros(4, 5, ScalarType.Float64)), typeof(ArgumentException)))
        .Append(new("a teacher feature of another width than its head's", c =>
            DistillationTermFixtures.WithFeature(c, "teacher", "t", zeros(4, 6, ScalarType.Float64)), typeof(ArgumentException)));

    private static DistillationContext WithIndices(LossContractCase valid, Tensor indices)
    {
        var b = valid.Context.Batch;
        return new DistillationContext(new Batch(b.Inputs, b.Targets, indices), valid.Context.Outputs);
    }
}
