namespace Tether.Core.LoadBalancing;

/// <summary>
/// The nodes of one tier (PRIMARY or SECONDARY) of a load balancer, with what the algorithms precompute from them
/// when the configuration changes: the smooth weighted round-robin schedule, and the cursor that round robin
/// advances with <see cref="Interlocked"/>. Immutable but for the cursor.
/// </summary>
public sealed class NodePool
{
    private int _cursor = -1;

    /// <summary>Builds the pool and its weighted schedule (off the hot path).</summary>
    /// <param name="nodes">The nodes of the tier, in configuration order.</param>
    /// <param name="random">The random source of the RANDOM algorithm and of tie-breaking.</param>
    public NodePool(NodeState[] nodes, IRandomSource random)
    {
        Nodes = nodes;
        Random = random;
        WeightedSchedule = SmoothWeightedSchedule.Build(nodes);
    }

    /// <summary>The nodes of the tier (possibly empty).</summary>
    public NodeState[] Nodes { get; }

    /// <summary>Indexes into <see cref="Nodes"/>, one period of nginx's smooth weighted round robin
    /// (length = sum of weights divided by their greatest common divisor).</summary>
    public int[] WeightedSchedule { get; }

    /// <summary>The random source.</summary>
    public IRandomSource Random { get; }

    /// <summary>Advances the shared cursor and returns its new value (non-negative, wraps safely).</summary>
    public int NextCursor() => Interlocked.Increment(ref _cursor) & int.MaxValue;
}

/// <summary>Builds one period of nginx's smooth weighted round robin (ngx_http_upstream_round_robin.c).</summary>
internal static class SmoothWeightedSchedule
{
    /// <summary>Returns node indexes in the order smooth WRR picks them over one period.</summary>
    public static int[] Build(NodeState[] nodes)
    {
        if (nodes.Length == 0)
        {
            return [];
        }

        var g = 0;
        foreach (var n in nodes)
        {
            g = Gcd(g, n.Weight);
        }

        var weights = new int[nodes.Length];
        var total = 0;
        for (var i = 0; i < nodes.Length; i++)
        {
            weights[i] = nodes[i].Weight / g;
            total += weights[i];
        }

        var current = new int[nodes.Length];
        var schedule = new int[total];
        for (var step = 0; step < total; step++)
        {
            var best = -1;
            for (var i = 0; i < nodes.Length; i++)
            {
                current[i] += weights[i];
                if (best < 0 || current[i] > current[best])
                {
                    best = i;
                }
            }

            current[best] -= total;
            schedule[step] = best;
        }

        return schedule;
    }

    private static int Gcd(int a, int b)
    {
        while (b != 0)
        {
            (a, b) = (b, a % b);
        }

        return a;
    }
}
