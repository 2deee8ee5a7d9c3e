using TorchSharp;

namespace KnowledgeDistillation;

/// <summary>
/// The one place to seed a run. Models draw their initial weights from TorchSharp's generator when they are constructed,
/// which is before <see cref="Engine.Distiller.Fit"/> and its <see cref="Engine.DistillerOptions.Seed"/>; so seed first:
/// <code>
/// Reproducibility.Seed(42);                        // 1. before any model, dataset split or random tensor is created
/// using var teacherNet = SmallCnn.Teacher();       // 2. initial weights now depend only on the seed
/// using var studentNet = SmallCnn.Student();
/// var train = new DataLoader(data.Train, 128, seed: 42);    // 3. the shuffle order has its own seed
/// new Distiller(..., new DistillerOptions { Seed = 42 }).Fit(train, test);   // 4. dropout etc. from the same state every Fit
/// </code>
/// Two runs that follow this order, with the same configuration, thread count and device, give identical histories on
/// the CPU (tested bit for bit). On CUDA some kernels (atomics in backward passes, cuDNN algorithm choice) are not
/// deterministic, and TorchSharp 0.107 does not implement <c>torch.use_deterministic_algorithms</c>, so CUDA runs from
/// one seed start identically but may drift apart in the last bits.
/// </summary>
public static class Reproducibility
{
    /// <summary>Seeds TorchSharp's CPU generator and, when CUDA is available, every CUDA device's generator.</summary>
    /// <param name="seed">The seed.</param>
    public static void Seed(int seed)
    {
        torch.random.manual_seed(seed);
        if (torch.cuda.is_available())
        {
            torch.cuda.manual_seed_all(seed);
        }
    }
}
