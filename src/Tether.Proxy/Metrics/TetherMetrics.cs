using Prometheus;
using Tether.Core.LoadBalancing;
using Tether.Core.Model;
using Tether.Core.Runtime;

namespace Tether.Proxy.Metrics;

/// <summary>
/// Prometheus metrics of the data plane (prometheus-net), in their own registry, served at <c>/metrics</c> on the
/// management port (or on its own address: the <c>Management:MetricsUrl</c> setting). Counters the request path already keeps
/// (node counters, persistence statistics) are copied into the registry when it is scraped, so they cost the request
/// path nothing more; only the latency histogram is observed per request, through a child cached per node (lock-free,
/// no allocation).
/// </summary>
/// <remarks>
/// <para>Every series carries the ids and, beside them, the names: <c>load_balancer</c> (id) and
/// <c>load_balancer_name</c>; per node <c>node</c> (id) and <c>node_address</c> (<c>address:port</c>; nodes have no
/// name in the Rackspace API). Names are bounded by the number of load balancers and nodes (25 per load balancer), so
/// they add no cardinality; a rename replaces the series at the next scrape.</para>
/// <para>Metrics: <c>tether_requests_total{...,code}</c>, <c>tether_request_duration_seconds</c> (histogram),
/// <c>tether_persistence_decisions_total{...,outcome}</c> (persisted, hashed, balanced, repinned,
/// rejected_no_fallback, no_node_available), <c>tether_node_condition{...,condition}</c> (one-hot over ENABLED,
/// DISABLED, DRAINING), <c>tether_node_status{...,status}</c> (one-hot over ONLINE, OFFLINE, UNKNOWN; UNKNOWN when the
/// load balancer has no health monitor), <c>tether_node_up</c> (health only: 0 when OFFLINE or held out by passive
/// health, else 1; the condition does not count), <c>tether_node_available</c> (1 when the node may take new
/// traffic: ENABLED and up), <c>tether_node_active_requests</c>, <c>tether_node_failures_total</c> (refused
/// connections and timeouts), <c>tether_persisted_sessions</c>, <c>tether_content_cache_requests_total{...,result}</c>
/// (hit: answered from the content cache without reaching a node; miss: looked up and sent on to a node).</para>
/// </remarks>
public sealed class TetherMetrics
{
    private static readonly string[] Outcomes = ["persisted", "hashed", "balanced", "repinned", "rejected_no_fallback", "no_node_available"];

    /// <summary>The values of the <c>condition</c> label of <c>tether_node_condition</c>, the API's names.</summary>
    public static readonly IReadOnlyList<string> Conditions = ["ENABLED", "DISABLED", "DRAINING"];

    /// <summary>The values of the <c>status</c> label of <c>tether_node_status</c>: the API's ONLINE and OFFLINE, and
    /// UNKNOWN for every node of a load balancer without a health monitor (the API shows ONLINE there, as Rackspace
    /// does, but nothing checked it).</summary>
    public static readonly IReadOnlyList<string> Statuses = ["ONLINE", "OFFLINE", "UNKNOWN"];

    private static readonly string[] LoadBalancerLabels = ["load_balancer", "load_balancer_name"];
    private static readonly string[] NodeLabels = ["load_balancer", "load_balancer_name", "node", "node_address"];

    private readonly Counter _requests;
    private readonly Histogram _duration;
    private readonly Counter _decisions;
    private readonly Gauge _condition;
    private readonly Gauge _status;
    private readonly Gauge _up;
    private readonly Gauge _available;
    private readonly Gauge _active;
    private readonly Counter _failures;
    private readonly Gauge _sessions;
    private readonly Counter _cache;
    private readonly Func<IEnumerable<LoadBalancerRuntime>> _runtimes;

