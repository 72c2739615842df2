namespace Tether.Proxy;

/// <summary>Settings of the data plane (configuration section <c>Tether:Proxy</c>).</summary>
public sealed class ProxyOptions
{
    /// <summary>How long passive health keeps a node out of rotation after a refused connection or a timeout (HTTP and
    /// TCP), or an ICMP port unreachable answer to a UDP datagram, in seconds (default 10).</summary>
    public int PassiveFailureHoldSeconds { get; set; } = 10;

    /// <summary>How often the host names of nodes (node addresses given by name within an allowed domain) are resolved
    /// again, in seconds (default 30, at least 1). A name is also resolved whenever a change is applied.</summary>
    public int NodeAddressRefreshSeconds { get; set; } = 30;

    /// <summary>The most time a connection to a node may take, in seconds; the load balancer's timeout caps it
    /// (default 5).</summary>
    public int ConnectTimeoutSeconds { get; set; } = 5;

    /// <summary>How long an idle pooled connection to a node is kept for reuse, in seconds (default 60).</summary>
    public int PooledConnectionIdleTimeoutSeconds { get; set; } = 60;

    /// <summary>The most connections Tether opens to one node of one load balancer at once, idle ones included
    /// (default 512; 0: no limit). A request that finds none free waits up to <see cref="NodeQueueTimeoutSeconds"/> for
    /// one (at most this many requests wait), then gets a 503: HAProxy's <c>maxconn</c> and <c>timeout queue</c>. Both
    /// data paths follow it (the Kestrel path through <c>SocketsHttpHandler.MaxConnectionsPerServer</c>).</summary>
    public int MaxConnectionsPerNode { get; set; } = 512;

    /// <summary>The most connections the data plane holds at once over every load balancer, client and node
    /// connections together (HAProxy's global <c>maxconn</c>; default 0: the open file limit, which <c>tether
    /// serve</c> raises to the hard limit at start, less 1,024 descriptors kept for the runtime). A client connection
    /// over it is closed at once, a node connection over it is not opened (503); both are logged and counted, and the
    /// process never runs out of descriptors (where the .NET runtime would abort it).</summary>
    public int MaxOpenConnections { get; set; }

    /// <summary>The budget of <see cref="MaxOpenConnections"/>, shared by every listener and node pool of the process
    /// (set at start; not a setting).</summary>
    internal Limits.ConnectionBudget Budget { get; } = new();

    /// <summary>How long a request waits for a connection to a node at <see cref="MaxConnectionsPerNode"/>, in seconds
    /// (default 5).</summary>
    public int NodeQueueTimeoutSeconds { get; set; } = 5;

    /// <summary>How long a client connection may stay idle between two requests before Tether closes it, in seconds
    /// (default 130, Kestrel's; counted as <c>keepAliveTimedOut</c> in the load balancer's statistics).</summary>
    public int KeepAliveTimeoutSeconds { get; set; } = 130;

    /// <summary>How long a client may take to send a request head once it started, in seconds (default 30, Kestrel's).</summary>
    public int RequestHeadersTimeoutSeconds { get; set; } = 30;

    /// <summary>Whether HTTP/1.1 requests are served by the fast path on Kestrel's connection layer (default true);
    /// false sends every request through Kestrel's HTTP stack and YARP's forwarder.</summary>
    public bool Http1FastPath { get; set; } = true;

    /// <summary>Whether the load balancers' listeners run their connection code on the socket's I/O thread instead of
    /// dispatching it to the thread pool (Kestrel's <c>UnsafePreferInlineScheduling</c>; default true), and
    /// <c>tether serve</c> turns on the runtime's inline socket completions
    /// (<c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1</c>, unless that variable is set): the event-loop model of
    /// HAProxy and nginx, one I/O thread per core. Tether's request path never blocks, so this saves two thread-pool
    /// hops per request (measured: 0.78× HAProxy instead of 0.5× with an HTTP_COOKIE; docs/benchmarks.md). The
    /// management API keeps the thread pool (its storage calls block).</summary>
    public bool InlineScheduling { get; set; } = true;

    /// <summary>How long a stopping listener waits for in-flight requests (HTTP) or open connections (TCP) before it
    /// aborts them, in seconds (default 30).</summary>
    public int ShutdownTimeoutSeconds { get; set; } = 30;

