using FluentAssertions;
using KnowledgeDistillation.Caching;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Models;
using KnowledgeDistillation.Tests.Support;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Caching;

[Collection(SerialCollection.Name)]
public sealed class CachedTeacherTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("kd-cache-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData(TeacherCacheStorage.Memory)]
    [InlineData(TeacherCacheStorage.Disk)]
    public void Cached_kd_matches_uncached_kd_and_runs_the_teacher_only_in_the_first_epoch(TeacherCacheStorage storage)
    {
        using var data = SyntheticData.Blobs(96, classes: 3, seed: 1);
        random.manual_seed(2);
        using var teacherNet = new Mlp(8, new[] { 32 }, numClasses: 3);
        using var counting = new CountingTeacher(Teacher.FromModule(teacherNet, captureFeatures: "layers.fc1"));

        var uncached = TrainStudent(counting, data);
        var uncachedCalls = counting.Calls;

        counting.Calls = 0;
        using var cached = counting.WithOutputCache(data.Count, new TeacherCacheOptions { Storage = storage, FilePath = Path.Combine(_directory, "teacher.cache") });
        var result = TrainStudent(cached, data);

        uncachedCalls.Should().Be(4 * 6);
        counting.Calls.Should().Be(6, "only the first epoch's 6 batches run the teacher");
        cached.Misses.Should().Be(6);
        cached.Hits.Should().Be(3 * 6);
        cached.CachedSamples.Should().Be(96);
        result.History.Select(h => h.Loss).Should().Equal(uncached.History.Select(h => h.Loss), (a, b) => Math.Abs(a - b) < 1e-5);
    }

    [Fact]
    public void Features_are_cached_with_the_logits()
    {
        using var data = SyntheticData.Blobs(16, seed: 3);
        using var teacherNet = new Mlp(8, new[] { 5 }, numClasses: 3);
        using var teacher = Teacher.FromModule(teacherNet, captureFeatures: "layers.fc1");
        using var cached = teacher.WithOutputCache(16);
        var loader = new DataLoader(data, 8, shuffle: false);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var first = loader.GetBatches(0, CPU).Select(cached.Forward).ToArray();
        var second = loader.GetBatches(1, CPU).Select(cached.Forward).ToArray();
        cached.Hits.Should().Be(2);
        for (var i = 0; i < 2; i++)
        {
            second[i].Logits!.allclose(first[i].Logits!).Should().BeTrue();
            second[i].Feature("layers.fc1").allclose(first[i].Feature("layers.fc1")).Should().BeTrue();
        }
    }

    [Fact]
    public void Changed_inputs_are_refused_unless_allowed()
    {
        using var data = SyntheticData.Blobs(16, seed: 4);
        using var teacherNet = new Mlp(8, Array.Empty<int>(), numClasses: 3);
        using var teacher = Teacher.FromModule(teacherNet);
        using var indices = arange(8L);
        using var inputs = data.Inputs.narrow(0, 0, 8);
        using var flipped = inputs.flip(1); // same values, another order: an augmentation a sum would not notice
        using var noGrad = no_grad();

        using (var strict = teacher.WithOutputCache(16))
        {
            strict.Forward(new Batch(inputs, null, indices));
            var act = () => strict.Forward(new Batch(flipped, null, indices));
            act.Should().Throw<InvalidOperationException>().WithMessage("*sample(s) 0, 1, 2, 3, 4*random augmentation*AllowChangedInputs*");
        }

        using var lenient = teacher.WithOutputCache(16, new TeacherCacheOptions { AllowChangedInputs = true });
        var fresh = lenient.Forward(new Batch(inputs, null, indices)).Logits!.clone();
        lenient.Forward(new Batch(flipped, null, indices)).Logits!.allclose(fresh).Should().BeTrue("the first-seen outputs are served");
    }

    [Fact]
    public void Disk_cache_is_reused_by_the_same_teacher_and_refused_for_another()
    {
        using var data = SyntheticData.Blobs(16, seed: 5);
        random.manual_seed(6);
        using var teacherNet = new Mlp(8, Array.Empty<int>(), numClasses: 3);
        using var otherNet = new Mlp(8, Array.Empty<int>(), numClasses: 3);
        var options = new TeacherCacheOptions { Storage = TeacherCacheStorage.Disk, FilePath = Path.Combine(_directory, "t.cache") };
        var loader = new DataLoader(data, 8);
        using var noGrad = no_grad();
        using (var counting = new CountingTeacher(Teacher.FromModule(teacherNet)))
        using (var cache = counting.WithOutputCache(16, options))
        {
            foreach (var batch in loader.GetBatches(0, CPU))
            {
                cache.Forward(batch);
            }
        }

        using (var counting = new CountingTeacher(Teacher.FromModule(teacherNet)))
        using (var reopened = counting.WithOutputCache(16, options))
        {
            reopened.CachedSamples.Should().Be(16);
            foreach (var batch in loader.GetBatches(1, CPU))
            {
                reopened.Forward(batch);
            }

            counting.Calls.Should().Be(0, "a reopened cache serves everything");
        }

        var otherTeacher = () => Teacher.FromModule(otherNet).WithOutputCache(16, options);
        otherTeacher.Should().Throw<InvalidOperationException>().WithMessage("*different weights*");
        var otherData = () => Teacher.FromModule(teacherNet).WithOutputCache(17, options);
        otherData.Should().Throw<InvalidOperationException>().WithMessage("*made for 16 samples*17*");
    }

    [Fact]
    public void Bad_setups_are_rejected()
    {
        using var net = new Mlp(8, Array.Empty<int>(), numClasses: 3);
        var trainable = () => Teacher.FromModule(net, trainable: true).WithOutputCache(10);
        trainable.Should().Throw<ArgumentException>().WithMessage("*trainable*frozen*");
        var count = () => Teacher.FromModule(net).WithOutputCache(0);
        count.Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "sampleCount");
        var noPath = () => Teacher.FromModule(net).WithOutputCache(10, new TeacherCacheOptions { Storage = TeacherCacheStorage.Disk });
        noPath.Should().Throw<ArgumentException>().WithMessage("*FilePath*");

        using var cache = Teacher.FromModule(net).WithOutputCache(4);
        using var x = randn(2, 8);
        using var i = tensor(new long[] { 1, 4 });
        var outside = () => cache.Forward(new Batch(x, null, i));
        outside.Should().Throw<ArgumentException>().WithMessage("*index 4*0..3*");
    }

    private static FitResult TrainStudent(ITeacher teacher, TensorDataset data)
    {
        random.manual_seed(7);
        using var studentNet = new Mlp(8, new[] { 8 }, numClasses: 3);
        using var student = Student.FromModule(studentNet);
        var options = new DistillerOptions { Epochs = 4, Seed = 8 };
        return new Distiller(teacher, student, Loss.Hinton(4, 0.9), options).Fit(new DataLoader(data, 16, seed: 9));
    }

    /// <summary>Counts how often the wrapped teacher actually runs.</summary>
    private sealed class CountingTeacher(ITeacher inner) : ITeacher
    {
        public int Calls { get; set; }

        public string Name => inner.Name;

        public nn.Module Module => inner.Module;

        public bool IsTrainable => false;

        public ModelOutput Forward(Batch batch)
        {
            Calls++;
            return inner.Forward(batch);
        }

        public void Dispose() => inner.Dispose();
    }
}
