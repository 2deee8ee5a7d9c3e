using KnowledgeDistillation;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Models;
using static TorchSharp.torch;

// Usage: KnowledgeDistillation.CheckpointHost <checkpoint-directory>
// Trains a deliberately large MLP (so each checkpoint takes a while to write) and checkpoints after every
// epoch, printing "saved <epoch>" after each write, until the parent process kills it; resumes the checkpoint it finds.
var directory = args.Length == 1 ? args[0] : throw new ArgumentException("usage: KnowledgeDistillation.CheckpointHost <checkpoint-directory>");
random.manual_seed(0);
using var inputs = randn(64, 256);
using var labels = randint(4, new long[] { 64 }).to(ScalarType.Int64);
using var data = new TensorDataset(inputs, labels);
using var net = new Mlp(256, new[] { 2048, 2048, 1024 }, numClasses: 4);
using var student = Student.FromModule(net);
var options = new DistillerOptions
{
    Epochs = 1_000_000,
    Seed = 0,
    Optimizer = new OptimizerOptions { LearningRate = 0.01 },
    Checkpoint = new CheckpointOptions { Directory = directory },
};
var distiller = new Distiller(new[] { student }, new CrossEntropyLoss(), options);
distiller.Callbacks.Add(new ReportSaves());
// A later round resumes the run the previous round's SIGKILL interrupted (Fit would refuse to overwrite its checkpoint).
var checkpoint = options.Checkpoint.FilePath!;
if (File.Exists(checkpoint))
{
    distiller.Resume(checkpoint, new DataLoader(data, 64));
}
else
{
    distiller.Fit(new DataLoader(data, 64));
}

internal sealed class ReportSaves : IDistillationCallback
{
    private int _epochs;

    public void OnEpochEnd(EpochRecord record, TrainingControl control)
    {
        // The engine writes the checkpoint right after the callbacks of an epoch, so the previous epoch's is complete now.
        if (_epochs++ > 0)
        {
            Console.WriteLine($"saved {_epochs - 1}");
            Console.Out.Flush();
        }
    }
}
