namespace Tether.Core.LoadBalancing;

/// <summary>
/// WEIGHTED_ROUND_ROBIN: nginx's smooth weighted round robin. The schedule of one period is precomputed when the
/// configuration changes (<see cref="NodePool.WeightedSchedule"/>); a pick only advances a shared cursor, so it is
/// lock-free. An unavailable node's slot goes to the next available node of the schedule.
/// </summary>
internal sealed class WeightedRoundRobinAlgorithm : ILoadBalancingAlgorithm
{
    public string Name => AlgorithmNames.WeightedRoundRobin;

    public NodeState? Pick(NodePool pool, long now)
    {
        var schedule = pool.WeightedSchedule;
        if (schedule.Length == 0)
        {
            return null;
        }

        var nodes = pool.Nodes;
        var start = pool.NextCursor();
        for (var i = 0; i < schedule.Length; i++)
        {
            var node = nodes[schedule[(int)((uint)(start + i) % (uint)schedule.Length)]];
            if (node.IsAvailable(now))
            {
                return node;
            }
        }

        return null;
    }
}
