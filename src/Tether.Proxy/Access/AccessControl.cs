using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Tether.Core.LoadBalancing;
using Tether.Core.Model;
using Tether.Core.Runtime;
using Tether.Core.SessionPersistence;

namespace Tether.Proxy.Access;

/// <summary>The verdict on a new client connection.</summary>
internal enum ConnectionVerdict
{
    /// <summary>Let in (and counted, when the throttle is on).</summary>
    Allowed,
    /// <summary>The access list refuses the client: the connection is closed at once.</summary>
    Denied,
    /// <summary>The client already holds <see cref="AccessPolicy.MaxConnections"/> connections: TCP closes the
    /// connection, HTTP answers 503 with <c>Connection: close</c>.</summary>
    OverLimit,
}

/// <summary>
/// The access list, connection throttle, error page and connection log of one load balancer, checked on the
/// connection path of its HTTP and TCP listeners (issue 6), before anything else (no persistence or node decision is
/// made for a refused client).
/// </summary>
/// <remarks>
/// <para>Access list (Rackspace): checked when a connection is accepted, on HTTP (plain and TLS, before the handshake)
/// and TCP listeners alike; a refused client's connection is closed without an answer (no 403), so an HTTP client
/// cannot tell a refusal from a closed port, as with Rackspace.</para>
/// <para>Throttle: the concurrent connections of each client address (<see cref="ClientAddress.ToKey"/>) are counted
/// in a <see cref="ConcurrentDictionary{TKey,TValue}"/> with compare-and-swap updates, on connection open and close
/// only; a connection over <see cref="AccessPolicy.MaxConnections"/> is not counted. Connections opened while the
/// throttle was off are never counted, so turning it on counts from then on.</para>
/// </remarks>
internal sealed class AccessControl : IAsyncDisposable
{
    /// <summary>The key of the connection item that marks an HTTP connection over the throttle limit.</summary>
    private static readonly object OverLimitKey = new();

    private readonly ConcurrentDictionary<UInt128, int> _connections = new();
    private readonly ProxyOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly object _writerLock = new();
    private volatile AccessPolicy _policy;
    private volatile AccessLogWriter? _writer;

    /// <param name="config">The load balancer.</param>
    /// <param name="options">The data plane's settings.</param>
    /// <param name="logger">Where refusals are logged.</param>
    /// <param name="time">The clock of the connection log (its times, and the totals measured from the timestamps
    /// given to <see cref="LogHttp"/> and <see cref="LogTcp"/>); the system clock when null.</param>
    public AccessControl(LoadBalancerConfig config, ProxyOptions options, ILogger logger, TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        _options = options;
        _logger = logger;
        _policy = AccessPolicy.From(config);
    }

    /// <summary>The current policy (one volatile read).</summary>
    public AccessPolicy Policy => _policy;

    /// <summary>The connection log writer while logging is or was on, for tests and statistics.</summary>
    public AccessLogWriter? Writer => _writer;

    /// <summary>Concurrent connections counted for <paramref name="clientKey"/> (tests, statistics).</summary>
    public int ConnectionsOf(UInt128 clientKey) => _connections.TryGetValue(clientKey, out var n) ? n : 0;

    /// <summary>Publishes the policy of <paramref name="config"/> (off the request path) and starts the log writer
    /// the first time logging is turned on.</summary>
    public void Apply(LoadBalancerConfig config)
    {
        var policy = AccessPolicy.From(config);
        if (policy.LoggingEnabled && _writer is null)
        {
            lock (_writerLock)
            {
                _writer ??= new AccessLogWriter(config.Id, _options, _logger);
            }
        }

        _policy = policy;
    }

