namespace Tether.Core.LoadBalancing;

/// <summary>
/// The nodes of one tier (PRIMARY or SECONDARY) of a load balancer, with what the algorithms precompute from them
/// when the configuration changes: the smooth weighted round-robin schedule, and the cursor that round robin
/// advances with <see cref="Interlocked"/>. Immutable but for the cursor.
/// </summary>
public sealed class NodePool
{
    private int _cursor = -1;
    private SlowStartWeights? _slowStart;

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

    /// <summary>Slow start: the effective weights of the nodes while at least one of them ramps up, or <c>null</c>
    /// (the usual case: the algorithms use <see cref="NodeState.Weight"/> and <see cref="WeightedSchedule"/>). One
    /// volatile read per pick; replaced off the hot path by <see cref="Runtime.SlowStart"/> once per step.</summary>
    public SlowStartWeights? SlowStart => Volatile.Read(ref _slowStart);

    /// <summary>Publishes (or clears, with <c>null</c>) the slow-start weights of this pool. Off the hot path.</summary>
    public void SetSlowStart(SlowStartWeights? weights) => Volatile.Write(ref _slowStart, weights);
}

/// <summary>Builds one period of nginx's smooth weighted round robin (ngx_http_upstream_round_robin.c).</summary>
internal static class SmoothWeightedSchedule
{
    /// <summary>Returns node indexes in the order smooth WRR picks them over one period.</summary>
    public static int[] Build(NodeState[] nodes)
    {
        var weights = new int[nodes.Length];
        for (var i = 0; i < nodes.Length; i++)
        {
            weights[i] = nodes[i].Weight;
        }

        return Build(weights);
    }

    /// <summary>Returns indexes into <paramref name="nodeWeights"/> (each at least 1) in the order smooth WRR picks
    /// them over one period (length = sum of weights divided by their greatest common divisor).</summary>
    public static int[] Build(int[] nodeWeights)
    {
        if (nodeWeights.Length == 0)
        {
            return [];
        }

        var g = 0;
        foreach (var w in nodeWeights)
        {
            g = Gcd(g, w);
        }

        var weights = new int[nodeWeights.Length];
        var total = 0;
        for (var i = 0; i < nodeWeights.Length; i++)
        {
            weights[i] = nodeWeights[i] / g;
            total += weights[i];
        }

        var current = new int[weights.Length];
        var schedule = new int[total];
        for (var step = 0; step < total; step++)
        {
            var best = -1;
            for (var i = 0; i < weights.Length; i++)
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
