using System.Runtime.InteropServices;

namespace KnowledgeDistillation.Fuzz;

/// <summary>
/// Not a reader: a target that produces every outcome on purpose (by the input's first byte modulo 6: accept, refuse,
/// abort the process, hang, throw an undocumented exception, use 1.5 GiB of native memory), so <c>selftest</c> can
/// show that the driver classifies, saves and survives each of them. Not part of <see cref="FuzzTargets.All"/>.
/// </summary>
internal sealed class SelfTestTarget : FuzzTarget
{
    /// <inheritdoc />
    public override string Name => "selftest";

    /// <inheritdoc />
    public override string Api => "(driver self-test: every outcome on purpose)";

    /// <inheritdoc />
    public override bool SeedsMustBeAccepted => false;

    /// <inheritdoc />
    public override IReadOnlyList<(string Name, byte[] Data)> CreateSeeds(string scratch) =>
        Enumerable.Range(0, 6).Select(i => ($"selftest-{i}.bin", new[] { (byte)i, (byte)0 })).ToArray();

    /// <inheritdoc />
    public override void Execute(byte[] input, string scratch)
    {
        switch (input.Length == 0 ? 0 : input[0] % 6)
        {
            case 1:
                throw new InvalidDataException("refused on purpose");
            case 2:
                Environment.FailFast("abort on purpose");
                break;
            case 3:
                Thread.Sleep(Timeout.Infinite);
                break;
            case 4:
                throw new NotSupportedException("an undocumented exception on purpose");
            case 5:
                var size = (nint)(1536L << 20);
                var memory = Marshal.AllocHGlobal(size);
                unsafe
                {
                    new Span<byte>((void*)memory, (int)size).Fill(1);
                }

                Marshal.FreeHGlobal(memory);
                break;
        }
    }

    /// <summary>Runs the driver on this target and checks that every outcome was seen.</summary>
    /// <returns>0 when every outcome was classified, else 1.</returns>
    public static int Check(string findings)
    {
        var options = new DriverOptions
        {
            Targets = new FuzzTarget[] { new SelfTestTarget() },
            Inputs = 24,
            Timeout = TimeSpan.FromSeconds(3),
            MaxResidentBytes = 1024L << 20,
            FindingsDirectory = findings,
        };
        var report = new Driver(options, Console.Out).Run()[0];
        var missing = Enum.GetValues<Outcome>().Where(o => report.Counts[o] == 0).ToArray();
        Console.WriteLine(string.Join(", ", report.Counts.Select(p => $"{p.Key} {p.Value}")));
        if (missing.Length > 0)
        {
            Console.WriteLine($"self-test FAILED: never saw {string.Join(", ", missing)}");
            return 1;
        }

        Console.WriteLine("self-test passed: every outcome was classified and the driver survived each");
        return 0;
    }
}
