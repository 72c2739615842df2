using Tether.Core.LoadBalancing;
using static Tether.Core.Tests.TestConfigs;

namespace Tether.Core.Tests.LoadBalancing;

public sealed class WeightedLeastConnectionsAlgorithmTests : AlgorithmContractTests
{
    private protected override ILoadBalancingAlgorithm Algorithm { get; } = new WeightedLeastConnectionsAlgorithm();

    [Fact]
    public void Name_IsWeightedLeastConnections()
    {
        Assert.Equal("WEIGHTED_LEAST_CONNECTIONS", Algorithm.Name);
    }

    [Fact]
    public void Pick_Weights1And3SimulatedLoad_ActiveIs100And300After400Picks()
    {
        var nodes = States(Node(1, weight: 1), Node(2, weight: 3));
        var pool = Pool(nodes);

        for (var i = 0; i < 400; i++)
        {
            Algorithm.Pick(pool, Now)!.Counters.OnStart();
        }

        Assert.InRange(nodes[0].Counters.Active, 99, 101);
        Assert.InRange(nodes[1].Counters.Active, 299, 301);
        Assert.Equal(400, nodes[0].Counters.Active + nodes[1].Counters.Active);
    }

    [Fact]
    public void Pick_Weights1And3FromIdle_FirstFourPicks()
    {
        var nodes = States(Node(1, weight: 1), Node(2, weight: 3));
        var pool = Pool(nodes);
        var picked = new List<int>();

        for (var i = 0; i < 4; i++)
        {
            var node = Algorithm.Pick(pool, Now)!;
            node.Counters.OnStart();
            picked.Add(node.Id);
        }

        // Scores (active + 1) / weight: 1 vs 1/3, 1 vs 2/3, 1 vs 3/3 (tie: heavier wins), 1 vs 4/3.
        Assert.Equal([2, 2, 2, 1], picked);
    }

    [Fact]
    public void Pick_LoadPerWeight_PicksLowestRatio()
    {
        var nodes = States(Node(1, weight: 2), Node(2, weight: 10), Node(3, weight: 5));
        Load(nodes[0], 2);  // (2+1)/2  = 1.5
        Load(nodes[1], 12); // (12+1)/10 = 1.3
        Load(nodes[2], 7);  // (7+1)/5  = 1.6
        var pool = Pool(nodes);

        Assert.All(PickIds(pool, 6), id => Assert.Equal(2, id));
    }

    [Fact]
    public void Pick_EqualLoadPerWeight_HeavierNodeWins()
    {
        var nodes = States(Node(1, weight: 1), Node(2, weight: 2));
        Load(nodes[1], 1); // (0+1)/1 == (1+1)/2
        var pool = Pool(nodes);

        Assert.All(PickIds(pool, 4), id => Assert.Equal(2, id));
    }

    [Fact]
    public void Pick_EqualWeightsAllTied_RotatesThroughEveryNode()
    {
        var pool = Pool(States(Node(1, weight: 3), Node(2, weight: 3), Node(3, weight: 3)));

        Assert.Equal([1, 2, 3, 1, 2, 3], PickIds(pool, 6));
    }

    /// <summary>Same root cause as LEAST_CONNECTIONS: with node 1 busier, tied nodes 2 and 3 get 2:1, not 1:1.</summary>
    [Fact]
    public void Pick_TwoOfThreeTied_TiedNodesTakeTurnsEvenly()
    {
        var nodes = States(Node(1), Node(2), Node(3));
        Load(nodes[0], 1);
        var pool = Pool(nodes);

        var histogram = Histogram(PickIds(pool, 600));

        Assert.False(histogram.ContainsKey(1));
        Assert.Equal(300, histogram[2]);
        Assert.Equal(300, histogram[3]);
    }

    private static void Load(NodeState node, int active)
    {
        for (var i = 0; i < active; i++)
        {
            node.Counters.OnStart();
        }
    }
}
