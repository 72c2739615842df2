namespace Tether.Core.LoadBalancing;

/// <summary>
/// WEIGHTED_LEAST_CONNECTIONS: the available node with the fewest active requests or connections per unit of weight
/// (compares <c>active_a × weight_b</c> with <c>active_b × weight_a</c>, so no division). At equal load per weight the
/// heavier node wins; nodes equal in both take turns. During a slow start the effective weights are used
/// (<see cref="NodePool.SlowStart"/>).
/// </summary>
internal sealed class WeightedLeastConnectionsAlgorithm : ILoadBalancingAlgorithm
{
    public string Name => AlgorithmNames.WeightedLeastConnections;

    public NodeState? Pick(NodePool pool, long now) => PickWeighted(pool, pool.SlowStart?.Weights, now);

    /// <summary>The pick over <paramref name="weights"/> (per index of the pool's nodes), or over the nodes' own
    /// weights when <c>null</c>.</summary>
    internal static NodeState? PickWeighted(NodePool pool, int[]? weights, long now)
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
        var bestWeight = 0;
        var ties = 0;
        for (var i = 0; i < nodes.Length; i++)
        {
            var node = nodes[i];
            if (!node.IsAvailable(now))
            {
                continue;
            }

            long active = node.Counters.Active + 1;
            var weight = weights is null ? node.Weight : weights[i];
            var order = best is null ? -1 : Compare(active, weight, bestActive, bestWeight);
            if (order < 0)
            {
                best = node;
                bestActive = active;
                bestWeight = weight;
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
        for (var i = 0; i < nodes.Length; i++)
        {
            var node = nodes[i];
            var weight = weights is null ? node.Weight : weights[i];
            if (node.IsAvailable(now) && weight == bestWeight && (node.Counters.Active + 1) * bestWeight == bestActive * weight && k-- == 0)
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
