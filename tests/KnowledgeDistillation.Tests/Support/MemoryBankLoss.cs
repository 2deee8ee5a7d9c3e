using KnowledgeDistillation.Losses;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Support;

/// <summary>
/// A stateful loss of the kind contrastive methods need, written against the public contract only: a per-sample memory
/// bank of the student's (detached) logits, updated with momentum after every optimiser step, plus a count of updates.
/// The loss pulls the student's logits towards the bank's entries of the same samples, so its values depend on the state:
/// a resumed run matches the uninterrupted one only when the bank and the counter are restored exactly.
/// </summary>
internal sealed class MemoryBankLoss : DistillationLoss
{
    private readonly Tensor _bank;
    private readonly Tensor _updates;
    private readonly bool _checkpointed;

    /// <param name="sampleCount">Training samples.</param>
    /// <param name="classes">Logit width.</param>
    /// <param name="momentum">Weight of the old entry in the update.</param>
    /// <param name="checkpointed">Whether the state is exposed to checkpoints (false only to show that resume then diverges).</param>
    public MemoryBankLoss(long sampleCount, long classes, double momentum = 0.5, bool checkpointed = true)
        : base("bank")
    {
        Momentum = momentum;
        _checkpointed = checkpointed;
        _bank = zeros(sampleCount, classes).DetachFromDisposeScope();
        _updates = zeros(1, ScalarType.Int64).DetachFromDisposeScope();
    }

    public double Momentum { get; }

    public long Updates => _updates.item<long>();

    public override LossRequirements Requirements => LossRequirements.None.Logits("student").Indices();

    public override IReadOnlyList<ILossState> State => _checkpointed ? new ILossState[] { new BankState(this) } : Array.Empty<ILossState>();

    public override LossResult Compute(DistillationContext context)
    {
        var logits = context.Output("student").RequireLogits("student");
        var entries = _bank.index_select(0, context.Batch.Indices);
        return new LossResult(Name, (logits - entries).pow(2).mean());
    }

    public override void OnStepEnd(DistillationContext context)
    {
        var logits = context.Output("student").RequireLogits("student").detach();
        var indices = context.Batch.Indices;
        var updated = (Momentum * _bank.index_select(0, indices)) + ((1 - Momentum) * logits);
        _bank.index_copy_(0, indices, updated);
        _updates.add_(1);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _bank.Dispose();
            _updates.Dispose();
        }
    }

    private sealed class BankState(MemoryBankLoss owner) : ILossState
    {
        public string Name => "bank.memory";

        public IReadOnlyDictionary<string, Tensor> Export() =>
            new Dictionary<string, Tensor> { ["bank"] = owner._bank, ["updates"] = owner._updates };

        public void Import(IReadOnlyDictionary<string, Tensor> state)
        {
            if (!state.TryGetValue("bank", out var bank) || !bank.shape.SequenceEqual(owner._bank.shape))
            {
                throw new InvalidDataException("The saved memory bank does not fit this loss.");
            }

            owner._bank.copy_(bank);
            owner._updates.copy_(state["updates"]);
        }
    }
}
