using Tether.Core.LoadBalancing;
using Tether.Core.Model;
using static Tether.Core.Tests.TestConfigs;

namespace Tether.Core.Tests.LoadBalancing;

public sealed class RoundRobinAlgorithmTests : AlgorithmContractTests
{
    private protected override ILoadBalancingAlgorithm Algorithm { get; } = new RoundRobinAlgorithm();

    [Fact]
    public void Name_IsRoundRobin()
    {
        Assert.Equal("ROUND_ROBIN", Algorithm.Name);
    }

    [Fact]
    public void Pick_ThreeNodes_RotatesInConfigurationOrder()
    {
        var pool = Pool(States(Node(1), Node(2), Node(3)));

        Assert.Equal([1, 2, 3, 1, 2, 3, 1, 2, 3], PickIds(pool, 9));
    }

    [Fact]
    public void Pick_IgnoresWeights()
    {
        var pool = Pool(States(Node(1, weight: 50), Node(2, weight: 1)));

        Assert.Equal([1, 2, 1, 2, 1, 2], PickIds(pool, 6));
    }

    [Fact]
    public void Pick_NodeBecomesAvailableAgain_RejoinsRotation()
    {
        var nodes = States(Node(1), Node(2), Node(3));
        var pool = Pool(nodes);
        nodes[1].Counters.MarkUnavailable(Now + 5);

        var during = PickIds(pool, 30, Now);
        var after = PickIds(pool, 30, Now + 5);

        Assert.DoesNotContain(2, during);
        Assert.Equal(10, after.Count(id => id == 2));
    }

    /// <summary>
    /// "Each available node in turn": with the middle node out, the two others must alternate. Today the rotation
    /// advances over every node and an unavailable node's turn falls to its successor, so node 3 gets 2/3 of the
    /// traffic (sequence 1, 3, 3, 1, 3, 3). Fails until RoundRobinAlgorithm rotates over the available nodes only.
    /// </summary>
    [Fact]
    public void Pick_MiddleNodeUnavailable_RemainingNodesAlternateEvenly()
    {
        var pool = Pool(States(Node(1), Node(2, condition: NodeCondition.Disabled), Node(3)));

        var picked = PickIds(pool, 600);

        var histogram = Histogram(picked);
        Assert.Equal(300, histogram[1]);
        Assert.Equal(300, histogram[3]);
    }
}
