using Tether.Core.LoadBalancing;
using Tether.Core.Model;
using static Tether.Core.Tests.TestConfigs;

namespace Tether.Core.Tests.LoadBalancing;

/// <summary>
/// What every algorithm must do with availability (docs/session-persistence.md: DISABLED gets nothing, DRAINING gets no new
/// sessions, OFFLINE and passively unavailable nodes get nothing). Each algorithm's test class inherits these.
/// </summary>
public abstract class AlgorithmContractTests
{
    protected const long Now = 1_000_000;
    private const int Picks = 60;

    private protected abstract ILoadBalancingAlgorithm Algorithm { get; }

    [Theory]
    [InlineData(NodeCondition.Disabled)]
    [InlineData(NodeCondition.Draining)]
    public void Pick_NodeWithCondition_IsNeverPicked(NodeCondition condition)
    {
        var pool = Pool(States(Node(1), Node(2, condition: condition), Node(3)));

        var picked = PickIds(pool, Picks);

        Assert.DoesNotContain(2, picked);
        Assert.Contains(1, picked);
        Assert.Contains(3, picked);
    }

    [Fact]
    public void Pick_OfflineNode_IsNeverPicked()
    {
        var pool = Pool(States(Node(1), Node(2, status: NodeStatus.Offline), Node(3)));

        var picked = PickIds(pool, Picks);

        Assert.DoesNotContain(2, picked);
        Assert.Contains(1, picked);
        Assert.Contains(3, picked);
    }

    [Fact]
    public void Pick_PassivelyUnavailableNode_IsNeverPickedUntilItsTime()
    {
        var nodes = States(Node(1), Node(2), Node(3));
        nodes[1].Counters.MarkUnavailable(Now + 1);
        var pool = Pool(nodes);

        var picked = PickIds(pool, Picks);

        Assert.DoesNotContain(2, picked);
        Assert.Equal(1, nodes[1].Counters.Failures);
    }

    [Fact]
    public void Pick_PassiveHoldExpired_NodeIsPickedAgain()
    {
        var nodes = States(Node(1), Node(2), Node(3));
        nodes[1].Counters.MarkUnavailable(Now); // until == now: available again
        var pool = Pool(nodes);

        var picked = PickIds(pool, Picks);

        Assert.Contains(2, picked);
    }

    [Fact]
    public void Pick_MarkAvailableAfterHold_NodeIsPickedAgain()
    {
        var nodes = States(Node(1), Node(2), Node(3));
        nodes[1].Counters.MarkUnavailable(Now + 1_000);
        nodes[1].Counters.MarkAvailable();
        var pool = Pool(nodes);

        var picked = PickIds(pool, Picks);

        Assert.Contains(2, picked);
        Assert.Equal(0, nodes[1].Counters.UnavailableUntil);
    }

    [Fact]
    public void Pick_OnlyOneNodeAvailable_AlwaysPicksIt()
    {
        var nodes = States(
            Node(1, condition: NodeCondition.Disabled),
            Node(2, condition: NodeCondition.Draining),
            Node(3, status: NodeStatus.Offline),
            Node(4),
            Node(5));
        nodes[4].Counters.MarkUnavailable(Now + 10);
        var pool = Pool(nodes);

        var picked = PickIds(pool, Picks);

        Assert.All(picked, id => Assert.Equal(4, id));
    }

    [Fact]
    public void Pick_NoNodeAvailable_ReturnsNull()
    {
        var nodes = States(
            Node(1, condition: NodeCondition.Disabled),
            Node(2, condition: NodeCondition.Draining),
            Node(3, status: NodeStatus.Offline),
            Node(4));
        nodes[3].Counters.MarkUnavailable(Now + 10);
        var pool = Pool(nodes);

        for (var i = 0; i < 10; i++)
        {
            Assert.Null(Algorithm.Pick(pool, Now));
        }
    }

    [Fact]
    public void Pick_EmptyPool_ReturnsNull()
    {
        Assert.Null(Algorithm.Pick(Pool(), Now));
    }

    [Fact]
    public void Get_ByName_ReturnsThisAlgorithm()
    {
        Assert.Same(Algorithms.Get(Algorithm.Name), Algorithms.Get(Algorithm.Name));
        Assert.Equal(Algorithm.GetType(), Algorithms.Get(Algorithm.Name).GetType());
        Assert.True(AlgorithmNames.IsKnown(Algorithm.Name));
    }

    private protected List<int> PickIds(NodePool pool, int count, long now = Now)
    {
        var ids = new List<int>(count);
        for (var i = 0; i < count; i++)
        {
            var node = Algorithm.Pick(pool, now);
            Assert.NotNull(node);
            ids.Add(node.Id);
        }

        return ids;
    }

    private protected static Dictionary<int, int> Histogram(IEnumerable<int> ids) =>
        ids.GroupBy(id => id).ToDictionary(g => g.Key, g => g.Count());
}
