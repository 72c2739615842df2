using System.Net;
using Tether.Core.Model;

namespace Tether.Core.LoadBalancing;

/// <summary>
/// Long-lived, mutable counters of one node. They survive configuration changes (keyed by node id), so that
/// LEAST_CONNECTIONS and statistics keep counting while the runtime model is rebuilt. Every member is lock-free.
/// </summary>
public sealed class NodeCounters
{
    private int _active;
    private int _activeSsl;
    private long _requests;
    private long _failures;
    private long _unavailableUntil;
    private long _lastPersisted;
    private long _connectErrors;
    private long _connectTimeouts;
    private long _dataTimeouts;
    private long _noConnection;
    private int _maxActive;
    private long _connectErrorsSsl;
    private long _connectTimeoutsSsl;
    private long _dataTimeoutsSsl;
    private long _failuresSsl;
    private int _maxActiveSsl;
    private readonly long[] _responses = new long[600];
    private long _unpinnedBefore = long.MinValue;

    /// <summary>Requests (L7) or connections (L4) in flight to the node now, plain and SSL termination alike (what
    /// LEAST_CONNECTIONS compares).</summary>
    public int Active => Volatile.Read(ref _active) + Volatile.Read(ref _activeSsl);

    /// <summary>Requests in flight to the node now that came through the SSL termination (TLS) listener (Rackspace
    /// stats <c>currentConnSsl</c>); <see cref="Active"/> minus this is the plain traffic's <c>currentConn</c>.</summary>
    public int ActiveSsl => Volatile.Read(ref _activeSsl);

    /// <summary>Requests or connections sent to the node since Tether started.</summary>
    public long Requests => Volatile.Read(ref _requests);

    /// <summary>Connect failures and timeouts seen since Tether started.</summary>
    public long Failures => Volatile.Read(ref _failures);

    /// <summary>The <see cref="TimeProvider.GetTimestamp"/> value until which passive health keeps the node out
    /// of rotation (0: available).</summary>
    public long UnavailableUntil => Volatile.Read(ref _unavailableUntil);

    /// <summary>The <see cref="TimeProvider.GetTimestamp"/> value of the last request that session persistence sent
    /// to the node (0: none yet). While the node is DRAINING, this says when it was last needed.</summary>
    public long LastPersisted => Volatile.Read(ref _lastPersisted);

    /// <summary>HTTP_COOKIE: cookies for this node last used at or before this Unix time (seconds) are ignored, so
    /// that their clients are balanced afresh (the persistence API's unpin).</summary>
    public long UnpinnedBefore => Volatile.Read(ref _unpinnedBefore);

    /// <summary>Records that persistence sent a request to the node at <paramref name="now"/> (a timestamp).</summary>
    public void OnPersisted(long now)
    {
        if (Volatile.Read(ref _lastPersisted) != now)
        {
            Volatile.Write(ref _lastPersisted, now);
        }
    }

    /// <summary>Unpins the node's HTTP_COOKIE clients: cookies last used at or before <paramref name="unixSeconds"/>
    /// stop pinning.</summary>
    public void UnpinCookiesBefore(long unixSeconds) => Volatile.Write(ref _unpinnedBefore, unixSeconds);

    /// <summary>Counts an answer of the node by HTTP status code (100..599; others are not counted).
    /// Lock-free, no allocation.</summary>
    public void OnResponse(int statusCode)
    {
        if ((uint)statusCode < (uint)_responses.Length)
        {
            Interlocked.Increment(ref _responses[statusCode]);
        }
    }

    /// <summary>How many answers with <paramref name="statusCode"/> the node gave (for metrics).</summary>
    public long Responses(int statusCode) =>
        (uint)statusCode < (uint)_responses.Length ? Volatile.Read(ref _responses[statusCode]) : 0;

    /// <summary>Connections to the node that were refused or failed, for plain (not SSL termination) traffic
    /// (Rackspace stats <c>connectError</c>).</summary>
    public long ConnectErrors => Volatile.Read(ref _connectErrors);

    /// <summary>Connections to the node that did not complete in time, plain traffic (Rackspace stats
    /// <c>connectTimeOut</c>).</summary>
    public long ConnectTimeouts => Volatile.Read(ref _connectTimeouts);

    /// <summary>Requests whose answer stalled past the load balancer's timeout, plain traffic (Rackspace stats
    /// <c>dataTimedOut</c>).</summary>
    public long DataTimeouts => Volatile.Read(ref _dataTimeouts);

    /// <summary><see cref="ConnectErrors"/> for requests that came through the SSL termination listener (Rackspace
    /// stats <c>connectErrorSsl</c>).</summary>
    public long ConnectErrorsSsl => Volatile.Read(ref _connectErrorsSsl);

