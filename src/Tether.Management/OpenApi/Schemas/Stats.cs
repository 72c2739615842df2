namespace Tether.Management.OpenApi.Schemas;

/// <summary><c>GET /stats</c>: Rackspace's connection statistics, plus persistence outcomes and per-node figures.</summary>
internal sealed class LoadBalancerStats
{
    /// <summary>Connections that timed out connecting to a node.</summary>
    public required long ConnectTimeOut { get; init; }

    /// <summary>Connection errors towards nodes.</summary>
    public required long ConnectError { get; init; }

    /// <summary>Connection failures.</summary>
    public required long ConnectFailure { get; init; }

    /// <summary>Connections closed for a data timeout.</summary>
    public required long DataTimedOut { get; init; }

    /// <summary>Keep-alive connections that timed out.</summary>
    public required long KeepAliveTimedOut { get; init; }

    /// <summary>Most concurrent connections.</summary>
    public required long MaxConn { get; init; }

    /// <summary>Concurrent connections now.</summary>
    public required long CurrentConn { get; init; }

    /// <summary>As <c>connectTimeOut</c>, TLS listener.</summary>
    public required long ConnectTimeOutSsl { get; init; }

    /// <summary>As <c>connectError</c>, TLS listener.</summary>
    public required long ConnectErrorSsl { get; init; }

    /// <summary>As <c>connectFailure</c>, TLS listener.</summary>
    public required long ConnectFailureSsl { get; init; }

    /// <summary>As <c>dataTimedOut</c>, TLS listener.</summary>
    public required long DataTimedOutSsl { get; init; }

    /// <summary>As <c>keepAliveTimedOut</c>, TLS listener.</summary>
    public required long KeepAliveTimedOutSsl { get; init; }

    /// <summary>As <c>maxConn</c>, TLS listener.</summary>
    public required long MaxConnSsl { get; init; }

    /// <summary>As <c>currentConn</c>, TLS listener.</summary>
    public required long CurrentConnSsl { get; init; }

    /// <summary>Requests that found no node.</summary>
    public required long NoConnection { get; init; }

    /// <summary>Persistence outcomes.</summary>
    public required PersistenceStats Persistence { get; init; }

    /// <summary>Per node.</summary>
    public required IReadOnlyList<NodeStats> Nodes { get; init; }
}

/// <summary>Counts of session persistence decisions.</summary>
internal sealed class PersistenceStats
{
    /// <summary>Sent to the pinned node.</summary>
    public required long Hit { get; init; }

    /// <summary>Sent by hash.</summary>
    public required long Hashed { get; init; }

    /// <summary>Balanced (no pin yet).</summary>
    public required long Miss { get; init; }

    /// <summary>Pinned again to another node.</summary>
    public required long Repinned { get; init; }

    /// <summary>Refused (disableFallback).</summary>
    public required long Rejected { get; init; }

    /// <summary>No node could take the request.</summary>
    public required long NoNodeAvailable { get; init; }
}

/// <summary>One node's figures.</summary>
internal sealed class NodeStats
{
    /// <summary>The node.</summary>
    public required int Id { get; init; }

    /// <summary>Requests (or connections) sent to it.</summary>
    public required long Requests { get; init; }

    /// <summary>In flight now.</summary>
    public required long ActiveConnections { get; init; }

    /// <summary>Failures.</summary>
    public required long Failures { get; init; }

    /// <summary>Its share of the requests, 0 to 1.</summary>
    public required double Share { get; init; }

    /// <summary>Its share of the weight of ENABLED nodes, 0 to 1.</summary>
    public required double WeightShare { get; init; }
}
