using FluentAssertions;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Tests.Support;
using KnowledgeDistillation.Transformers;
using KnowledgeDistillation.Transformers.Data;
using KnowledgeDistillation.Transformers.Losses;
using KnowledgeDistillation.Transformers.Text;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Transformers;

/// <summary>Internal-representation distillation on long sequences keeps the number of live native tensors flat.</summary>
[Collection(SerialCollection.Name)]
public sealed class TransformerMemoryTests
{
    [Fact]
    public void Long_sequence_internal_distillation_keeps_live_tensors_flat_across_steps()
    {
        var texts = Enumerable.Range(0, 16).Select(i => string.Join(' ', Enumerable.Range(0, 200).Select(j => ((i * 31 + j * 7) % 50).ToString(System.Globalization.CultureInfo.InvariantCulture)))).ToArray();
        var data = new TextClassificationData(texts, Enumerable.Range(0, 16).Select(i => i % 2).ToArray(), new[] { "0", "1" });
        var vocab = Path.Combine(Directory.CreateTempSubdirectory("kd-bert-memory-").FullName, "vocab.txt");
        Vocabulary.Build(texts, vocab, minCount: 1);
        var tokenizer = WordPieceTokenizer.FromVocabulary(vocab);
        var source = new TextBatchSource(data, tokenizer, maxLength: 256, batchSize: 4, seed: 1);
        random.manual_seed(2);
        var config = new BertConfig { VocabSize = tokenizer.VocabularySize, HiddenSize = 16, NumHiddenLayers = 2, NumAttentionHeads = 2, IntermediateSize = 32, MaxPositionEmbeddings = 256 };
        using var teacherNet = new BertForSequenceClassification(config);
        using var studentNet = new BertForSequenceClassification(config with { NumHiddenLayers = 1, HiddenSize = 8, IntermediateSize = 16 });
        using var teacher = Teacher.FromModule(teacherNet);
        using var student = Student.FromModule(studentNet);
        var options = new InternalDistillationOptions { Schedule = InternalDistillationSchedule.Stacked, HiddenWeight = 1, StudentWidth = 8, TeacherWidth = 16, EpochsPerStage = 1 };

        DistillerOptions Options(int epochs) => new() { Epochs = epochs, Seed = 3, Optimizer = new OptimizerOptions { Kind = OptimizerKind.AdamW, LearningRate = 1e-3 } };
        using (var warmUp = new Distiller(new IDistillationModel[] { student, teacher }, TransformerRecipes.InternalDistillation(LayerMap.Uniform(1, 2), options), Options(2)))
        {
            warmUp.Fit(source);
        }

        var afterWarmUp = Tensor.TotalCount;
        using var run = new Distiller(new IDistillationModel[] { student, teacher }, TransformerRecipes.InternalDistillation(LayerMap.Uniform(1, 2), options), Options(6));
        var counts = new LiveTensorCounts();
        run.Callbacks.Add(counts);
        var result = run.Fit(source);
        var afterRun = Tensor.TotalCount;

        source.BatchIndices(0).Max(b => b.Max(i => source.Ids((int)i).Count)).Should().Be(202, "the batches are long sequences (200 words + [CLS] + [SEP])");
        result.History.Sum(h => h.Steps).Should().Be(28, "1 internal epoch, then 6 soft-label epochs (KdEpochs null: the run's epoch count), 4 batches each");
        // The second run's own optimiser state and projections are created during it; allow for them, not for per-step growth.
        counts.AtEpochEnd.Skip(2).Should().AllBeEquivalentTo(counts.AtEpochEnd[2], "epochs 3-6 (all in the soft-label stage) end with the same live tensors");
        (afterRun - afterWarmUp).Should().BeLessThan(100, "no tensor may outlive its training step (28 steps, each creating hundreds)");
    }

    private sealed class LiveTensorCounts : IDistillationCallback
    {
        public List<long> AtEpochEnd { get; } = new();

        public void OnEpochEnd(EpochRecord record, TrainingControl control) => AtEpochEnd.Add(Tensor.TotalCount);
    }
}
