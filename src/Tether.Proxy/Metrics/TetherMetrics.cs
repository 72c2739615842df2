using Prometheus;
using Tether.Core.LoadBalancing;
using Tether.Core.Model;
using Tether.Core.Runtime;

namespace Tether.Proxy.Metrics;

/// <summary>
/// Prometheus metrics of the data plane (prometheus-net), in their own registry, served at <c>/metrics</c> on the
/// management port. Counters the request path already keeps (node counters, persistence statistics) are copied into
/// the registry when it is scraped, so they cost the request path nothing more; only the latency histogram is
/// observed per request, through a child cached per node (lock-free, no allocation).
/// </summary>
/// <remarks>
/// Metrics: <c>tether_requests_total{load_balancer,node,code}</c>,
/// <c>tether_request_duration_seconds{load_balancer,node}</c> (histogram),
/// <c>tether_persistence_decisions_total{load_balancer,outcome}</c> (persisted, hashed, balanced, repinned,
/// rejected_no_fallback, no_node_available), <c>tether_node_up{load_balancer,node}</c> (1 when the node may take new
/// traffic), <c>tether_node_active_requests{load_balancer,node}</c>, <c>tether_node_failures_total{load_balancer,node}</c>
/// (refused connections and timeouts), <c>tether_persisted_sessions{load_balancer}</c>.
/// </remarks>
public sealed class TetherMetrics
{
    private static readonly string[] Outcomes = ["persisted", "hashed", "balanced", "repinned", "rejected_no_fallback", "no_node_available"];

    private readonly Counter _requests;
    private readonly Histogram _duration;
    private readonly Counter _decisions;
    private readonly Gauge _up;
    private readonly Gauge _active;
    private readonly Counter _failures;
    private readonly Gauge _sessions;
    private readonly Func<IEnumerable<LoadBalancerRuntime>> _runtimes;

    /// <summary>Creates the metrics in a new registry.</summary>
    /// <param name="runtimes">Lists the live load balancers at scrape time.</param>
    public TetherMetrics(Func<IEnumerable<LoadBalancerRuntime>> runtimes)
    {
        _runtimes = runtimes;
        Registry = Prometheus.Metrics.NewCustomRegistry();
        var factory = Prometheus.Metrics.WithCustomRegistry(Registry);
        _requests = factory.CreateCounter("tether_requests_total", "Answers relayed from nodes, by HTTP status code.", "load_balancer", "node", "code");
        _duration = factory.CreateHistogram("tether_request_duration_seconds", "Time from picking a node to the end of the forwarded answer, in seconds.",
            new HistogramConfiguration
            {
                LabelNames = ["load_balancer", "node"],
                Buckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
            });
        _decisions = factory.CreateCounter("tether_persistence_decisions_total", "How each request's node was chosen (persistence hit, hashing, balancing, fallback, rejection).", "load_balancer", "outcome");
        _up = factory.CreateGauge("tether_node_up", "1 when the node may take new traffic (ENABLED, ONLINE, not held out by passive health), else 0.", "load_balancer", "node");
        _active = factory.CreateGauge("tether_node_active_requests", "Requests or connections in flight to the node.", "load_balancer", "node");
        _failures = factory.CreateCounter("tether_node_failures_total", "Refused connections and timeouts seen on the node.", "load_balancer", "node");
        _sessions = factory.CreateGauge("tether_persisted_sessions", "Persisted sessions Tether knows (stick table and HTTP_COOKIE session view).", "load_balancer");
        Registry.AddBeforeCollectCallback(Collect);
    }

    /// <summary>The registry to serve (<c>MapMetrics("/metrics", registry)</c>).</summary>
    public CollectorRegistry Registry { get; }

    /// <summary>The per-node histogram child, to cache off the request path.</summary>
    public Histogram.Child DurationFor(int loadBalancerId, int nodeId) =>
        _duration.WithLabels(Label(loadBalancerId), Label(nodeId));

    private void Collect()
    {
        var liveLoadBalancers = new HashSet<string>(StringComparer.Ordinal);
        var liveNodes = new HashSet<(string, string)>();
        foreach (var runtime in _runtimes())
        {
            var snapshot = runtime.Snapshot;
            var lb = Label(snapshot.Id);
            liveLoadBalancers.Add(lb);
            liveNodes.Add((lb, "none"));
            foreach (var node in snapshot.Nodes)
            {
                liveNodes.Add((lb, Label(node.Id)));
            }

            var now = runtime.Time.GetTimestamp();
            foreach (var node in snapshot.Nodes)
            {
                var id = Label(node.Id);
                for (var code = 100; code < 600; code++)
                {
                    var count = node.Counters.Responses(code);
                    if (count > 0)
                    {
                        _requests.WithLabels(lb, id, Label(code)).IncTo(count);
                    }
                }

                _up.WithLabels(lb, id).Set(node.IsAvailable(now) ? 1 : 0);
                _active.WithLabels(lb, id).Set(node.Counters.Active);
                _failures.WithLabels(lb, id).IncTo(node.Counters.Failures);
            }

            var statistics = runtime.Statistics;
            for (var i = 0; i < Outcomes.Length; i++)
            {
                _decisions.WithLabels(lb, Outcomes[i]).IncTo(statistics.Get((SelectionOutcome)i));
            }

            // Tether's own 502/503 answers (no node) are requests too.
            // Tether's own answers with no node: 502 (fallback disabled, or a retry after a failed connect found no
            // node) and 503 (no node could take the request).
            _requests.WithLabels(lb, "none", "502").IncTo(statistics.Get(SelectionOutcome.RejectedNoFallback) + statistics.FailedRetries);
            _requests.WithLabels(lb, "none", "503").IncTo(Math.Max(0, statistics.Get(SelectionOutcome.NoNodeAvailable) - statistics.FailedRetries));
            _sessions.WithLabels(lb).Set(snapshot.PersistenceType is null ? 0 : runtime.StickTable.Count);
        }

        // Series of deleted load balancers and nodes go away with them.
        RemoveStale(_requests.GetAllLabelValues(), v => liveNodes.Contains((v[0], v[1])), v => _requests.RemoveLabelled(v));
        RemoveStale(_duration.GetAllLabelValues(), v => liveNodes.Contains((v[0], v[1])), v => _duration.RemoveLabelled(v));
        RemoveStale(_up.GetAllLabelValues(), v => liveNodes.Contains((v[0], v[1])), v => _up.RemoveLabelled(v));
        RemoveStale(_active.GetAllLabelValues(), v => liveNodes.Contains((v[0], v[1])), v => _active.RemoveLabelled(v));
        RemoveStale(_failures.GetAllLabelValues(), v => liveNodes.Contains((v[0], v[1])), v => _failures.RemoveLabelled(v));
        RemoveStale(_decisions.GetAllLabelValues(), v => liveLoadBalancers.Contains(v[0]), v => _decisions.RemoveLabelled(v));
        RemoveStale(_sessions.GetAllLabelValues(), v => liveLoadBalancers.Contains(v[0]), v => _sessions.RemoveLabelled(v));
    }

    private static void RemoveStale(IEnumerable<string[]> series, Func<string[], bool> live, Action<string[]> remove)
    {
        foreach (var labels in series.ToList())
        {
            if (!live(labels))
            {
                remove(labels);
            }
        }
    }

    private static string Label(int value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
