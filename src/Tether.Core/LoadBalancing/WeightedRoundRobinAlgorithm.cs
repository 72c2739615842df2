namespace Tether.Core.LoadBalancing;

/// <summary>
/// WEIGHTED_ROUND_ROBIN: nginx's smooth weighted round robin. The schedule of one period is precomputed when the
/// configuration changes (<see cref="NodePool.WeightedSchedule"/>); a pick only advances a shared cursor, so it is
/// lock-free. An unavailable node's slots are skipped, each one consuming a turn of the cursor, so the available nodes
/// share the traffic by their weights while it is out, as nginx does when it skips a failed peer (a weight-5 node held
/// out of 5, 1, 1 leaves the two weight-1 nodes 1:1, not 5:2 to whichever follows it in the schedule). During a slow
/// start the schedule of the effective weights is used (<see cref="NodePool.SlowStart"/>).
/// </summary>
internal sealed class WeightedRoundRobinAlgorithm : ILoadBalancingAlgorithm
{
    public string Name => AlgorithmNames.WeightedRoundRobin;

    public NodeState? Pick(NodePool pool, long now) =>
        PickScheduled(pool, pool.SlowStart?.Schedule ?? pool.WeightedSchedule, now);

    /// <summary>The next available node of <paramref name="schedule"/> (indexes into the pool's nodes) at the pool's
    /// cursor; at most one period of turns.</summary>
    internal static NodeState? PickScheduled(NodePool pool, int[] schedule, long now)
    {
        if (schedule.Length == 0)
        {
            return null;
        }

        // At most one period of turns: a slot of an unavailable node is passed over and its turn consumed, so that the
        // next pick does not land on the node that follows it in the schedule again.
        var nodes = pool.Nodes;
        for (var i = 0; i < schedule.Length; i++)
        {
            var node = nodes[schedule[(int)((uint)pool.NextCursor() % (uint)schedule.Length)]];
            if (node.IsAvailable(now))
            {
                return node;
            }
        }

        return null;
    }
}
