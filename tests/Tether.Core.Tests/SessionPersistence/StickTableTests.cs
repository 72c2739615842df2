using Tether.Core.SessionPersistence;

namespace Tether.Core.Tests.SessionPersistence;

public sealed class StickTableTests
{
    private const long Ttl = 100;
    private static readonly UInt128 KeyA = new(0, 0xffff_0a00_0001UL);
    private static readonly UInt128 KeyB = new(0, 0xffff_0a00_0002UL);
    private static readonly UInt128 KeyC = new(0, 0xffff_0a00_0003UL);

    [Fact]
    public void TryGet_EmptyTable_Misses()
    {
        var table = new StickTable(Ttl);

        Assert.False(table.TryGet(KeyA, 0, out var nodeId));
        Assert.Equal(0, nodeId);
        Assert.Equal(0, table.Count);
    }

    [Fact]
    public void TryGet_AfterSet_ReturnsNode()
    {
        var table = new StickTable(Ttl);
        table.Set(KeyA, 5, 1_000);

        Assert.True(table.TryGet(KeyA, 1_000, out var nodeId));
        Assert.Equal(5, nodeId);
        Assert.False(table.TryGet(KeyB, 1_000, out _));
    }

    [Fact]
    public void TryGet_Hit_RefreshesLastUse()
    {
        var table = new StickTable(Ttl);
        table.Set(KeyA, 5, 1_000);

        Assert.True(table.TryGet(KeyA, 1_080, out _));
        Assert.Equal(1_080, Assert.Single(table.Snapshot(1_080)).LastUse);

        // 150 ticks after Set, but only 70 after the refreshing hit: still live.
        Assert.True(table.TryGet(KeyA, 1_150, out var nodeId));
        Assert.Equal(5, nodeId);
    }

    [Fact]
    public void TryGet_IdleExactlyTtl_Hits()
    {
        var table = new StickTable(Ttl);
        table.Set(KeyA, 5, 1_000);

        Assert.True(table.TryGet(KeyA, 1_000 + Ttl, out _));
    }

    [Fact]
    public void TryGet_IdleLongerThanTtl_MissesAndDoesNotRefresh()
    {
        var table = new StickTable(Ttl);
        table.Set(KeyA, 5, 1_000);

        Assert.False(table.TryGet(KeyA, 1_000 + Ttl + 1, out var nodeId));
        Assert.Equal(0, nodeId);
        Assert.Equal(1, table.Count); // not yet purged
        Assert.Empty(table.Snapshot(1_000 + Ttl + 1));
        table.Ttl = long.MaxValue / 2;
        Assert.Equal(1_000, Assert.Single(table.Snapshot(1_000 + Ttl + 1)).LastUse);
    }

    [Fact]
    public void Set_ExistingKeyOtherNode_ReplacesWithoutGrowing()
    {
        var table = new StickTable(Ttl);
        table.Set(KeyA, 5, 1_000);
        table.Set(KeyA, 6, 1_010);

        Assert.True(table.TryGet(KeyA, 1_010, out var nodeId));
        Assert.Equal(6, nodeId);
        Assert.Equal(1, table.Count);
    }

    [Fact]
    public void Set_ExistingKeySameNode_RefreshesLastUse()
    {
        var table = new StickTable(Ttl);
        table.Set(KeyA, 5, 1_000);
        table.Set(KeyA, 5, 1_090);

        Assert.True(table.TryGet(KeyA, 1_180, out _));
        Assert.Equal(1, table.Count);
    }

    [Fact]
    public void Set_BeyondCapacity_IgnoresNewKeysButUpdatesExisting()
    {
        var table = new StickTable(Ttl, capacity: 2);
        table.Set(KeyA, 1, 0);
        table.Set(KeyB, 2, 0);

        table.Set(KeyC, 3, 0);
        table.Set(KeyA, 9, 5);

        Assert.Equal(2, table.Capacity);
        Assert.Equal(2, table.Count);
        Assert.False(table.TryGet(KeyC, 5, out _));
        Assert.True(table.TryGet(KeyA, 5, out var nodeA));
        Assert.Equal(9, nodeA);
    }

    [Fact]
    public void Set_AfterRemoveFreesCapacity_StoresNewKey()
    {
        var table = new StickTable(Ttl, capacity: 2);
        table.Set(KeyA, 1, 0);
        table.Set(KeyB, 2, 0);
        Assert.True(table.Remove(KeyA));

        table.Set(KeyC, 3, 0);

        Assert.True(table.TryGet(KeyC, 0, out var nodeId));
        Assert.Equal(3, nodeId);
        Assert.Equal(2, table.Count);
    }

    [Fact]
    public void Set_ManyKeysOverCapacity_CountNeverExceedsCapacity()
    {
        var table = new StickTable(Ttl, capacity: 100);
        for (var i = 0; i < 1_000; i++)
        {
            table.Set(new UInt128(1, (ulong)i), i % 4, i);
        }

        Assert.Equal(100, table.Count);
        table.Ttl = long.MaxValue / 2;
        Assert.Equal(100, table.Snapshot(1_000).Count());
    }

