using System.Collections.Immutable;

namespace Tether.Core.Model;

/// <summary>
/// The stored, immutable configuration of one load balancer: what the management API accepted and the store holds.
/// A change produces a new instance (<c>with</c>); the data plane builds its runtime model from it.
/// Shapes follow the Rackspace Cloud Load Balancers API v1.0 (docs/api.md).
/// </summary>
public sealed record LoadBalancerConfig
{
    /// <summary>The load balancer id, unique across accounts.</summary>
    public required int Id { get; init; }

    /// <summary>The account (tenant) that owns the load balancer; other accounts see 404.</summary>
    public required int AccountId { get; init; }

    /// <summary>Name, 1 to 128 characters (Rackspace NAME_LIMIT).</summary>
    public required string Name { get; init; }

    /// <summary>Protocol name from <see cref="Protocols"/>, for example <c>HTTP</c>.</summary>
    public required string Protocol { get; init; }

    /// <summary>Listening port, 1 to 65535.</summary>
    public required int Port { get; init; }

    /// <summary>Algorithm name from <see cref="LoadBalancing.AlgorithmNames"/>; RANDOM by default.</summary>
    public string Algorithm { get; init; } = LoadBalancing.AlgorithmNames.Random;

    /// <summary>The backend timeout a load balancer gets when none is given, in seconds (Rackspace: 30). The one
    /// default: the API's create and every configuration built without a timeout use it.</summary>
    public const int DefaultTimeoutSeconds = 30;

    /// <summary>Backend timeout in seconds (1 to 120, default <see cref="DefaultTimeoutSeconds"/>): the idle time
    /// allowed while waiting on a node.</summary>
    public int TimeoutSeconds { get; init; } = DefaultTimeoutSeconds;

    /// <summary>TCP half-close support (L4 only).</summary>
    public bool HalfClosed { get; init; }

    /// <summary>Redirect plain HTTP to HTTPS (needs SSL termination).</summary>
    public bool HttpsRedirect { get; init; }

    /// <summary>Status: ACTIVE, BUILD, PENDING_UPDATE, PENDING_DELETE, SUSPENDED, ERROR, DELETED.</summary>
    public string Status { get; init; } = LoadBalancerStatus.Active;

    /// <summary>When the load balancer was created (UTC).</summary>
    public required DateTimeOffset Created { get; init; }

    /// <summary>When the load balancer was last changed (UTC).</summary>
    public required DateTimeOffset Updated { get; init; }

    /// <summary>The virtual IPs the load balancer listens on (at least one).</summary>
    public ImmutableArray<VirtualIpConfig> VirtualIps { get; init; } = [];

    /// <summary>The nodes (at most 25, Rackspace NODE_LIMIT).</summary>
    public ImmutableArray<NodeConfig> Nodes { get; init; } = [];

    /// <summary>Session persistence, or <c>null</c> when disabled.</summary>
    public SessionPersistenceConfig? SessionPersistence { get; init; }

    /// <summary>SSL termination, or <c>null</c> when not configured (HTTP load balancers only).</summary>
    public SslTerminationConfig? SslTermination { get; init; }

    /// <summary>Active health monitoring, or <c>null</c> when none (every node is then ONLINE).</summary>
    public HealthMonitorConfig? HealthMonitor { get; init; }

    /// <summary>The access list (at most 100 items, Rackspace ACCESS_LIST_LIMIT); empty lets every client in.</summary>
    public ImmutableArray<AccessListItem> AccessList { get; init; } = [];

    /// <summary>Connection throttling, or <c>null</c> when not configured.</summary>
    public ConnectionThrottleConfig? ConnectionThrottle { get; init; }

    /// <summary>Whether connection logging (the access log) is on.</summary>
    public bool ConnectionLogging { get; init; }

    /// <summary>The custom error page (HTML, at most 65536 characters), or <c>null</c> for the default page. HTTP load
    /// balancers only.</summary>
    public string? ErrorPage { get; init; }

    /// <summary>Free-form metadata items (at most 25, Rackspace LOADBALANCER_META_LIMIT; keys unique).</summary>
    public ImmutableArray<MetadataItem> Metadata { get; init; } = [];

    /// <summary>Content caching (Rackspace v1.0 <c>contentCaching.enabled</c>; HTTP load balancers only): the load
    /// balancer keeps cacheable answers of its nodes in memory and serves them again without reaching a node
    /// (docs/api.md "Content caching"). Off by default.</summary>
    public bool ContentCaching { get; init; }

    /// <summary>Slow start, in seconds (0 = off, the default; at most 3600): a node that comes ONLINE (health
    /// monitoring) or ENABLED (condition change, or added) ramps its effective weight from 5 % to 100 % over this
    /// many seconds, as nginx's <c>slow_start</c> and HAProxy's <c>slowstart</c> do, so that new clients do not flood
    /// it (docs/operations.md "Slow start"). Additive to the Rackspace API: <c>slowStartSeconds</c>.</summary>
    public int SlowStartSeconds { get; init; }
}

