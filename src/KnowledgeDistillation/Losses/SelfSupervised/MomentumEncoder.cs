using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// MoCo's key encoder (He et al., "Momentum Contrast for Unsupervised Visual Representation Learning", CVPR 2020; Chen et
/// al., "Improved Baselines with Momentum Contrastive Learning", 2020): a second copy of the query encoder whose parameters
/// follow the query's by an exponential moving average, <c>θ_k ← m θ_k + (1 − m) θ_q</c>, after every optimiser step; its
/// buffers (batch-norm running statistics) are copied. At construction the key starts as an exact copy of the query.
/// The loss that owns this object lists the key encoder among its frozen modules (so the engine moves it, keeps it in eval
/// mode and out of autograd, and saves it in checkpoints), runs it on the key view, and calls <see cref="Update"/> in its
/// step-end hook.
/// </summary>
public sealed class MomentumEncoder
{
    private readonly (Tensor Query, Tensor Key)[] _parameters;
    private readonly (Tensor Query, Tensor Key)[] _buffers;

    /// <summary>Pairs the encoders by parameter and buffer name and copies the query's values into the key.</summary>
    /// <param name="query">The trained encoder (the student's module).</param>
    /// <param name="key">A second instance of the same architecture whose output is the projection the query feature holds.</param>
    /// <param name="momentum">m in [0, 1), the key's own weight in the update (MoCo: 0.999).</param>
    /// <exception cref="ArgumentException">The modules are the same object, or their parameters or buffers differ in names or shapes.</exception>
    /// <exception cref="ArgumentOutOfRangeException">m is outside [0, 1).</exception>
    public MomentumEncoder(nn.Module query, nn.Module<Tensor, Tensor> key, double momentum = 0.999)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(key);
        if (ReferenceEquals(query, key))
        {
            throw new ArgumentException("The key encoder must be a second instance of the query encoder's architecture, not the same module.", nameof(key));
        }

        Momentum = momentum is >= 0 and < 1 ? momentum : throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "The key encoder's momentum must be in [0, 1).");
        Query = query;
        Key = key;
        _parameters = Pair(query.named_parameters().Select(p => (p.name, (Tensor)p.parameter)), key.named_parameters().Select(p => (p.name, (Tensor)p.parameter)), "parameters");
        _buffers = Pair(query.named_buffers(), key.named_buffers(), "buffers");
        using var noGrad = no_grad();
        foreach (var (q, k) in _parameters.Concat(_buffers))
        {
            k.copy_(q);
        }
    }

    /// <summary>The query encoder (trained by the optimiser).</summary>
    public nn.Module Query { get; }

    /// <summary>The key encoder (updated only by <see cref="Update"/>).</summary>
    public nn.Module<Tensor, Tensor> Key { get; }

    /// <summary>m, the key's own weight in the update.</summary>
    public double Momentum { get; }

    /// <summary>One momentum step: every key parameter becomes <c>m θ_k + (1 − m) θ_q</c>; buffers are copied.</summary>
    public void Update()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        foreach (var (q, k) in _parameters)
        {
            k.mul_(Momentum).add_(q.to(k.dtype, k.device), alpha: 1 - Momentum);
        }

        foreach (var (q, k) in _buffers)
        {
            k.copy_(q);
        }
    }

    private static (Tensor, Tensor)[] Pair(IEnumerable<(string Name, Tensor Value)> query, IEnumerable<(string Name, Tensor Value)> key, string what)
    {
        var q = query.ToArray();
        var k = key.ToDictionary(p => p.Name, p => p.Value, StringComparer.Ordinal);
        if (q.Length != k.Count || q.Any(p => !k.ContainsKey(p.Name)))
        {
            throw new ArgumentException(
                $"The key encoder must have the query encoder's {what}: the query has [{string.Join(", ", q.Select(p => p.Name))}], the key [{string.Join(", ", k.Keys)}].", "key");
        }

        foreach (var (name, value) in q)
        {
            if (!value.shape.SequenceEqual(k[name].shape))
            {
                throw new ArgumentException($"The key encoder's '{name}' is {Guard.Shape(k[name])} but the query encoder's is {Guard.Shape(value)}.", "key");
            }
        }

        return q.Select(p => (p.Value, k[p.Name])).ToArray();
    }
}