    /// <summary>Creates the metrics in a new registry.</summary>
    /// <param name="runtimes">Lists the live load balancers at scrape time.</param>
    /// <param name="staticLabels">Labels every series of the registry carries, set before any metric is created
    /// (cluster mode: <c>instance</c> = the instance name, docs/cluster.md "Metrics"); null or empty: none.</param>
    /// <exception cref="ArgumentException">A label name is not a valid Prometheus label name, or is one Tether's
    /// metrics use themselves.</exception>
    public TetherMetrics(Func<IEnumerable<LoadBalancerRuntime>> runtimes, IReadOnlyDictionary<string, string>? staticLabels = null)
    {
        _runtimes = runtimes;
        Registry = Prometheus.Metrics.NewCustomRegistry();
        if (staticLabels is { Count: > 0 })
        {
            // prometheus-net applies static labels to every metric created afterwards, so this comes first.
            Registry.SetStaticLabels(staticLabels.ToDictionary(l => l.Key, l => l.Value, StringComparer.Ordinal));
        }

        var factory = Prometheus.Metrics.WithCustomRegistry(Registry);
        _requests = factory.CreateCounter("tether_requests_total", "Answers relayed from nodes, by HTTP status code; Tether's own 502 and 503 answers with node=\"none\".", [.. NodeLabels, "code"]);
        _duration = factory.CreateHistogram("tether_request_duration_seconds", "Time from picking a node to the end of the forwarded answer, in seconds.",
            new HistogramConfiguration
            {
                LabelNames = NodeLabels,
                Buckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
            });
        _decisions = factory.CreateCounter("tether_persistence_decisions_total", "How each request's node was chosen (persistence hit, hashing, balancing, fallback, rejection).", [.. LoadBalancerLabels, "outcome"]);
        _condition = factory.CreateGauge("tether_node_condition", "The node's condition set by the operator, one-hot: 1 for the current condition (ENABLED, DISABLED, DRAINING), 0 for the others.", [.. NodeLabels, "condition"]);
        _status = factory.CreateGauge("tether_node_status", "The node's health status, one-hot: ONLINE or OFFLINE from the health monitor, UNKNOWN without one.", [.. NodeLabels, "status"]);
        _up = factory.CreateGauge("tether_node_up", "1 when the node is healthy: not OFFLINE by the health monitor and not held out by passive health (failed connections); the condition does not count.", NodeLabels);
        _available = factory.CreateGauge("tether_node_available", "1 when the node may take new traffic: ENABLED and up, else 0.", NodeLabels);
        _active = factory.CreateGauge("tether_node_active_requests", "Requests or connections in flight to the node.", NodeLabels);
        _failures = factory.CreateCounter("tether_node_failures_total", "Refused connections and connect timeouts seen on the node (each holds it out); not answers slower than the timeout.", NodeLabels);
        _sessions = factory.CreateGauge("tether_persisted_sessions", "Persisted sessions Tether knows (stick table and HTTP_COOKIE session view).", LoadBalancerLabels);
        _cache = factory.CreateCounter("tether_content_cache_requests_total", "Requests the content cache looked up: result=\"hit\" answered from the cache without reaching a node, result=\"miss\" sent on to a node.", [.. LoadBalancerLabels, "result"]);
        Registry.AddBeforeCollectCallback(Collect);
    }

    /// <summary>The registry to serve (<c>MapMetrics("/metrics", registry)</c>).</summary>
    public CollectorRegistry Registry { get; }

