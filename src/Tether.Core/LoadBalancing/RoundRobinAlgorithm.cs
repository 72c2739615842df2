namespace Tether.Core.LoadBalancing;

/// <summary>ROUND_ROBIN: each available node in turn, ignoring weights. During a slow start each node weighs 1 and
/// the ramping node's share grows from 5 % of a turn (<see cref="NodePool.SlowStart"/>).</summary>
internal sealed class RoundRobinAlgorithm : ILoadBalancingAlgorithm
{
    public string Name => AlgorithmNames.RoundRobin;

    public NodeState? Pick(NodePool pool, long now)
    {
        var nodes = pool.Nodes;
        if (nodes.Length == 0)
        {
            return null;
        }

        if (pool.SlowStart is { } ramp)
        {
            return WeightedRoundRobinAlgorithm.PickScheduled(pool, ramp.Schedule, now);
        }

        // Count the available nodes, then take the cursor's turn among them only, so that a node held out of
        // rotation does not hand its turns to its neighbour.
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

        var k = (int)((uint)pool.NextCursor() % (uint)available);
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