/// <summary>A load balancer status value (Rackspace names).</summary>
public static class LoadBalancerStatus
{
    /// <summary>Configured and serving.</summary>
    public const string Active = "ACTIVE";
    /// <summary>Being built.</summary>
    public const string Build = "BUILD";
    /// <summary>A change is being applied.</summary>
    public const string PendingUpdate = "PENDING_UPDATE";
    /// <summary>Being deleted.</summary>
    public const string PendingDelete = "PENDING_DELETE";
    /// <summary>Suspended by the operator.</summary>
    public const string Suspended = "SUSPENDED";
    /// <summary>The configuration could not be applied (for example its port could not be bound at start-up).</summary>
    public const string Error = "ERROR";
    /// <summary>Deleted.</summary>
    public const string Deleted = "DELETED";
}

/// <summary>One backend node of a load balancer.</summary>
public sealed record NodeConfig
{
    /// <summary>Node id, unique across load balancers.</summary>
    public required int Id { get; init; }

    /// <summary>IPv4 or IPv6 address (immutable after creation).</summary>
    public required string Address { get; init; }

    /// <summary>Port 1 to 65535 (immutable after creation).</summary>
    public required int Port { get; init; }

    /// <summary>Set by the operator: ENABLED takes traffic; DRAINING only persisted sessions; DISABLED nothing.</summary>
    public NodeCondition Condition { get; init; } = NodeCondition.Enabled;

    /// <summary>PRIMARY, or SECONDARY (only used while no PRIMARY node can take traffic).</summary>
    public NodeType Type { get; init; } = NodeType.Primary;

    /// <summary>Weight 1 to 100 for the weighted algorithms (default 1).</summary>
    public int Weight { get; init; } = 1;

    /// <summary>Set by health monitoring; read-only in the API.</summary>
    public NodeStatus Status { get; init; } = NodeStatus.Online;

    /// <summary>Free-form metadata items of the node (at most 25, Rackspace NODE_META_LIMIT; keys unique per node).
    /// Not used by the data plane.</summary>
    public ImmutableArray<MetadataItem> Metadata { get; init; } = [];

    /// <summary>When the node became DRAINING (UTC), while it is; <c>null</c> otherwise. Set by the management
    /// service when a change makes the condition DRAINING (issue 13, drain progress); read-only in the API
    /// (<c>drainingSince</c>).</summary>
    public DateTimeOffset? DrainingSince { get; init; }
}

/// <summary>Node condition, set by the operator (Rackspace v1.0).</summary>
public enum NodeCondition
{
    /// <summary>Takes new and persisted traffic.</summary>
    Enabled,
    /// <summary>Takes nothing.</summary>
    Disabled,
    /// <summary>Takes only requests pinned to it by session persistence, and keeps established connections.</summary>
    Draining,
}

/// <summary>Node type (Rackspace v1.0).</summary>
public enum NodeType
{
    /// <summary>A regular node.</summary>
    Primary,
    /// <summary>A backup node, used only while no PRIMARY node can take traffic.</summary>
    Secondary,
}

/// <summary>Node status, set by health monitoring.</summary>
public enum NodeStatus
{
    /// <summary>Passing health checks (or not monitored).</summary>
    Online,
    /// <summary>Failed health checks; gets no traffic.</summary>
    Offline,
}

/// <summary>Virtual IP type (Rackspace v1.0).</summary>
public enum VirtualIpType
{
    /// <summary>Bound on the configured public address.</summary>
    Public,
    /// <summary>Bound on the configured private (ServiceNet) address.</summary>
    ServiceNet,
}

/// <summary>A virtual IP: the address clients connect to. Several load balancers may share one on different ports.</summary>
public sealed record VirtualIpConfig
{
    /// <summary>Virtual IP id, shared by every load balancer that uses the address.</summary>
    public required int Id { get; init; }

    /// <summary>The address bound, for example <c>0.0.0.0</c> or <c>127.0.0.1</c>.</summary>
    public required string Address { get; init; }

    /// <summary>PUBLIC or SERVICENET.</summary>
    public required VirtualIpType Type { get; init; }

    /// <summary><c>IPV4</c> or <c>IPV6</c>.</summary>
    public string IpVersion { get; init; } = "IPV4";
}

/// <summary>A metadata key/value pair of a load balancer or a node (Rackspace v1.0 "meta"): key and value 1 to 256
/// characters; the id is unique across load balancers and nodes and never reused.</summary>
public sealed record MetadataItem(int Id, string Key, string Value);
