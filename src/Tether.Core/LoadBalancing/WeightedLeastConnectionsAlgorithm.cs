namespace Tether.Core.LoadBalancing;

/// <summary>
/// WEIGHTED_LEAST_CONNECTIONS: the available node with the fewest active requests or connections per unit of weight
/// (compares <c>active_a × weight_b</c> with <c>active_b × weight_a</c>, so no division). At equal load per weight the
/// heavier node wins; nodes equal in both take turns.
/// </summary>
internal sealed class WeightedLeastConnectionsAlgorithm : ILoadBalancingAlgorithm
{
    public string Name => AlgorithmNames.WeightedLeastConnections;

    public NodeState? Pick(NodePool pool, long now)
    {
        var nodes = pool.Nodes;
        if (nodes.Length == 0)
        {
            return null;
        }

        // Score (active + 1) / weight: the node a new request loads least, relative to its weight. At equal score the
        // heavier node wins; nodes equal in both take turns.
        NodeState? best = null;
        long bestActive = 0;
        var ties = 0;
        for (var i = 0; i < nodes.Length; i++)
        {
            var node = nodes[i];
            if (!node.IsAvailable(now))
            {
                continue;
            }

            long active = node.Counters.Active + 1;
            var order = best is null ? -1 : Compare(active, node.Weight, bestActive, best.Weight);
            if (order < 0)
            {
                best = node;
                bestActive = active;
                ties = 1;
            }
            else if (order == 0)
            {
                ties++;
            }
        }

        if (ties <= 1 || best is null)
        {
            return best;
        }

        var k = (int)((uint)pool.NextCursor() % (uint)ties);
        var bestWeight = best.Weight;
        for (var i = 0; i < nodes.Length; i++)
        {
            var node = nodes[i];
            if (node.IsAvailable(now) && node.Weight == bestWeight && (node.Counters.Active + 1) * bestWeight == bestActive * node.Weight && k-- == 0)
            {
                return node;
            }
        }

        return best;
    }

    /// <summary>Orders two nodes by load per weight, then by weight (heavier first): negative when the first is better.</summary>
    private static int Compare(long activeA, int weightA, long activeB, int weightB)
    {
        var lhs = activeA * weightB;
        var rhs = activeB * weightA;
        if (lhs != rhs)
        {
            return lhs < rhs ? -1 : 1;
        }

        return weightA == weightB ? 0 : (weightA > weightB ? -1 : 1);
    }
}