    /// <summary>The most UDP flows (client address and port pairs, each with its own socket to a node) one UDP listener
    /// keeps at once; datagrams that would open another are dropped until flows expire (default 10000).</summary>
    public int MaxUdpFlows { get; set; } = 10000;

    /// <summary>How often expired stick-table entries are purged, in seconds (default 10).</summary>
    public int PurgeIntervalSeconds { get; set; } = 10;

    /// <summary>How often stick tables (SOURCE_IP, APP_COOKIE, and the HTTP_COOKIE session view) are written to the
    /// store so that they survive a restart, in seconds (default 30; they are also written at shutdown).</summary>
    public int StickTableSaveIntervalSeconds { get; set; } = 30;

    /// <summary>The most health probes (issue 6) running at once over every load balancer (default 32); the others
    /// wait for a slot before their timeout starts.</summary>
    public int MaxConcurrentHealthProbes { get; set; } = 32;

    /// <summary>The memory the content cache may hold over every load balancer with content caching on, in megabytes
    /// (default 64): answers and their headers, estimated as ASP.NET Core's response caching does. Past it, new answers
    /// are not stored and the least recently used are evicted (docs/api.md "Content caching").</summary>
    public int ContentCacheSizeMegabytes { get; set; } = 64;

    /// <summary>The largest answer body the content cache stores, in kilobytes (default 2048: Rackspace's 2 MB per
    /// cached item); larger answers are relayed and not stored.</summary>
    public int ContentCacheMaxAnswerKilobytes { get; set; } = 2048;

    /// <summary>The data directory: connection logs go to <c>&lt;DataDirectory&gt;/logs/lb-&lt;id&gt;.log</c>. The host
    /// sets it to Tether's data directory; when null, connection log lines go to standard output.</summary>
    public string? DataDirectory { get; set; }

    /// <summary>Checks every setting's range: each time in seconds at least 1 (<see cref="PassiveFailureHoldSeconds"/>
    /// and <see cref="ShutdownTimeoutSeconds"/> at least 0), <see cref="MaxUdpFlows"/> and
    /// <see cref="MaxConcurrentHealthProbes"/> at least 1, <see cref="MaxConnectionsPerNode"/> at least 0.</summary>
    /// <returns>One message per invalid setting, naming it and its allowed range; empty when all are valid.</returns>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        void AtLeast(string name, int value, int minimum)
        {
            if (value < minimum)
            {
                errors.Add($"Proxy:{name} is {value}; it must be at least {minimum}.");
            }
        }

        AtLeast(nameof(PassiveFailureHoldSeconds), PassiveFailureHoldSeconds, 0);
        AtLeast(nameof(ConnectTimeoutSeconds), ConnectTimeoutSeconds, 1);
        AtLeast(nameof(NodeAddressRefreshSeconds), NodeAddressRefreshSeconds, 1);
        AtLeast(nameof(PooledConnectionIdleTimeoutSeconds), PooledConnectionIdleTimeoutSeconds, 1);
        AtLeast(nameof(KeepAliveTimeoutSeconds), KeepAliveTimeoutSeconds, 1);
        AtLeast(nameof(RequestHeadersTimeoutSeconds), RequestHeadersTimeoutSeconds, 1);
        AtLeast(nameof(ShutdownTimeoutSeconds), ShutdownTimeoutSeconds, 0);
        AtLeast(nameof(MaxUdpFlows), MaxUdpFlows, 1);
        AtLeast(nameof(PurgeIntervalSeconds), PurgeIntervalSeconds, 1);
        AtLeast(nameof(StickTableSaveIntervalSeconds), StickTableSaveIntervalSeconds, 1);
        AtLeast(nameof(MaxConcurrentHealthProbes), MaxConcurrentHealthProbes, 1);
        AtLeast(nameof(MaxConnectionsPerNode), MaxConnectionsPerNode, 0);
        AtLeast(nameof(MaxOpenConnections), MaxOpenConnections, 0);
        AtLeast(nameof(NodeQueueTimeoutSeconds), NodeQueueTimeoutSeconds, 1);
        AtLeast(nameof(ContentCacheSizeMegabytes), ContentCacheSizeMegabytes, 1);
        AtLeast(nameof(ContentCacheMaxAnswerKilobytes), ContentCacheMaxAnswerKilobytes, 1);
        return errors;
    }
}
