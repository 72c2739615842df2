using Tether.Core.LoadBalancing;
using Tether.Core.Model;
using static Tether.Core.Tests.TestConfigs;

namespace Tether.Core.Tests.LoadBalancing;

public sealed class RandomAlgorithmTests : AlgorithmContractTests
{
    private protected override ILoadBalancingAlgorithm Algorithm { get; } = new RandomAlgorithm();

    [Fact]
    public void Name_IsRandom()
    {
        Assert.Equal("RANDOM", Algorithm.Name);
    }

    [Fact]
    public void Pick_SeededOverThreeNodes_EachShareWithinTwoPercentOfOneThird()
    {
        var pool = new NodePool(States(Node(1), Node(2), Node(3)), new SeededRandomSource(42));

        var histogram = Histogram(PickIds(pool, 30_000));

        Assert.Equal(3, histogram.Count);
        foreach (var id in new[] { 1, 2, 3 })
        {
            var share = histogram[id] / 30_000.0;
            Assert.InRange(share, (1.0 / 3) - 0.02, (1.0 / 3) + 0.02);
        }
    }

    [Fact]
    public void Pick_SameSeed_GivesSameSequence()
    {
        var first = PickIds(new NodePool(States(Node(1), Node(2), Node(3)), new SeededRandomSource(7)), 200);
        var second = PickIds(new NodePool(States(Node(1), Node(2), Node(3)), new SeededRandomSource(7)), 200);

        Assert.Equal(first, second);
        Assert.Equal(3, first.Distinct().Count());
    }

    [Fact]
    public void Pick_OneOfThreeUnavailable_OtherTwoShareEvenly()
    {
        var pool = new NodePool(States(Node(1), Node(2, condition: NodeCondition.Disabled), Node(3)), new SeededRandomSource(3));

        var histogram = Histogram(PickIds(pool, 20_000));

        Assert.Equal(2, histogram.Count);
        Assert.InRange(histogram[1] / 20_000.0, 0.48, 0.52);
        Assert.InRange(histogram[3] / 20_000.0, 0.48, 0.52);
    }

    [Fact]
    public void Pick_IgnoresWeights()
    {
        var pool = new NodePool(States(Node(1, weight: 100), Node(2, weight: 1)), new SeededRandomSource(11));

        var histogram = Histogram(PickIds(pool, 20_000));

        Assert.InRange(histogram[2] / 20_000.0, 0.48, 0.52);
    }
}
