using BenchmarkDotNet.Attributes;
using Tether.Core.SessionPersistence;

namespace Tether.Benchmarks;

/// <summary>
/// The stick-table purge at 1,000,000 SOURCE_IP entries (issue 16 item 3): the data plane runs it every 10 s per load
/// balancer. <see cref="PurgeNothingExpired"/> is the common tick (every entry live: the walk finds nothing);
/// <see cref="PurgeAllExpired"/> removes every entry (and refills in an untimed setup). The setup prints the managed
/// memory per entry (GC.GetTotalMemory before and after filling the table).
/// </summary>
[MemoryDiagnoser]
public class StickPurgeBenchmarks
{
    private const int Entries = 1_000_000;
    private const long Ttl = 1_000_000;
    private StickTable _table = null!;

    [GlobalSetup]
    public void Setup()
    {
        var before = GC.GetTotalMemory(forceFullCollection: true);
        _table = Fill();
        var after = GC.GetTotalMemory(forceFullCollection: true);
        Console.WriteLine($"// stick table: {Entries:N0} entries, {(after - before) / (double)Entries:F1} managed bytes per entry");
    }

    [IterationSetup(Target = nameof(PurgeAllExpired))]
    public void Refill() => _table = Fill();

    [Benchmark]
    public int PurgeNothingExpired() => _table.Purge(Ttl / 2);

    [Benchmark]
    public int PurgeAllExpired() => _table.Purge(Ttl * 4);

    private static StickTable Fill()
    {
        var table = new StickTable(Ttl);
        // SOURCE_IP keys as the runtime makes them: an address in 128 bits (IPv4-mapped here).
        for (var i = 0; i < Entries; i++)
        {
            table.Set(((UInt128)0xFFFF << 32) | (uint)(0x0A000000 + i), i % 25, 1);
        }

        return table;
    }
}