    /// <summary>Decides on a new connection from <paramref name="clientKey"/>; <paramref name="counted"/> says whether
    /// <see cref="Leave"/> must be called when it closes. No lock; allocates only when a client gets its first
    /// counted connection.</summary>
    public ConnectionVerdict Enter(AccessPolicy policy, UInt128 clientKey, out bool counted)
    {
        counted = false;
        if (!policy.Matcher.IsEmpty && !policy.Matcher.IsAllowed(clientKey))
        {
            return ConnectionVerdict.Denied;
        }

        var max = policy.MaxConnections;
        if (max <= 0)
        {
            return ConnectionVerdict.Allowed;
        }

        while (true)
        {
            if (_connections.TryGetValue(clientKey, out var current))
            {
                if (current >= max)
                {
                    return ConnectionVerdict.OverLimit;
                }

                if (_connections.TryUpdate(clientKey, current + 1, current))
                {
                    counted = true;
                    return ConnectionVerdict.Allowed;
                }
            }
            else if (_connections.TryAdd(clientKey, 1))
            {
                counted = true;
                return ConnectionVerdict.Allowed;
            }
        }
    }

    /// <summary>A counted connection of <paramref name="clientKey"/> closed; the entry goes when it reaches zero.</summary>
    public void Leave(UInt128 clientKey)
    {
        while (_connections.TryGetValue(clientKey, out var current))
        {
            if (current <= 1
                ? _connections.TryRemove(new KeyValuePair<UInt128, int>(clientKey, current))
                : _connections.TryUpdate(clientKey, current - 1, current))
            {
                return;
            }
        }
    }

    /// <summary>Kestrel connection middleware of the load balancer's HTTP listeners (placed before TLS): applies the
    /// access list and the throttle when the connection is accepted. A refused connection is closed; one over the
    /// throttle limit goes on marked, and <see cref="IsOverLimit(AccessPolicy, HttpContext)"/> makes its requests answer 503.</summary>
    public ConnectionDelegate HttpConnectionMiddleware(ConnectionDelegate next) => async connection =>
    {
        var policy = _policy;
        if (policy.Matcher.IsEmpty && policy.MaxConnections <= 0)
        {
            await next(connection).ConfigureAwait(false);
            return;
        }

        var remote = connection.RemoteEndPoint as IPEndPoint;
        var key = ClientAddress.ToKey(remote?.Address);
        var verdict = Enter(policy, key, out var counted);
        if (verdict == ConnectionVerdict.Denied)
        {
            LogRefused(policy, remote);
            return;
        }

        if (verdict == ConnectionVerdict.OverLimit)
        {
            connection.Items[OverLimitKey] = OverLimitKey;
        }

        try
        {
            await next(connection).ConfigureAwait(false);
        }
        finally
        {
            if (counted)
            {
                Leave(key);
            }
        }
    };

    /// <summary>True when the request's connection was accepted over the throttle limit. One feature lookup and one
    /// dictionary lookup; nothing when the throttle is off.</summary>
    public static bool IsOverLimit(AccessPolicy policy, HttpContext context) =>
        policy.MaxConnections > 0
        && context.Features.Get<IConnectionItemsFeature>() is { } items
        && items.Items.ContainsKey(OverLimitKey);

    /// <summary>True when <paramref name="connection"/> was accepted over the throttle limit (one dictionary lookup).</summary>
    public static bool IsOverLimit(ConnectionContext connection) => connection.Items.ContainsKey(OverLimitKey);

