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
    /// nginx skips an unavailable peer and recomputes the smooth schedule over the others, so two weight-1 nodes
    /// share evenly while the weight-5 node is out. Tether hands the out node's slots to the next available node
    /// of the precomputed schedule (documented in the class remarks), so node 2 gets 5 of every 7 picks.
    /// </summary>
    [Fact(Skip = "Design question, not a proven bug: WeightedRoundRobinAlgorithm gives an unavailable node's slots to the next scheduled node (documented), which skews the others' shares 5:2 here; nginx would give 1:1. See report.")]
    public void Pick_HeavyNodeUnavailable_RemainingNodesShareByWeight()
    {
        var pool = Pool(States(Node(1, weight: 5, condition: NodeCondition.Disabled), Node(2, weight: 1), Node(3, weight: 1)));

        var histogram = Histogram(PickIds(pool, 700));

        Assert.Equal(350, histogram[2]);
        Assert.Equal(350, histogram[3]);
    }
}
