using Tether.Core.LoadBalancing;
using Tether.Core.Runtime;

namespace Tether.Proxy.Http;

/// <summary>
/// Counts the answers of one HTTP load balancer on both data paths: the status code on the node's counters and the
/// latency in the node's <c>tether_request_duration_seconds</c> histogram child (when metrics are on). Shared by the
/// HTTP/1.1 fast path and the Kestrel/YARP path so that neither depends on the other.
/// </summary>
/// <remarks>Per request: one volatile read, one dictionary lookup, no lock and no allocation; the histogram children
/// of a snapshot's nodes are looked up once per configuration change.</remarks>
internal sealed class AnswerCounter
{
    private readonly LoadBalancerRuntime _runtime;
    private readonly Metrics.TetherMetrics? _metrics;
    private volatile DurationCache? _durations;

    public AnswerCounter(LoadBalancerRuntime runtime, Metrics.TetherMetrics? metrics)
    {
        _runtime = runtime;
        _metrics = metrics;
    }

    /// <summary>Counts an answer of <paramref name="statusCode"/> from (or because of) <paramref name="node"/> and its
    /// latency since <paramref name="started"/> (a timestamp of the runtime's <see cref="TimeProvider"/>). A connect
    /// failure that is retried elsewhere is not an answer and is not counted.</summary>
    public void Count(LoadBalancerSnapshot snapshot, NodeState node, int statusCode, long started)
    {
        node.Counters.OnResponse(statusCode);
        Durations(snapshot)?.Observe(node.Id, (double)(_runtime.Time.GetTimestamp() - started) / _runtime.Time.TimestampFrequency);
    }

    /// <summary>The latency histogram children of the snapshot's nodes, built once per configuration change.</summary>
    private DurationCache? Durations(LoadBalancerSnapshot snapshot)
    {
        if (_metrics is null)
        {
            return null;
        }

        var current = _durations;
        if (current is null || !ReferenceEquals(current.Snapshot, snapshot))
        {
            var map = new Dictionary<int, Prometheus.Histogram.Child>();
            foreach (var n in snapshot.Nodes)
            {
                map[n.Id] = _metrics.DurationFor(snapshot, n);
            }

            current = new DurationCache(snapshot, map);
            _durations = current;
        }

        return current;
    }

    private sealed record DurationCache(LoadBalancerSnapshot Snapshot, Dictionary<int, Prometheus.Histogram.Child> ByNode)
    {
        public void Observe(int nodeId, double seconds)
        {
            if (ByNode.TryGetValue(nodeId, out var child))
            {
                child.Observe(seconds);
            }
        }
    }
}