    /// <summary>Writes Tether's own error answer with the load balancer's error page for <paramref name="status"/>
    /// (text/html; <see cref="AccessPolicy.ErrorPageFor"/>).</summary>
    public static Task WriteErrorPageAsync(AccessPolicy policy, HttpContext context, int status)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = "text/html; charset=utf-8";
        response.Headers.CacheControl = "no-store";
        var page = policy.ErrorPageFor(status);
        response.ContentLength = page.Length;
        return response.Body.WriteAsync(page, 0, page.Length, context.RequestAborted);
    }

    /// <summary>Queues the log line of an HTTP request (when logging is on), on either data path. Never blocks.</summary>
    /// <param name="policy">The policy read when the request started.</param>
    /// <param name="client">The client's end point.</param>
    /// <param name="node">The node that answered or failed, or null.</param>
    /// <param name="method">The request method, or null when no request was read.</param>
    /// <param name="path">The request path without the query.</param>
    /// <param name="statusCode">The status sent to the client, or -1 (none).</param>
    /// <param name="bytesIn">Body bytes read from the client.</param>
    /// <param name="bytesOut">Body bytes sent to the client.</param>
    /// <param name="timers">Th, Tc and Tr (the total is measured here from <paramref name="startedTimestamp"/>).</param>
    /// <param name="decision">How persistence decided.</param>
    /// <param name="termination">How the request ended.</param>
    /// <param name="startedTimestamp">A <see cref="TimeProvider.GetTimestamp"/> of the request's first byte (the
    /// clock of this access control).</param>
    public void LogHttp(AccessPolicy policy, IPEndPoint? client, NodeState? node, string? method, string? path, int statusCode,
        long bytesIn, long bytesOut, AccessLogTimers timers, AccessLogDecision decision, AccessLogTermination termination, long startedTimestamp)
    {
        var writer = _writer;
        if (!policy.LoggingEnabled || writer is null)
        {
            return;
        }

        var total = ElapsedMs(startedTimestamp);
        writer.TryEnqueue(new AccessLogEntry(UtcNow().AddMilliseconds(-total), client?.Address, client?.Port ?? 0, policy.LoadBalancerId,
            node?.Id ?? 0, node?.EndPoint, method, path, statusCode, bytesIn, bytesOut, timers with { TotalMs = total }, decision, termination));
    }

    /// <summary>Queues the log line of a TCP connection (when logging is on). Never blocks.</summary>
    public void LogTcp(AccessPolicy policy, IPEndPoint? client, NodeState? node, long bytesIn, long bytesOut,
        AccessLogDecision decision, long startedTimestamp)
    {
        var writer = _writer;
        if (!policy.LoggingEnabled || writer is null)
        {
            return;
        }

        var total = ElapsedMs(startedTimestamp);
        var termination = decision == AccessLogDecision.Rejected ? AccessLogTermination.ProxyRefused
            : node is null ? AccessLogTermination.NodeConnect : AccessLogTermination.Normal;
        writer.TryEnqueue(new AccessLogEntry(UtcNow().AddMilliseconds(-total), client?.Address, client?.Port ?? 0, policy.LoadBalancerId,
            node?.Id ?? 0, node?.EndPoint, null, null, -1, bytesIn, bytesOut, AccessLogTimers.Total(total), decision, termination));
    }

    /// <summary>The log decision of a persistence/algorithm outcome; a balanced choice is <c>miss</c> when the load
    /// balancer has session persistence, <c>none</c> when it has not.</summary>
    public static AccessLogDecision DecisionOf(SelectionOutcome outcome, bool persistence) => outcome switch
    {
        SelectionOutcome.Persisted => AccessLogDecision.Persisted,
        SelectionOutcome.Hashed => AccessLogDecision.Hashed,
        SelectionOutcome.Balanced => persistence ? AccessLogDecision.Balanced : AccessLogDecision.None,
        SelectionOutcome.Repinned => AccessLogDecision.Repinned,
        SelectionOutcome.RejectedNoFallback => AccessLogDecision.Rejected,
        _ => AccessLogDecision.None,
    };

    public async ValueTask DisposeAsync()
    {
        if (_writer is { } writer)
        {
            await writer.DisposeAsync().ConfigureAwait(false);
        }
    }

    private void LogRefused(AccessPolicy policy, IPEndPoint? remote)
    {
        var writer = _writer;
        if (policy.LoggingEnabled && writer is not null)
        {
            writer.TryEnqueue(new AccessLogEntry(UtcNow(), remote?.Address, remote?.Port ?? 0, policy.LoadBalancerId,
                0, null, null, null, -1, 0, 0, AccessLogTimers.Total(0), AccessLogDecision.Rejected, AccessLogTermination.ProxyRefused));
        }
    }

    /// <summary>A timestamp of this access control's clock, for <see cref="LogHttp"/> and <see cref="LogTcp"/>.</summary>
    public long GetTimestamp() => _time.GetTimestamp();

    private DateTime UtcNow() => _time.GetUtcNow().UtcDateTime;

    private long ElapsedMs(long startedTimestamp) =>
        startedTimestamp == 0 ? 0 : (long)_time.GetElapsedTime(startedTimestamp).TotalMilliseconds;
}
