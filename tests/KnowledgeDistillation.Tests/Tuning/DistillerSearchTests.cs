using FluentAssertions;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Models;
using KnowledgeDistillation.Tests.Support;
using KnowledgeDistillation.Tuning;
using Xunit;

namespace KnowledgeDistillation.Tests.Tuning;

/// <summary>The search around real <see cref="Distiller.Fit"/> runs (seeds TorchSharp's global generator: serial).</summary>
[Collection(SerialCollection.Name)]
public sealed class DistillerSearchTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("kd-search-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Grid_search_over_the_learning_rate_of_a_distillation_run_picks_one_that_learns()
    {
        using var train = SyntheticData.Blobs(192, classes: 3, seed: 21);
        using var validation = SyntheticData.Blobs(96, classes: 3, seed: 21);
        Reproducibility.Seed(22);
        using var teacherNet = new Mlp(8, new[] { 16 }, numClasses: 3);
        using (var pretrainee = Student.FromModule(teacherNet, "teacher"))
        using (var pretraining = new Distiller(new[] { pretrainee }, new CrossEntropyLoss("teacher"), new DistillerOptions { Epochs = 3, Seed = 22, Threads = 1 }))
        {
            pretraining.Fit(new DataLoader(train, 32, seed: 22)); // a teacher worth distilling from
        }

        using var teacher = Teacher.FromModule(teacherNet);
        var fits = 0;

        double Objective(TrialParameters trial, CancellationToken ct)
        {
            fits++;
            Reproducibility.Seed(trial.Seed);
            using var net = new Mlp(8, new[] { trial.GetInt("hidden") }, numClasses: 3);
            using var student = Student.FromModule(net);
            var options = new DistillerOptions
            {
                Epochs = 3,
                Seed = trial.Seed,
                Threads = 1,
                Optimizer = new OptimizerOptions { LearningRate = trial.GetDouble("lr"), Momentum = 0.9, WeightDecay = 0 },
            };
            using var distiller = new Distiller(new IDistillationModel[] { teacher, student }, Loss.Hinton(temperature: 4, alpha: 0.5), options);
            var fit = distiller.Fit(new DataLoader(train, 32, seed: trial.Seed), new DataLoader(validation, 96, shuffle: false), ct);
            return fit.FinalMetric("student");
        }

        var space = new SearchSpace().LogUniform("lr", 1e-4, 1e-1, gridPoints: 4).Categorical("hidden", 8);
        var options = new HyperparameterSearchOptions
        {
            Strategy = SearchStrategy.Grid,
            Seed = 1,
            ResultsPath = Path.Combine(_directory, "lr-search.jsonl"),
        };

        var result = new HyperparameterSearch(space, options).Run(Objective);

        fits.Should().Be(4);
        result.Trials.Select(t => t.Parameters.GetDouble("lr")).Should().Equal(1e-4, 1e-3, 1e-2, 1e-1);
        result.Trials.Should().OnlyContain(t => t.Status == TrialStatus.Completed);
        result.BestScore.Should().BeGreaterThan(0.9);
        result.BestParameters!.GetDouble("lr").Should().BeGreaterThanOrEqualTo(1e-2);
        result.Trials[0].Score.Should().BeLessThan(result.BestScore!.Value, "1e-4 barely moves the student in 3 epochs");

        var resumed = new HyperparameterSearch(space, options).Run(Objective);
        fits.Should().Be(4, "the resumed search reads every trial from the results file");
        resumed.Best!.Index.Should().Be(result.Best!.Index);
        resumed.BestScore.Should().Be(result.BestScore);
    }
}
