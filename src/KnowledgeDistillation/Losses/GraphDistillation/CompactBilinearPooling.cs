using KnowledgeDistillation.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// Compact bilinear pooling by Tensor Sketch (Pham and Pagh 2013; Gao, Beijbom, Zhang and Darrell, "Compact Bilinear Pooling",
/// CVPR 2016): the outer product <c>x yᵀ</c> of two feature vectors projected to <c>d_c</c> dimensions as the circular
/// convolution of two Count Sketches, <c>Ψ(x, y) = IFFT(FFT(C₁ x) ⊙ FFT(C₂ y))</c>, where <c>(C x)_k = Σ_{i: h(i) = k} s(i) x_i</c> with
/// fixed random hashes <c>h</c> into <c>0..d_c−1</c> and signs <c>s ∈ {±1}</c>. In expectation over the hashes
/// <c>⟨Ψ(x, y), Ψ(x', y')⟩ = ⟨x, x'⟩ ⟨y, y'⟩</c> (the bilinear kernel). Zhang and Peng fuse each pair of teachers' features with
/// it (the representation graph's edges). <see cref="Pool"/> L2-normalises both inputs first (their scales differ between
/// teachers), then applies the signed square root and L2 normalisation of Gao et al.; <see cref="Sketch"/> is the raw Ψ.
/// The hashes and signs are buffers (they follow the module's device and are saved with it); nothing is trained.
/// </summary>
public sealed class CompactBilinearPooling : nn.Module
{
    private readonly Tensor hash1;
    private readonly Tensor sign1;
    private readonly Tensor hash2;
    private readonly Tensor sign2;

    /// <summary>Creates the pooling with hashes and signs drawn from <paramref name="seed"/> (SplitMix64; the same seed gives the same sketch).</summary>
    /// <param name="inputDimension1">The first input's dimension, &gt;= 1.</param>
    /// <param name="inputDimension2">The second input's dimension, &gt;= 1.</param>
    /// <param name="outputDimension">The sketch dimension d_c, &gt;= 1.</param>
    /// <param name="seed">The seed of the hashes and signs.</param>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is below 1.</exception>
    public CompactBilinearPooling(int inputDimension1, int inputDimension2, int outputDimension, int seed = 0)
        : this(Draw(inputDimension1, outputDimension, seed, 1), Draw(inputDimension2, outputDimension, seed, 2), outputDimension)
    {
    }

    /// <summary>Creates the pooling from explicit hashes and signs (for reproducing another implementation's sketch).</summary>
    /// <param name="first">The first input's hash (each in 0..d_c−1) and sign (each ±1) per input dimension.</param>
    /// <param name="second">The second input's hash and sign per input dimension.</param>
    /// <param name="outputDimension">The sketch dimension d_c, &gt;= 1.</param>
    /// <exception cref="ArgumentException">A hash out of range, a sign other than ±1, or hash and sign of different lengths.</exception>
    public CompactBilinearPooling((long[] Hash, float[] Sign) first, (long[] Hash, float[] Sign) second, int outputDimension)
        : base(nameof(CompactBilinearPooling))
    {
        OutputDimension = outputDimension >= 1 ? outputDimension : throw new ArgumentOutOfRangeException(nameof(outputDimension), outputDimension, "'outputDimension' must be >= 1.");
        (hash1, sign1) = Buffers(first, outputDimension, nameof(first));
        (hash2, sign2) = Buffers(second, outputDimension, nameof(second));
        InputDimension1 = (int)hash1.shape[0];
        InputDimension2 = (int)hash2.shape[0];
        RegisterComponents();
    }

    /// <summary>The first input's dimension.</summary>
    public int InputDimension1 { get; }

    /// <summary>The second input's dimension.</summary>
    public int InputDimension2 { get; }

    /// <summary>The sketch dimension d_c.</summary>
    public int OutputDimension { get; }