    /// <summary><see cref="ConnectTimeouts"/> for SSL termination traffic (Rackspace stats <c>connectTimeOutSsl</c>).</summary>
    public long ConnectTimeoutsSsl => Volatile.Read(ref _connectTimeoutsSsl);

    /// <summary><see cref="DataTimeouts"/> for SSL termination traffic (Rackspace stats <c>dataTimedOutSsl</c>).</summary>
    public long DataTimeoutsSsl => Volatile.Read(ref _dataTimeoutsSsl);

    /// <summary>Connect failures (refused or timed out) of SSL termination traffic: the part of <see cref="Failures"/>
    /// that came through the TLS listener (Rackspace stats <c>connectFailureSsl</c>).</summary>
    public long FailuresSsl => Volatile.Read(ref _failuresSsl);

    /// <summary>The most SSL termination requests in flight to the node at once since Tether started (Rackspace stats
    /// <c>maxConnSsl</c>).</summary>
    public int MaxActiveSsl => Volatile.Read(ref _maxActiveSsl);

    /// <summary>Requests that got no connection to the node from Tether's side: the per-node connection limit and its
    /// queue, or no file descriptor left (a 503; the node stays in rotation). Additive stats field
    /// <c>noConnection</c>.</summary>
    public long NoConnection => Volatile.Read(ref _noConnection);

    /// <summary>The most plain (not SSL termination) requests or connections in flight to the node at once since
    /// Tether started (Rackspace stats <c>maxConn</c>).</summary>
    public int MaxActive => Volatile.Read(ref _maxActive);

    /// <summary>Counts a failure of <paramref name="kind"/> of plain traffic (for statistics; passive health is
    /// <see cref="MarkUnavailable"/>).</summary>
    public void CountFailure(NodeFailure kind) => CountFailure(kind, ssl: false);

    /// <summary>Counts a failure of <paramref name="kind"/>; <paramref name="ssl"/>: the request came through the SSL
    /// termination listener, so it counts in the <c>...Ssl</c> statistics instead of the plain ones (a connect error or
    /// timeout also counts in <see cref="FailuresSsl"/>). Lock-free.</summary>
    public void CountFailure(NodeFailure kind, bool ssl)
    {
        switch (kind)
        {
            case NodeFailure.ConnectError:
                if (ssl)
                {
                    Interlocked.Increment(ref _failuresSsl);
                }

                Interlocked.Increment(ref ssl ? ref _connectErrorsSsl : ref _connectErrors);
                break;
            case NodeFailure.ConnectTimeout:
                if (ssl)
                {
                    Interlocked.Increment(ref _failuresSsl);
                }

                Interlocked.Increment(ref ssl ? ref _connectTimeoutsSsl : ref _connectTimeouts);
                break;
            case NodeFailure.NoConnection:
                Interlocked.Increment(ref _noConnection);
                break;
            default:
                Interlocked.Increment(ref ssl ? ref _dataTimeoutsSsl : ref _dataTimeouts);
                break;
        }
    }

    /// <summary>Counts a plain request or connection that starts on the node.</summary>
    public void OnStart() => OnStart(ssl: false);

    /// <summary>Counts a request or connection that starts on the node; <paramref name="ssl"/>: it came through the SSL
    /// termination listener (<see cref="ActiveSsl"/>, <see cref="MaxActiveSsl"/>). End it with
    /// <see cref="OnEnd(bool)"/> with the same flag.</summary>
    public void OnStart(bool ssl)
    {
        var active = Interlocked.Increment(ref ssl ? ref _activeSsl : ref _active);
        Interlocked.Increment(ref _requests);
        ref var maxField = ref ssl ? ref _maxActiveSsl : ref _maxActive;
        var max = Volatile.Read(ref maxField);
        while (active > max)
        {
            var seen = Interlocked.CompareExchange(ref maxField, active, max);
            if (seen == max)
            {
                break;
            }

            max = seen;
        }
    }

    /// <summary>Counts the end of a plain request or connection started with <see cref="OnStart()"/>.</summary>
    public void OnEnd() => Interlocked.Decrement(ref _active);

    /// <summary>Counts the end of a request or connection started with <see cref="OnStart(bool)"/>.</summary>
    public void OnEnd(bool ssl) => Interlocked.Decrement(ref ssl ? ref _activeSsl : ref _active);

    /// <summary>Passive health: keeps the node out of rotation until the timestamp <paramref name="until"/>.</summary>
    public void MarkUnavailable(long until)
    {
        Interlocked.Increment(ref _failures);
        Volatile.Write(ref _unavailableUntil, until);
    }

    /// <summary>Passive health: the node answered; it is available again at once.</summary>
    public void MarkAvailable()
    {
        if (Volatile.Read(ref _unavailableUntil) != 0)
        {
            Volatile.Write(ref _unavailableUntil, 0);
        }
    }
}

