using Tether.Core.LoadBalancing;
using Tether.Core.Model;
using static Tether.Core.Tests.TestConfigs;

namespace Tether.Core.Tests.LoadBalancing;

public sealed class WeightedRoundRobinAlgorithmTests : AlgorithmContractTests
{
    private protected override ILoadBalancingAlgorithm Algorithm { get; } = new WeightedRoundRobinAlgorithm();

    [Fact]
    public void Name_IsWeightedRoundRobin()
    {
        Assert.Equal("WEIGHTED_ROUND_ROBIN", Algorithm.Name);
    }

    /// <summary>nginx documents smooth weighted balancing with weights { 5, 1, 1 } as the sequence
    /// { a, a, b, a, c, a, a } (ngx_http_upstream_round_robin.c, smooth weighted round robin).</summary>
    [Fact]
    public void Pick_Weights511_FollowsNginxSmoothSequence()
    {
        const int a = 1, b = 2, c = 3;
        var pool = Pool(States(Node(a, weight: 5), Node(b, weight: 1), Node(c, weight: 1)));

        Assert.Equal([0, 0, 1, 0, 2, 0, 0], pool.WeightedSchedule);
        Assert.Equal([a, a, b, a, c, a, a, a, a, b, a, c, a, a], PickIds(pool, 14));
    }

    [Fact]
    public void Pick_Weights511Over7000Picks_SharesExactlyProportional()
    {
        var pool = Pool(States(Node(1, weight: 5), Node(2, weight: 1), Node(3, weight: 1)));

        var histogram = Histogram(PickIds(pool, 7_000));

        Assert.Equal(5_000, histogram[1]);
        Assert.Equal(1_000, histogram[2]);
        Assert.Equal(1_000, histogram[3]);
    }

    [Fact]
    public void WeightedSchedule_CommonDivisor_IsReducedPeriod()
    {
        var reduced = Pool(States(Node(1, weight: 10), Node(2, weight: 20)));
        var small = Pool(States(Node(1, weight: 1), Node(2, weight: 2)));

        Assert.Equal(3, reduced.WeightedSchedule.Length);
        Assert.Equal([1, 0, 1], reduced.WeightedSchedule);
        Assert.Equal(small.WeightedSchedule, reduced.WeightedSchedule);
    }

    [Fact]
    public void Pick_Weights10And20_AlternatesOneToTwo()
    {
        var pool = Pool(States(Node(1, weight: 10), Node(2, weight: 20)));

        Assert.Equal([2, 1, 2, 2, 1, 2], PickIds(pool, 6));
    }

    [Fact]
    public void WeightedSchedule_EqualWeights_IsPlainRotation()
    {
        var pool = Pool(States(Node(1, weight: 4), Node(2, weight: 4), Node(3, weight: 4)));

        Assert.Equal([0, 1, 2], pool.WeightedSchedule);
    }

    [Fact]
    public void WeightedSchedule_WeightBelowOne_CountsAsOne()
    {
        var pool = Pool(States(Node(1, weight: 0), Node(2, weight: 1)));

        Assert.Equal(2, pool.WeightedSchedule.Length);
    }

    [Fact]
    public void WeightedSchedule_MaximumWeights_LengthIsSumOverGcd()
    {
        var pool = Pool(States(Node(1, weight: 100), Node(2, weight: 99), Node(3, weight: 1)));

        Assert.Equal(200, pool.WeightedSchedule.Length);
        Assert.Equal(100, pool.WeightedSchedule.Count(i => i == 0));
        Assert.Equal(99, pool.WeightedSchedule.Count(i => i == 1));
        Assert.Equal(1, pool.WeightedSchedule.Count(i => i == 2));
    }

    /// <summary>
    /// nginx skips an unavailable peer and goes on with the smooth schedule over the others, so two weight-1 nodes
    /// share evenly while the weight-5 node is out. Tether once handed the out node's slots to the node after it in
    /// the precomputed schedule (node 2 got 5 of every 7 picks); it now skips them, consuming their turns.
    /// </summary>
    [Fact]
    public void Pick_HeavyNodeUnavailable_RemainingNodesShareByWeight()
    {
        var pool = Pool(States(Node(1, weight: 5, condition: NodeCondition.Disabled), Node(2, weight: 1), Node(3, weight: 1)));

        var histogram = Histogram(PickIds(pool, 700));

        Assert.Equal(350, histogram[2]);
        Assert.Equal(350, histogram[3]);
    }

    [Fact]
    public void Pick_OneNodeUnavailable_OthersKeepTheirWeightRatio()
    {
        var pool = Pool(States(Node(1, weight: 5, condition: NodeCondition.Draining), Node(2, weight: 2), Node(3, weight: 1)));

        var histogram = Histogram(PickIds(pool, 300));

        Assert.False(histogram.ContainsKey(1));
        Assert.Equal(200, histogram[2]);
        Assert.Equal(100, histogram[3]);
    }
}