    /// <summary>The per-node histogram child, to cache off the request path (once per configuration change: the
    /// labels carry the load balancer's name and the node's address).</summary>
    public Histogram.Child DurationFor(LoadBalancerSnapshot snapshot, NodeState node)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(node);
        return _duration.WithLabels(Label(snapshot.Id), snapshot.Config.Name, Label(node.Id), node.HashKey);
    }

    private void Collect()
    {
        // A series is live when its identifying labels (ids and names) are those of a live load balancer or node.
        var liveLoadBalancers = new HashSet<(string, string)>();
        var liveNodes = new HashSet<(string, string, string, string)>();
        foreach (var runtime in _runtimes())
        {
            var snapshot = runtime.Snapshot;
            var lb = Label(snapshot.Id);
            var name = snapshot.Config.Name;
            var monitored = snapshot.Config.HealthMonitor is not null;
            liveLoadBalancers.Add((lb, name));
            liveNodes.Add((lb, name, "none", ""));

            var now = runtime.Time.GetTimestamp();
            foreach (var node in snapshot.Nodes)
            {
                var id = Label(node.Id);
                var address = node.HashKey;
                liveNodes.Add((lb, name, id, address));
                for (var code = 100; code < 600; code++)
                {
                    var count = node.Counters.Responses(code);
                    if (count > 0)
                    {
                        _requests.WithLabels(lb, name, id, address, Label(code)).IncTo(count);
                    }
                }

                var condition = node.Condition switch
                {
                    NodeCondition.Disabled => "DISABLED",
                    NodeCondition.Draining => "DRAINING",
                    _ => "ENABLED",
                };
                foreach (var value in Conditions)
                {
                    _condition.WithLabels(lb, name, id, address, value).Set(value == condition ? 1 : 0);
                }

                var status = !monitored ? "UNKNOWN" : node.IsOnline ? "ONLINE" : "OFFLINE";
                foreach (var value in Statuses)
                {
                    _status.WithLabels(lb, name, id, address, value).Set(value == status ? 1 : 0);
                }

                var up = node.IsOnline && now >= node.Counters.UnavailableUntil;
                _up.WithLabels(lb, name, id, address).Set(up ? 1 : 0);
                _available.WithLabels(lb, name, id, address).Set(node.IsAvailable(now) ? 1 : 0);
                _active.WithLabels(lb, name, id, address).Set(node.Counters.Active);
                _failures.WithLabels(lb, name, id, address).IncTo(node.Counters.Failures);
            }

            var statistics = runtime.Statistics;
            for (var i = 0; i < Outcomes.Length; i++)
            {
                _decisions.WithLabels(lb, name, Outcomes[i]).IncTo(statistics.Get((SelectionOutcome)i));
            }

            // Tether's own answers with no node: 502 (fallback disabled, or a retry after a failed connect found no
            // node) and 503 (no node could take the request).
            _requests.WithLabels(lb, name, "none", "", "502").IncTo(statistics.Get(SelectionOutcome.RejectedNoFallback) + statistics.FailedRetries);
            _requests.WithLabels(lb, name, "none", "", "503").IncTo(Math.Max(0, statistics.Get(SelectionOutcome.NoNodeAvailable) - statistics.FailedRetries));
            _sessions.WithLabels(lb, name).Set(snapshot.PersistenceType is null ? 0 : runtime.StickTable.Count);
            if (snapshot.Config.ContentCaching || runtime.ContentCacheHits + runtime.ContentCacheMisses > 0)
            {
                _cache.WithLabels(lb, name, "hit").IncTo(runtime.ContentCacheHits);
                _cache.WithLabels(lb, name, "miss").IncTo(runtime.ContentCacheMisses);
            }
        }

        // Series of deleted (or renamed) load balancers and nodes go away with them.
        bool NodeLive(string[] v) => liveNodes.Contains((v[0], v[1], v[2], v[3]));
        bool LoadBalancerLive(string[] v) => liveLoadBalancers.Contains((v[0], v[1]));
        RemoveStale(_requests.GetAllLabelValues(), NodeLive, v => _requests.RemoveLabelled(v));
        RemoveStale(_duration.GetAllLabelValues(), NodeLive, v => _duration.RemoveLabelled(v));
        RemoveStale(_condition.GetAllLabelValues(), NodeLive, v => _condition.RemoveLabelled(v));
        RemoveStale(_status.GetAllLabelValues(), NodeLive, v => _status.RemoveLabelled(v));
        RemoveStale(_up.GetAllLabelValues(), NodeLive, v => _up.RemoveLabelled(v));
        RemoveStale(_available.GetAllLabelValues(), NodeLive, v => _available.RemoveLabelled(v));
        RemoveStale(_active.GetAllLabelValues(), NodeLive, v => _active.RemoveLabelled(v));
        RemoveStale(_failures.GetAllLabelValues(), NodeLive, v => _failures.RemoveLabelled(v));
        RemoveStale(_decisions.GetAllLabelValues(), LoadBalancerLive, v => _decisions.RemoveLabelled(v));
        RemoveStale(_sessions.GetAllLabelValues(), LoadBalancerLive, v => _sessions.RemoveLabelled(v));
        RemoveStale(_cache.GetAllLabelValues(), LoadBalancerLive, v => _cache.RemoveLabelled(v));
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
