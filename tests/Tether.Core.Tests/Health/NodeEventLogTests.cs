using Tether.Core.Health;
using Tether.Core.Model;
using static Tether.Core.Tests.TestConfigs;

namespace Tether.Core.Tests.Health;

public sealed class NodeEventLogTests
{
    [Fact]
    public void Snapshot_Empty_IsEmpty()
    {
        Assert.Empty(new NodeEventLog().Snapshot());
    }

    [Fact]
    public void Add_BelowCapacity_KeepsEveryEventOldestFirstWithIncreasingIds()
    {
        var log = new NodeEventLog(4);

        var a = log.Add(1, NodeStatus.Offline, "Connection refused", Start);
        var b = log.Add(1, NodeStatus.Online, "Node is working", Start.AddSeconds(3));

        Assert.Equal([a, b], log.Snapshot());
        Assert.True(b.Id > a.Id);
    }

    [Fact]
    public void Add_BeyondCapacity_KeepsTheLastOnes()
    {
        var log = new NodeEventLog(3);

        for (var i = 1; i <= 7; i++)
        {
            log.Add(i, NodeStatus.Offline, "x", Start.AddSeconds(i));
        }

        Assert.Equal([5, 6, 7], log.Snapshot().Select(e => e.NodeId));
    }

    [Fact]
    public void Constructor_DefaultCapacity_Is1000()
    {
        Assert.Equal(1000, new NodeEventLog().Capacity);
    }
}
