namespace Tether.Core.LoadBalancing;

/// <summary>ROUND_ROBIN: each available node in turn, ignoring weights.</summary>
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
