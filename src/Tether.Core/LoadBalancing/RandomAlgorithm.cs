namespace Tether.Core.LoadBalancing;

/// <summary>RANDOM: a uniformly random node among the available ones; during a slow start, a random node with
/// probability proportional to its effective weight (each node weighs 1; <see cref="NodePool.SlowStart"/>).</summary>
internal sealed class RandomAlgorithm : ILoadBalancingAlgorithm
{
    public string Name => AlgorithmNames.Random;

    public NodeState? Pick(NodePool pool, long now)
    {
        var nodes = pool.Nodes;
        if (pool.SlowStart is { } ramp)
        {
            return PickWeighted(pool, ramp.Weights, now);
        }

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

    /// <summary>A random available node, each with probability proportional to <paramref name="weights"/>.</summary>
    private static NodeState? PickWeighted(NodePool pool, int[] weights, long now)
    {
        var nodes = pool.Nodes;
        var total = 0;
        for (var i = 0; i < nodes.Length; i++)
        {
            if (nodes[i].IsAvailable(now))
            {
                total += weights[i];
            }
        }

        if (total == 0)
        {
            return null;
        }

        var k = pool.Random.Next(total);
        for (var i = 0; i < nodes.Length; i++)
        {
            if (nodes[i].IsAvailable(now) && (k -= weights[i]) < 0)
            {
                return nodes[i];
            }
        }

        return null;
    }
}