    [Fact]
    public void Remove_ExistingAndMissing_ReportsAndCounts()
    {
        var table = new StickTable(Ttl);
        table.Set(KeyA, 1, 0);
        table.Set(KeyB, 2, 0);

        Assert.True(table.Remove(KeyA));
        Assert.False(table.Remove(KeyA));
        Assert.False(table.Remove(KeyC));
        Assert.Equal(1, table.Count);
        Assert.False(table.TryGet(KeyA, 0, out _));
    }

    [Fact]
    public void RemoveNode_RemovesOnlyThatNodesEntries()
    {
        var table = new StickTable(Ttl);
        for (var i = 0; i < 30; i++)
        {
            table.Set(new UInt128(2, (ulong)i), i % 3, 0);
        }

        Assert.Equal(10, table.RemoveNode(1));
        Assert.Equal(0, table.RemoveNode(1));
        Assert.Equal(0, table.RemoveNode(99));

        Assert.Equal(20, table.Count);
        Assert.DoesNotContain(table.Snapshot(0), e => e.NodeId == 1);
        Assert.Equal(10, table.Snapshot(0).Count(e => e.NodeId == 0));
        Assert.Equal(10, table.Snapshot(0).Count(e => e.NodeId == 2));
    }

    [Fact]
    public void Purge_RemovesOnlyIdleEntriesAndReturnsCount()
    {
        var table = new StickTable(Ttl);
        for (var i = 0; i < 10; i++)
        {
            table.Set(new UInt128(3, (ulong)i), 1, i < 4 ? 0 : 500);
        }

        Assert.Equal(0, table.Purge(100));
        Assert.Equal(4, table.Purge(101));
        Assert.Equal(6, table.Count);
        Assert.Equal(0, table.Purge(600));
        Assert.Equal(6, table.Purge(601));
        Assert.Equal(0, table.Count);
    }

    [Fact]
    public void Purge_RefreshedEntry_Survives()
    {
        var table = new StickTable(Ttl);
        table.Set(KeyA, 1, 0);
        table.Set(KeyB, 2, 0);
        Assert.True(table.TryGet(KeyA, 90, out _));

        Assert.Equal(1, table.Purge(150));

        Assert.Equal(1, table.Count);
        Assert.True(table.TryGet(KeyA, 150, out _));
        Assert.False(table.TryGet(KeyB, 150, out _));
    }

    [Fact]
    public void Count_AfterMixedOperations_MatchesLiveEntries()
    {
        var table = new StickTable(Ttl, capacity: 50);
        for (var i = 0; i < 60; i++)
        {
            table.Set(new UInt128(4, (ulong)i), i % 5, i < 30 ? 0 : 1_000);
        }

        Assert.Equal(50, table.Count);
        var removedNode = table.RemoveNode(0);
        Assert.True(table.Remove(new UInt128(4, 1)));
        var purged = table.Purge(1_000);

        Assert.Equal(10, removedNode);
        Assert.Equal(23, purged); // ids 0..29 minus node 0 (6 of them) minus id 1
        Assert.Equal(50 - 10 - 1 - 23, table.Count);
        table.Ttl = long.MaxValue / 2;
        Assert.Equal(table.Count, table.Snapshot(1_000).Count());
    }

    [Fact]
    public void TryPeek_EmptyTable_MissesWithNodeZero()
    {
        var table = new StickTable(Ttl);

        Assert.False(table.TryPeek(KeyA, 0, out var nodeId));
        Assert.Equal(0, nodeId);
    }

    [Fact]
    public void TryPeek_LiveEntry_ReturnsNode()
    {
        var table = new StickTable(Ttl);
        table.Set(KeyA, 5, 1_000);

        Assert.True(table.TryPeek(KeyA, 1_000, out var nodeId));
        Assert.Equal(5, nodeId);
        Assert.True(table.TryPeek(KeyA, 1_000 + Ttl, out _)); // idle exactly the TTL: live
        Assert.False(table.TryPeek(KeyB, 1_000, out _));
    }

    [Fact]
    public void TryPeek_DoesNotRefreshLastUse()
    {
        var table = new StickTable(Ttl);
        table.Set(KeyA, 5, 1_000);

        Assert.True(table.TryPeek(KeyA, 1_000 + Ttl - 1, out var peeked));
        Assert.Equal(5, peeked);
        Assert.Equal(1_000, Assert.Single(table.Snapshot(1_000 + Ttl - 1)).LastUse);

        Assert.False(table.TryPeek(KeyA, 1_000 + Ttl + 1, out var nodeId));
        Assert.Equal(0, nodeId);
        Assert.False(table.TryGet(KeyA, 1_000 + Ttl + 1, out _));
        Assert.Equal(1, table.Count); // expired but not yet purged
    }

    [Fact]
    public void TryPeek_AfterRefreshingTryGet_SeesTheRefresh()
    {
        var table = new StickTable(Ttl);
        table.Set(KeyA, 5, 1_000);
        Assert.True(table.TryGet(KeyA, 1_000 + Ttl - 1, out _));

        Assert.True(table.TryPeek(KeyA, 1_000 + Ttl + 1, out var nodeId));
        Assert.Equal(5, nodeId);
    }
}
