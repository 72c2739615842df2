namespace Tether.Management.OpenApi.Schemas;

/// <summary>A node (<c>Endpoints/Representations.cs</c>, <c>Endpoints/DrainFields.cs</c>): <c>{"id","address","port",
/// "condition","status","weight","type"}</c>, plus the live fields when the load balancer runs.</summary>
internal sealed class Node
{
    /// <summary>The node's id.</summary>
    public required int Id { get; init; }

    /// <summary>IP address or host name of the back-end server.</summary>
    public required string Address { get; init; }

    /// <summary>Its port.</summary>
    public required int Port { get; init; }

    /// <summary><c>ENABLED</c>, <c>DRAINING</c> or <c>DISABLED</c>.</summary>
    public required string Condition { get; init; }

    /// <summary><c>ONLINE</c> or <c>OFFLINE</c> (health monitoring), as the live data plane sees it.</summary>
    public required string Status { get; init; }

    /// <summary>Weight, 1 to 100 (weighted algorithms).</summary>
    public required int Weight { get; init; }

    /// <summary><c>PRIMARY</c> or <c>SECONDARY</c>.</summary>
    public required string Type { get; init; }

    /// <summary>Tether's (issue 13): when the node became DRAINING, ISO 8601 UTC; only while DRAINING.</summary>
    public string? DrainingSince { get; init; }

    /// <summary>The node's metadata; only when it has items.</summary>
    public IReadOnlyList<MetadataItem>? Metadata { get; init; }

    /// <summary>Live: clients pinned to the node now (node list and node, with a running load balancer).</summary>
    public int? PersistedSessions { get; init; }

    /// <summary>Live: requests in flight (HTTP) or open connections (layer 4).</summary>
    public int? ActiveConnections { get; init; }

    /// <summary>Live, DRAINING only: both counts reached zero.</summary>
    public bool? Drained { get; init; }

    /// <summary>Live, node list, DRAINING only: when persistence last sent the node a request.</summary>
    public TimeStamp? LastPinnedRequest { get; init; }
}

/// <summary><c>{"nodes":[...],"links"?:[...]}</c>: a page of <c>GET /nodes</c>, or the nodes a POST created.</summary>
internal sealed class NodeList
{
    /// <summary>The nodes, by id.</summary>
    public required IReadOnlyList<Node> Nodes { get; init; }

    /// <summary>The next and previous pages, when there are any.</summary>
    public IReadOnlyList<Link>? Links { get; init; }
}

/// <summary><c>{"node":{...}}</c>.</summary>
internal sealed class NodeEnvelope
{
    /// <summary>The node.</summary>
    public required Node Node { get; init; }
}

/// <summary>Rackspace's node service events of <c>GET /nodes/events</c>: <c>{"nodeServiceEvents":[...],"links":[]}</c>
/// (the last 1000 status changes, oldest first).</summary>
internal sealed class NodeServiceEventList
{
    /// <summary>The events.</summary>
    public required IReadOnlyList<NodeServiceEvent> NodeServiceEvents { get; init; }

    /// <summary>Always empty.</summary>
    public required IReadOnlyList<Link> Links { get; init; }
}

/// <summary>One node status change, in Rackspace's shape.</summary>
internal sealed class NodeServiceEvent
{
    /// <summary>The event's id.</summary>
    public required long Id { get; init; }

    /// <summary>Why the status changed (the health monitor's finding).</summary>
    public required string DetailedMessage { get; init; }

    /// <summary>The node.</summary>
    public required int NodeId { get; init; }

    /// <summary><c>UPDATE_NODE</c>.</summary>
    public required string Type { get; init; }

    /// <summary>What happened, in words.</summary>
    public required string Description { get; init; }

    /// <summary><c>UPDATE</c>.</summary>
    public required string Category { get; init; }

    /// <summary><c>INFO</c>.</summary>
    public required string Severity { get; init; }

    /// <summary>The node's events path.</summary>
    public required string RelativeUri { get; init; }

    /// <summary>The account.</summary>
    public required int AccountId { get; init; }

    /// <summary>The load balancer.</summary>
    public required int LoadbalancerId { get; init; }

    /// <summary><c>Node Status Updated</c> or <c>Node Drained</c>.</summary>
    public required string Title { get; init; }

    /// <summary><c>Tether</c>.</summary>
    public required string Author { get; init; }

    /// <summary>When, ISO 8601 UTC.</summary>
    public required string Created { get; init; }

    /// <summary>The host name of the instance that saw it.</summary>
    public required string CallbackHost { get; init; }
}
