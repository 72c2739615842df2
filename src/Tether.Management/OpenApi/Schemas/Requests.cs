namespace Tether.Management.OpenApi.Schemas;

/// <summary>The body of <c>POST /loadbalancers</c> and <c>PUT /loadbalancers/{id}</c>: <c>{"loadBalancer":{...}}</c>
/// (the root key may be left out; docs/api.md). Unknown fields are a 400 naming them.</summary>
internal sealed class LoadBalancerRequestEnvelope
{
    /// <summary>The load balancer.</summary>
    public required LoadBalancerRequest LoadBalancer { get; init; }
}

/// <summary>A load balancer to create (name, protocol, port, virtualIps and nodes required) or the fields to change
/// (PUT: name, algorithm, protocol, port, timeout, halfClosed, httpsRedirect, slowStartSeconds).</summary>
internal sealed class LoadBalancerRequest
{
    /// <summary>1 to 128 characters.</summary>
    public string? Name { get; init; }

    /// <summary>A protocol of <c>/loadbalancers/protocols</c>.</summary>
    public string? Protocol { get; init; }

    /// <summary>1 to 65535.</summary>
    public int? Port { get; init; }

    /// <summary>An algorithm of <c>/loadbalancers/algorithms</c> (default <c>RANDOM</c>).</summary>
    public string? Algorithm { get; init; }

    /// <summary>Seconds, 1 to 120 (default 30).</summary>
    public int? Timeout { get; init; }

    /// <summary>Keep half-closed TCP connections.</summary>
    public bool? HalfClosed { get; init; }

    /// <summary>Redirect HTTP to HTTPS.</summary>
    public bool? HttpsRedirect { get; init; }

    /// <summary>Tether's (issue 13): seconds over which a returning node ramps up (0: off).</summary>
    public int? SlowStartSeconds { get; init; }

    /// <summary>Create: <c>[{"type":"PUBLIC"|"SERVICENET"}]</c>, <c>[{"ipVersion":"IPV6","type":"PUBLIC"}]</c> or
    /// <c>[{"id":N}]</c> to share one.</summary>
    public IReadOnlyList<VirtualIpRequest>? VirtualIps { get; init; }

    /// <summary>Create: the nodes (at most 25).</summary>
    public IReadOnlyList<NodeRequest>? Nodes { get; init; }

    /// <summary>Create: session persistence.</summary>
    public SessionPersistence? SessionPersistence { get; init; }

    /// <summary>Create: a health monitor.</summary>
    public HealthMonitor? HealthMonitor { get; init; }

    /// <summary>Create: metadata items <c>[{"key","value"}]</c>.</summary>
    public IReadOnlyList<MetadataItem>? Metadata { get; init; }

    /// <summary>Create: connection logging.</summary>
    public EnabledFlag? ConnectionLogging { get; init; }

    /// <summary>Create: the access list.</summary>
    public IReadOnlyList<NetworkItem>? AccessList { get; init; }

    /// <summary>Create: a connection throttle.</summary>
    public ConnectionThrottle? ConnectionThrottle { get; init; }

    /// <summary>Create: content caching.</summary>
    public EnabledFlag? ContentCaching { get; init; }
}

/// <summary>A virtual IP to give a load balancer (create), or to add (POST <c>/virtualips</c>:
/// <c>{"ipVersion":"IPV6","type":"PUBLIC"}</c>).</summary>
internal sealed class VirtualIpRequest
{
    /// <summary>An existing virtual IP's id, to share it (create only).</summary>
    public int? Id { get; init; }

    /// <summary><c>PUBLIC</c> or <c>SERVICENET</c>.</summary>
    public string? Type { get; init; }

    /// <summary><c>IPV4</c> (default) or <c>IPV6</c>.</summary>
    public string? IpVersion { get; init; }
}

/// <summary>A node to add: <c>{"address","port","condition","type"?,"weight"?,"metadata"?}</c>.</summary>
internal sealed class NodeRequest
{
    /// <summary>IP address or host name (in an allowed domain).</summary>
    public required string Address { get; init; }

    /// <summary>1 to 65535.</summary>
    public required int Port { get; init; }

    /// <summary><c>ENABLED</c>, <c>DRAINING</c> or <c>DISABLED</c>.</summary>
    public required string Condition { get; init; }

    /// <summary><c>PRIMARY</c> (default) or <c>SECONDARY</c>.</summary>
    public string? Type { get; init; }

    /// <summary>1 to 100 (default 1).</summary>
    public int? Weight { get; init; }

    /// <summary>Metadata items <c>[{"key","value"}]</c>.</summary>
    public IReadOnlyList<MetadataItem>? Metadata { get; init; }
}

/// <summary>The body of <c>POST /nodes</c>: <c>{"nodes":[...]}</c> (a bare array, <c>{"node":{...}}</c> or a bare
/// node are read too).</summary>
internal sealed class NodeListRequest
{
    /// <summary>The nodes to add.</summary>
    public required IReadOnlyList<NodeRequest> Nodes { get; init; }
}

/// <summary>The body of <c>PUT /nodes/{nodeId}</c>: <c>{"node":{"condition"?,"type"?,"weight"?}}</c> (root key
/// optional; address and port cannot change).</summary>
internal sealed class NodeUpdateEnvelope
{
    /// <summary>The fields to change.</summary>
    public required NodeUpdate Node { get; init; }
}

/// <summary>The fields of a node that change.</summary>
internal sealed class NodeUpdate
{
    /// <summary><c>ENABLED</c>, <c>DRAINING</c> or <c>DISABLED</c>.</summary>
    public string? Condition { get; init; }

    /// <summary><c>PRIMARY</c> or <c>SECONDARY</c>.</summary>
    public string? Type { get; init; }

    /// <summary>1 to 100.</summary>
    public int? Weight { get; init; }
}