    /// <summary>The raw Tensor Sketch <c>Ψ(x, y)</c> [batch, d_c] of the rows of <paramref name="x"/> [batch, d₁] and <paramref name="y"/> [batch, d₂].</summary>
    /// <param name="x">The first features.</param>
    /// <param name="y">The second features.</param>
    /// <exception cref="ArgumentException">Wrong ranks or dimensions, different batch sizes, or another device than the module's.</exception>
    public Tensor Sketch(Tensor x, Tensor y)
    {
        Check(x, InputDimension1, "x");
        Check(y, InputDimension2, "y");
        Guard.BatchSize(y, x.shape[0], "y");
        var cx = CountSketch(x, hash1, sign1);
        var cy = CountSketch(y, hash2, sign2);
        return fft.irfft(fft.rfft(cx, OutputDimension, 1) * fft.rfft(cy, OutputDimension, 1), OutputDimension, 1);
    }

    /// <summary>
    /// The pooled pair as the representation graph uses it: <c>z = Ψ(x / ‖x‖, y / ‖y‖)</c>, then <c>sign(z) √(|z| + 10⁻¹²)</c>, then
    /// <c>z / max(‖z‖, 10⁻¹²)</c> [batch, d_c].
    /// </summary>
    /// <param name="x">The first features [batch, d₁].</param>
    /// <param name="y">The second features [batch, d₂].</param>
    /// <exception cref="ArgumentException">See <see cref="Sketch"/>.</exception>
    public Tensor Pool(Tensor x, Tensor y)
    {
        Check(x, InputDimension1, "x");
        Check(y, InputDimension2, "y");
        var z = Sketch(nn.functional.normalize(x, 2.0, 1), nn.functional.normalize(y, 2.0, 1));
        var root = z.sign() * (z.abs() + 1e-12).sqrt();
        return nn.functional.normalize(root, 2.0, 1, 1e-12);
    }

    private Tensor CountSketch(Tensor x, Tensor hash, Tensor sign) =>
        zeros(x.shape[0], OutputDimension, x.dtype, x.device).index_add(1, hash, x * sign.to_type(x.dtype), 1.0);

    private static (Tensor Hash, Tensor Sign) Buffers((long[] Hash, float[] Sign) pair, int outputDimension, string what)
    {
        ArgumentNullException.ThrowIfNull(pair.Hash, what);
        ArgumentNullException.ThrowIfNull(pair.Sign, what);
        if (pair.Hash.Length == 0 || pair.Hash.Length != pair.Sign.Length)
        {
            throw new ArgumentException($"The hash and sign of {what} must have the same length >= 1; got {pair.Hash.Length} and {pair.Sign.Length}.", what);
        }

        if (pair.Hash.Any(h => h < 0 || h >= outputDimension) || pair.Sign.Any(s => s != 1f && s != -1f))
        {
            throw new ArgumentException($"The hash of {what} must lie in 0..{outputDimension - 1} and its sign be +1 or -1.", what);
        }

        return (tensor(pair.Hash, ScalarType.Int64), tensor(pair.Sign));
    }

    private static (long[] Hash, float[] Sign) Draw(int inputDimension, int outputDimension, int seed, int stream)
    {
        if (inputDimension < 1)
        {
            throw new ArgumentOutOfRangeException(stream == 1 ? "inputDimension1" : "inputDimension2", inputDimension, "Input dimensions must be >= 1.");
        }

        if (outputDimension < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(outputDimension), outputDimension, "'outputDimension' must be >= 1.");
        }

        var random = SampleRandom.For(seed, stream, 0);
        var hash = new long[inputDimension];
        var sign = new float[inputDimension];
        for (var i = 0; i < inputDimension; i++)
        {
            hash[i] = random.NextInt(outputDimension);
            sign[i] = random.NextDouble() < 0.5 ? -1f : 1f;
        }

        return (hash, sign);
    }

    private void Check(Tensor t, int dimension, string what)
    {
        ArgumentNullException.ThrowIfNull(t, what);
        if (t.dim() != 2 || t.shape[1] != dimension)
        {
            throw new ArgumentException($"{what} must have shape [batch, {dimension}]; got {Guard.Shape(t)}.", what);
        }

        Guard.FloatingPoint(t, what);
        if (t.device_type != sign1.device_type || t.device_index != sign1.device_index)
        {
            throw new ArgumentException($"{what} is on {t.device} but the pooling's hashes are on {sign1.device}; move the module (the engine moves loss modules).", what);
        }
    }
}
