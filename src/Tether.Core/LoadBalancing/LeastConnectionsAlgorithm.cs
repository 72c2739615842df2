namespace Tether.Core.LoadBalancing;

/// <summary>
/// LEAST_CONNECTIONS: the available node with the fewest active requests (L7) or connections (L4). Equally loaded
/// nodes take turns (as HAProxy's leastconn does). During a slow start each node weighs 1 and the ramping node's
/// effective weight scales its load, as WEIGHTED_LEAST_CONNECTIONS does (<see cref="NodePool.SlowStart"/>).
/// </summary>
internal sealed class LeastConnectionsAlgorithm : ILoadBalancingAlgorithm
{
    public string Name => AlgorithmNames.LeastConnections;

    public NodeState? Pick(NodePool pool, long now)
    {
        var nodes = pool.Nodes;
        if (nodes.Length == 0)
        {
            return null;
        }

        if (pool.SlowStart is { } ramp)
        {
            return WeightedLeastConnectionsAlgorithm.PickWeighted(pool, ramp.Weights, now);
        }

        // First pass: the least load and how many available nodes share it.
        var bestActive = int.MaxValue;
        var ties = 0;
        NodeState? first = null;
        for (var i = 0; i < nodes.Length; i++)
        {
            var node = nodes[i];
            if (!node.IsAvailable(now))
            {
                continue;
            }

            var active = node.Counters.Active;
            if (active < bestActive)
            {
                bestActive = active;
                ties = 1;
                first = node;
            }
            else if (active == bestActive)
            {
                ties++;
            }
        }

        if (ties <= 1)
        {
            return first;
        }

        // Second pass: the tied nodes take turns. If counters moved in between, the first pass's best stands.
        var k = (int)((uint)pool.NextCursor() % (uint)ties);
        NodeState? best = first;
        for (var i = 0; i < nodes.Length; i++)
        {
            var node = nodes[i];
            if (node.IsAvailable(now) && node.Counters.Active == bestActive && k-- == 0)
            {
                best = node;
                break;
            }
        }

        return best;
    }
}
