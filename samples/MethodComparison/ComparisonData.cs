using KnowledgeDistillation.Data;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace MethodComparison;

/// <summary>
/// The data of a comparison. Fashion-MNIST: the teacher trains on all 60,000 training images, the students on the first
/// <see cref="ComparisonSettings.StudentTrainLimit"/>, validation is the last <see cref="ComparisonSettings.ValidationCount"/>
/// (never seen by a student; seen by the teacher), test the 10,000 test images. CIFAR-100 (paper preset): all 50,000
/// training images with random crop + flip for teacher and students, no validation split (the papers report the best test
/// epoch), the 10,000 test images.
/// </summary>
internal sealed class ComparisonData : IDisposable
{
    private readonly List<IDisposable> _owned = new();
    private Dictionary<long, TensorDataset>? _teacherSets;
    private readonly Func<int, IBatchSource> _studentTrain;
    private readonly Func<int, int?, IBatchSource> _teacherTrain;

    private ComparisonData(Func<int, IBatchSource> studentTrain, long[] studentLabels, Func<int, int?, IBatchSource> teacherTrain, IBatchSource? validation, IBatchSource test)
    {
        _studentTrain = studentTrain;
        StudentTrainLabels = studentLabels;
        _teacherTrain = teacherTrain;
        Validation = validation;
        Test = test;
    }

    /// <summary>Training samples of a student (CRD's N, the teacher cache's size).</summary>
    public long StudentTrainCount => StudentTrainLabels.Length;

    /// <summary>The label of each student training sample, by sample index (CRD's class-aware negatives).</summary>
    public long[] StudentTrainLabels { get; }

    public IBatchSource? Validation { get; }

    public IBatchSource Test { get; }

    /// <summary>The students' training images as tensors (Fashion-MNIST); null for a pipeline.</summary>
    public TensorDataset? StudentTensorSet { get; private init; }

    /// <summary>Whether the training batches are augmented (then the teacher cannot be cached).</summary>
    public bool Augmented { get; private init; }

    /// <summary>The students' training batches for a seed (the seed fixes the order, identical across methods).</summary>
    public IBatchSource StudentTrain(int seed) => _studentTrain(seed);

    /// <summary>A teacher's training batches: the first <paramref name="limit"/> training images (null: all).</summary>
    public IBatchSource TeacherTrain(int seed, int? limit) => _teacherTrain(seed, limit);

    public static ComparisonData Load(ComparisonSettings s, ILogger logger, CancellationToken ct) => s.Preset switch
    {
        Preset.FashionMnist => LoadFashionMnist(s, logger, ct),
        Preset.Cifar100Paper => LoadCifar100(s, logger, ct),
        _ => throw new ArgumentOutOfRangeException(nameof(s), s.Preset, "Unknown preset."),
    };

    private static ComparisonData LoadFashionMnist(ComparisonSettings s, ILogger logger, CancellationToken ct)
    {
        var data = FashionMnist.Load(new FashionMnistOptions { Directory = s.DataDirectory }, logger, ct);
        var train = data.Train;
        var limit = s.StudentTrainLimit is { } l && l < train.Count ? l : train.Count;
        if (s.ValidationCount < 0 || limit + s.ValidationCount > train.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(s), $"The student images ({limit}) and the validation images ({s.ValidationCount}) must fit in the {train.Count} training images without overlap.");
        }

        var students = limit < train.Count ? train.Take(limit) : null;
        var teacherSets = new Dictionary<long, TensorDataset>();
        IBatchSource TeacherTrain(int seed, int? teacherLimit)
        {
            if (teacherLimit is not { } n || n >= train.Count)
            {
                return new DataLoader(train, s.TeacherBatchSize, seed: seed);
            }

            if (!teacherSets.TryGetValue(n, out var subset))
            {
                subset = train.Take(n);
                teacherSets[n] = subset;
            }

            return new DataLoader(subset, s.TeacherBatchSize, seed: seed);
        }
        var studentSet = students ?? train;
        TensorDataset? validation = null;
        if (s.ValidationCount > 0)
        {
            var start = train.Count - s.ValidationCount;
            validation = new TensorDataset(train.Inputs.narrow(0, start, s.ValidationCount).clone(), train.Targets!.narrow(0, start, s.ValidationCount).clone());
        }

        var result = new ComparisonData(
            seed => new DataLoader(studentSet, s.BatchSize, seed: seed),
            Labels(studentSet),
            TeacherTrain,
            validation is null ? null : new DataLoader(validation, 1000, shuffle: false),
            new DataLoader(data.Test, 1000, shuffle: false)) { StudentTensorSet = studentSet };
        result._owned.Add(data);
        if (students is not null)
        {
            result._owned.Add(students);
        }

        if (validation is not null)
        {
            result._owned.Add(validation);
        }

        result._teacherSets = teacherSets;

        return result;
    }

    private static ComparisonData LoadCifar100(ComparisonSettings s, ILogger logger, CancellationToken ct)
    {
        var cifar = Cifar.Load(CifarVariant.Cifar100, new CifarOptions { Directory = s.DataDirectory, AllowDownload = s.DataDirectory is null }, logger, ct);
        var test = cifar.Test.ToTensorDataset(Cifar.Cifar100Mean, Cifar.Cifar100Std);
        IBatchSource Augmented(int seed, int batchSize)
        {
            var options = new DataPipelineOptions { BatchSize = batchSize, Seed = seed, Shuffle = true };
            options.Transforms.Add(new RandomCrop(32, 32, padding: 4));
            options.Transforms.Add(new RandomHorizontalFlip());
            options.Transforms.Add(new Normalize(Cifar.Cifar100Mean, Cifar.Cifar100Std));
            return new DataPipeline(cifar.Train, options, logger);
        }

        var result = new ComparisonData(seed => Augmented(seed, s.BatchSize), cifar.Train.Records.Labels.ToArray().Select(l => (long)l).ToArray(), (seed, _) => Augmented(seed, s.TeacherBatchSize), null, new DataLoader(test, 1000, shuffle: false)) { Augmented = true };
        result._owned.Add(test);
        return result;
    }

    private static long[] Labels(TensorDataset set)
    {
        using var targets = (set.Targets ?? throw new InvalidOperationException("The students' training set has no labels.")).to(ScalarType.Int64).cpu();
        return targets.data<long>().ToArray();
    }

    public void Dispose()
    {
        foreach (var item in _owned.Concat(_teacherSets?.Values ?? Enumerable.Empty<TensorDataset>()))
        {
            item.Dispose();
        }
    }
}