/// <summary>How a node failed, for the statistics (Rackspace <c>/stats</c>).</summary>
public enum NodeFailure
{
    /// <summary>The connection was refused or failed.</summary>
    ConnectError,
    /// <summary>The connection did not complete within the connect timeout.</summary>
    ConnectTimeout,
    /// <summary>The answer stalled past the load balancer's timeout.</summary>
    DataTimeout,
    /// <summary>No connection could be opened on Tether's side: the per-node connection limit (after its queue) or
    /// no file descriptor left. Says nothing about the node.</summary>
    NoConnection,
}

/// <summary>
/// One node as the runtime model sees it: its configuration at the time the model was built, values derived from it
/// off the hot path, and its long-lived <see cref="NodeCounters"/>.
/// </summary>
public sealed class NodeState
{
    /// <summary>Creates the runtime view of <paramref name="config"/> sharing <paramref name="counters"/>.</summary>
    /// <param name="config">The node; its <c>Address</c> an IP literal or a host name.</param>
    /// <param name="counters">The node's long-lived counters.</param>
    /// <param name="resolved">For a host name: the address it resolved to (see <see cref="Runtime.NodeAddressResolver"/>),
    /// or null when it did not resolve, which makes the node unavailable (never a fallback address). Ignored for an IP
    /// literal.</param>
    public NodeState(NodeConfig config, NodeCounters counters, IPAddress? resolved = null)
    {
        Config = config;
        Counters = counters;
        Id = config.Id;
        Weight = config.Weight < 1 ? 1 : config.Weight;
        Condition = config.Condition;
        var isName = !IPAddress.TryParse(config.Address, out var ip);
        IsHostName = isName;
        if (isName)
        {
            ip = resolved;
        }

        IsResolved = ip is not null;
        IsOnline = config.Status == NodeStatus.Online && IsResolved;
        // An unresolved name gets the broadcast address as a placeholder: never a destination, since the node is not
        // online and so never selected nor probed.
        ip ??= IPAddress.None;
        var isV6 = ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6;
        EndPoint = new IPEndPoint(ip, config.Port);
        DestinationPrefix = isV6 ? $"http://[{ip}]:{config.Port}/" : $"http://{ip}:{config.Port}/";
        // Consistent hashing keys on the node's identity as configured (a host name, not what it resolves to), so a
        // DNS change does not move clients.
        HashKey = isName ? $"{config.Address.ToLowerInvariant()}:{config.Port}"
            : isV6 ? $"[{config.Address}]:{config.Port}" : $"{config.Address}:{config.Port}";
    }

    /// <summary>True when the node's address is a host name (resolved by the data plane) rather than an IP literal.</summary>
    public bool IsHostName { get; }

    /// <summary>False when the node's host name did not resolve: the node is then not online (unavailable, not
    /// probed). Always true for an IP literal.</summary>
    public bool IsResolved { get; }

    /// <summary>The node configuration this view was built from.</summary>
    public NodeConfig Config { get; }

    /// <summary>The node id.</summary>
    public int Id { get; }

    /// <summary>The weight, 1 to 100.</summary>
    public int Weight { get; }

    /// <summary>The operator's condition.</summary>
    public NodeCondition Condition { get; }

    /// <summary>True unless health monitoring set the node OFFLINE or its host name did not resolve.</summary>
    public bool IsOnline { get; }

    /// <summary>The node's address and port (for a host name: the address it resolved to).</summary>
    public IPEndPoint EndPoint { get; }

    /// <summary>The HTTP destination prefix, for example <c>http://10.0.0.1:80/</c>.</summary>
    public string DestinationPrefix { get; }

    /// <summary>The stable identity used by consistent hashing: <c>address:port</c> as configured (a host name in lower
    /// case, not its resolved address), identical on every instance.</summary>
    public string HashKey { get; }

    /// <summary>The node's long-lived counters.</summary>
    public NodeCounters Counters { get; }

    /// <summary>True when the node may take a new (unpinned) request or connection: ENABLED, ONLINE, and not held
    /// out by passive health at <paramref name="now"/> (a <see cref="TimeProvider.GetTimestamp"/> value).</summary>
    public bool IsAvailable(long now) =>
        Condition == NodeCondition.Enabled && IsOnline && now >= Counters.UnavailableUntil;

    /// <summary>True when the node may take a request pinned to it by session persistence: ENABLED or DRAINING
    /// (seeds 000, 002: a draining node keeps its persisted sessions), ONLINE, and not held out by passive health.</summary>
    public bool CanServePinned(long now) =>
        Condition != NodeCondition.Disabled && IsOnline && now >= Counters.UnavailableUntil;
}
