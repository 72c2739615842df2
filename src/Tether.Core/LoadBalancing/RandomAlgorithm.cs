namespace Tether.Core.LoadBalancing;

/// <summary>RANDOM: a uniformly random node among the available ones.</summary>
internal sealed class RandomAlgorithm : ILoadBalancingAlgorithm
{
    public string Name => AlgorithmNames.Random;

    public NodeState? Pick(NodePool pool, long now)
    {
        var nodes = pool.Nodes;
        var available = 0;
        for (var i = 0; i < nodes.Length; i++)
        {
            if (nodes[i].IsAvailable(now))
            {
                available++;
            }
        }

        if (available == 0)
        {
            return null;
        }

        var k = pool.Random.Next(available);
        for (var i = 0; i < nodes.Length; i++)
        {
            if (nodes[i].IsAvailable(now) && k-- == 0)
            {
                return nodes[i];
            }
        }

        return null;
    }
}
