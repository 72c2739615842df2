using System.Globalization;
using Tether.Core.SessionPersistence;
using Xunit.Abstractions;
using static Tether.Core.Tests.TestConfigs;

namespace Tether.Core.Tests.SessionPersistence;

public sealed class MaglevTableTests(ITestOutputHelper output)
{
    private const int Size = MaglevTable.DefaultSize;

    [Fact]
    public void Build_EmptyList_ReturnsNull()
    {
        Assert.Null(MaglevTable.Build([]));
    }

    [Fact]
    public void Build_SizeNotLargerThanNodeCount_Throws()
    {
        var nodes = States(Node(1), Node(2), Node(3));

        Assert.Throws<ArgumentOutOfRangeException>(() => MaglevTable.Build(nodes, 3));
    }

    [Fact]
    public void Build_DefaultSize_Is65537EntriesAllFilled()
    {
        var table = MaglevTable.Build(States(Node(1), Node(2), Node(3)))!;

        Assert.Equal(65537, table.Size);
        Assert.Equal(65537, table.CountEntries().Values.Sum());
    }

    [Fact]
    public void Build_SingleNode_EveryLookupReturnsIt()
    {
        var node = State(Node(9));
        var table = MaglevTable.Build([node])!;

        Assert.Equal(Size, table.CountEntries()[9]);
        for (ulong h = 0; h < 1000; h++)
        {
            Assert.Same(node, table.Lookup(h * 0x9E3779B97F4A7C15UL));
        }
    }

    [Fact]
    public void Build_SmallPrimeSize_FillsEveryEntry()
    {
        var table = MaglevTable.Build(States(Node(1), Node(2), Node(3)), 7)!;

        Assert.Equal(7, table.Size);
        var counts = table.CountEntries();
        Assert.Equal(7, counts.Values.Sum());
        Assert.Equal(3, counts.Count);
    }

    [Fact]
    public void Build_ThreeEqualNodes_EachShareWithinOnePercentOfOneThird()
    {
        var table = MaglevTable.Build(States(Node(1), Node(2), Node(3)))!;

        var shares = Shares(table);
        Print("weights 1,1,1", shares, id => 1.0 / 3);

        Assert.Equal(3, shares.Count);
        foreach (var share in shares.Values)
        {
            Assert.InRange(share, (1.0 / 3) - 0.01, (1.0 / 3) + 0.01);
        }
    }

    [Fact]
    public void Build_Weights1234_EachShareWithinOnePercentOfWeightOverTen()
    {
        // Node id == weight.
        var table = MaglevTable.Build(States(Node(1, weight: 1), Node(2, weight: 2), Node(3, weight: 3), Node(4, weight: 4)))!;

        var shares = Shares(table);
        Print("weights 1,2,3,4", shares, id => id / 10.0);

        Assert.Equal(4, shares.Count);
        foreach (var (id, share) in shares)
        {
            Assert.InRange(share, (id / 10.0) - 0.01, (id / 10.0) + 0.01);
        }
    }

    [Fact]
    public void Build_RemoveOneOfFiveEqualNodes_MovesAboutOneFifthAndFewKeysBetweenSurvivors()
    {
        var all = States(Node(1), Node(2), Node(3), Node(4), Node(5));
        var before = MaglevTable.Build(all)!;
        var survivors = all.Where(n => n.Id != 3).ToArray();
        var after = MaglevTable.Build(survivors)!;

        // Every table entry.
        int changed = 0, betweenSurvivors = 0;
        for (ulong e = 0; e < Size; e++)
        {
            var (old, now) = (before.Lookup(e).Id, after.Lookup(e).Id);
            if (old != now)
            {
                changed++;
                if (old != 3)
                {
                    betweenSurvivors++;
                }
            }
        }

        // 100,000 random client keys.
        var random = new Random(2016);
        int keysChanged = 0, keysBetweenSurvivors = 0;
        const int Keys = 100_000;
        for (var i = 0; i < Keys; i++)
        {
            var hash = StableHash.Of(new UInt128((ulong)random.NextInt64(), (ulong)random.NextInt64()));
            var (old, now) = (before.Lookup(hash).Id, after.Lookup(hash).Id);
            if (old != now)
            {
                keysChanged++;
                if (old != 3)
                {
                    keysBetweenSurvivors++;
                }
            }
        }

        var entryFraction = changed / (double)Size;
        var entrySurvivorFraction = betweenSurvivors / (double)Size;
        var keyFraction = keysChanged / (double)Keys;
        var keySurvivorFraction = keysBetweenSurvivors / (double)Keys;
        output.WriteLine(Invariant($"N=5, remove node 3: entries changed {changed}/{Size} = {entryFraction:P3}; between survivors {betweenSurvivors} = {entrySurvivorFraction:P3}"));
        output.WriteLine(Invariant($"N=5, remove node 3: keys changed {keysChanged}/{Keys} = {keyFraction:P3}; between survivors {keysBetweenSurvivors} = {keySurvivorFraction:P3}"));

        Assert.InRange(entryFraction, 0.20 - 0.02, 0.20 + 0.02);
        Assert.InRange(keyFraction, 0.20 - 0.02, 0.20 + 0.02);
        Assert.True(entrySurvivorFraction < 0.02, $"entries moved between survivors: {entrySurvivorFraction:P3}");
        Assert.True(keySurvivorFraction < 0.02, $"keys moved between survivors: {keySurvivorFraction:P3}");

        // Every entry of the removed node now belongs to a survivor, and survivors' shares are about 1/4.
        Assert.False(after.CountEntries().ContainsKey(3));
        foreach (var share in Shares(after).Values)
        {
            Assert.InRange(share, 0.25 - 0.01, 0.25 + 0.01);
        }
    }

