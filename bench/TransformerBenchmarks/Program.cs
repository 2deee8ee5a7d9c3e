using System.Diagnostics;
using System.Globalization;
using KnowledgeDistillation.Transformers;
using TorchSharp;
using static TorchSharp.torch;

// One training step (forward, cross-entropy, backward, AdamW step) of the SST-2 sample's BERT-style models, timed the
// same way as bench/pytorch_bert_step.py: warm-up steps, then the median of timed steps, in milliseconds.
// Usage: TransformerBenchmarks <layers> <hidden> <heads> <intermediate> <batch> <tokens> <steps> <threads> [--breakdown]
// (--breakdown also prints the median forward, backward and optimiser-step times.) Like Distiller.Fit, it first lets MKL use
// its AVX2/AVX-512 kernels on non-Intel CPUs (MklCpuDispatch); KD_MKL_CPU_DISPATCH=0 measures MKL's own choice instead.
// TransformerBenchmarks gemm [threads]: median of 15 float32 products [609 x 200] x [200 x 9742] (the recommender
// evaluation's shape), for docs/benchmarks.md's MKL section; run once as is and once with KD_MKL_CPU_DISPATCH=0.
if (args.Length > 0 && args[0] == "gemm")
{
    torch.set_num_threads(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1);
    var dispatch = KnowledgeDistillation.Runtime.MklCpuDispatch.Apply();
    random.manual_seed(0);
    using var left = randn(609, 200);
    using var right = randn(9742, 200);
    var gemm = new List<double>();
    for (var i = 0; i < 20; i++)
    {
        var clock = Stopwatch.StartNew();
        using (var product = left.matmul(right.t()))
        {
            if (i >= 5)
            {
                gemm.Add(clock.Elapsed.TotalMilliseconds);
            }
        }
    }
    gemm.Sort();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"gemm median_ms={gemm[gemm.Count / 2]:F2} mkl={dispatch.Outcome} type={dispatch.SelectedKernels}"));
    return;
}

var a = args.Take(8).Select(x => int.Parse(x, CultureInfo.InvariantCulture)).ToArray();
var (layers, hidden, heads, ffn, batch, tokens, steps, threads) = (a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]);
torch.set_num_threads(threads);
Console.Error.WriteLine($"MKL kernels: {KnowledgeDistillation.Runtime.MklCpuDispatch.Apply().Detail}");
random.manual_seed(0);
var config = new BertConfig
{
    VocabSize = 12000, HiddenSize = hidden, NumHiddenLayers = layers, NumAttentionHeads = heads, IntermediateSize = ffn,
    MaxPositionEmbeddings = 64, NumLabels = 2,
};
using var model = new BertForSequenceClassification(config);
model.train();
using var optimizer = new KnowledgeDistillation.Engine.Optimizers.AdamW(model.parameters(), 1e-3); // the AdamW Distiller.Fit uses (TorchSharp's, temporaries freed per parameter)
var ids = randint(5, config.VocabSize, new long[] { batch, tokens }, ScalarType.Int64);
ids[TensorIndex.Colon, 0] = 2;
ids[TensorIndex.Slice(0, batch / 2), TensorIndex.Slice(tokens * 3 / 4, null)] = 0; // half the rows padded by a quarter
var labels = randint(0, 2, new long[] { batch }, ScalarType.Int64);
var breakdown = args.Skip(8).Contains("--breakdown");
var times = new List<double>();
var (fwd, bwd, opt) = (new List<double>(), new List<double>(), new List<double>());
for (var i = 0; i < steps + 5; i++)
{
    var watch = Stopwatch.StartNew();
    using (var scope = NewDisposeScope())
    {
        optimizer.zero_grad();
        var loss = nn.functional.cross_entropy(model.call(ids).Logits!, labels);
        var forwardMs = watch.Elapsed.TotalMilliseconds;
        loss.backward();
        var backwardMs = watch.Elapsed.TotalMilliseconds;
        optimizer.step();
        if (i >= 5)
        {
            fwd.Add(forwardMs);
            bwd.Add(backwardMs - forwardMs);
            opt.Add(watch.Elapsed.TotalMilliseconds - backwardMs);
        }
    }

    if (i >= 5)
    {
        times.Add(watch.Elapsed.TotalMilliseconds);
    }
}

times.Sort();
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"torchsharp layers={layers} median_ms={times[times.Count / 2]:F2} live_tensors={Tensor.TotalCount}"));
if (breakdown)
{
    double Median(List<double> x) => x.Order().ElementAt(x.Count / 2);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"torchsharp layers={layers} forward_ms={Median(fwd):F2} backward_ms={Median(bwd):F2} step_ms={Median(opt):F2}"));
}