    [Fact]
    public void Build_AddSixthNode_MovesOnlyAboutOneSixthToTheNewNode()
    {
        var five = States(Node(1), Node(2), Node(3), Node(4), Node(5));
        var six = five.Append(State(Node(6))).ToArray();
        var before = MaglevTable.Build(five)!;
        var after = MaglevTable.Build(six)!;

        int changed = 0, toNew = 0;
        for (ulong e = 0; e < Size; e++)
        {
            var (old, now) = (before.Lookup(e).Id, after.Lookup(e).Id);
            if (old != now)
            {
                changed++;
                if (now == 6)
                {
                    toNew++;
                }
            }
        }

        output.WriteLine(Invariant($"N=5 -> 6: entries changed {changed / (double)Size:P3}, of which to the new node {toNew / (double)Size:P3}"));
        Assert.InRange(toNew / (double)Size, (1.0 / 6) - 0.01, (1.0 / 6) + 0.01);
        Assert.True((changed - toNew) / (double)Size < 0.02);
    }

    [Fact]
    public void Build_TwiceOverSameNodes_GivesIdenticalLookups()
    {
        var first = MaglevTable.Build(States(Node(1, weight: 2), Node(2), Node(3, weight: 5)))!;
        var second = MaglevTable.Build(States(Node(1, weight: 2), Node(2), Node(3, weight: 5)))!;

        for (ulong e = 0; e < Size; e++)
        {
            Assert.Equal(first.Lookup(e).Id, second.Lookup(e).Id);
        }
    }

    [Fact]
    public void Lookup_WellKnownKeys_AreStableAcrossProcesses()
    {
        // Golden values: the table depends only on StableHash of "address:port", never on per-process randomness.
        var table = MaglevTable.Build(States(Node(1), Node(2), Node(3)))!;
        var lookups = Enumerable.Range(0, 12)
            .Select(i => table.Lookup(StableHash.Of(ClientKey(i))).Id)
            .ToArray();

        output.WriteLine(string.Join(",", lookups));
        Assert.Equal(GoldenLookups, lookups);
    }

    [Fact]
    public void Lookup_HashBeyondSize_WrapsModuloSize()
    {
        var table = MaglevTable.Build(States(Node(1), Node(2), Node(3)))!;

        for (ulong e = 0; e < 100; e++)
        {
            Assert.Same(table.Lookup(e), table.Lookup(e + Size));
            Assert.Same(table.Lookup(e), table.Lookup(e + (Size * 1000UL)));
        }
    }

    [Fact]
    public void Build_WeightedNodesOnly_HeavierNodeNeverStarved()
    {
        var table = MaglevTable.Build(States(Node(1, weight: 100), Node(2, weight: 1)))!;

        var counts = table.CountEntries();
        Assert.InRange(counts[2] / (double)Size, (1.0 / 101) - 0.01, (1.0 / 101) + 0.01);
        Assert.InRange(counts[1] / (double)Size, (100.0 / 101) - 0.01, (100.0 / 101) + 0.01);
    }

    private static readonly int[] GoldenLookups = [3, 1, 2, 3, 1, 2, 3, 1, 1, 3, 2, 3];

    private static Dictionary<int, double> Shares(MaglevTable table) =>
        table.CountEntries().ToDictionary(p => p.Key, p => p.Value / (double)table.Size);

    private void Print(string label, Dictionary<int, double> shares, Func<int, double> expected)
    {
        foreach (var (id, share) in shares.OrderBy(p => p.Key))
        {
            var entries = (int)Math.Round(share * Size);
            output.WriteLine(Invariant($"{label}: node {id} holds {entries}/{Size} entries = {share * 100:F4}% (ideal {expected(id) * 100:F4}%, off by {Math.Abs(share - expected(id)) * 100:F4} points)"));
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
