using System.Net;
using System.Net.Security;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Tether.Core.LoadBalancing;
using Tether.Core.Runtime;

namespace Tether.Proxy.Http.FastPath;

/// <summary>
/// The HTTP/1.1 fast path of one load balancer (issue 4): the Kestrel connection middleware that serves each
/// connection with an <see cref="Http1Connection"/>, and the keep-alive connection pools to its nodes.
/// </summary>
internal sealed class Http1Forwarder : IDisposable
{
    private readonly GatewayErrorLog _errors;
    private readonly AnswerCounter _answers;
    private readonly Access.AccessControl? _access;
    private readonly Lock _poolsLock = new();
    private readonly Timer _sweep;
    private readonly Microsoft.Extensions.Logging.ILogger? _logger;
    private volatile PoolMap _pools;
    private long _noConnectionLogged;
    private long _noConnectionUnlogged;

    /// <param name="runtime">The load balancer's runtime.</param>
    /// <param name="options">The proxy's settings.</param>
    /// <param name="access">Access control (error pages, connection log), or null.</param>
    /// <param name="errors">The log of Tether's own 502/503/504 answers, shared with the Kestrel path.</param>
    /// <param name="answers">Counts answers (status, latency), shared with the Kestrel path.</param>
    /// <param name="logger">Where "no node connection" is logged, or null.</param>
    /// <param name="clock">The clock of timeouts and the connection log (default <see cref="TimeProvider.System"/>).</param>
    public Http1Forwarder(LoadBalancerRuntime runtime, ProxyOptions options, Access.AccessControl? access, GatewayErrorLog errors, AnswerCounter answers,
        Microsoft.Extensions.Logging.ILogger? logger = null, TimeProvider? clock = null)
    {
        _errors = errors;
        _answers = answers;
        Clock = clock ?? TimeProvider.System;
        _logger = logger;
        _access = access;
        Runtime = runtime;
        Options = options;
        _pools = new PoolMap(null, new Dictionary<int, BackendPool>());
        var period = TimeSpan.FromSeconds(Math.Clamp(options.PooledConnectionIdleTimeoutSeconds / 4, 1, 10));
        _sweep = new Timer(static state => ((Http1Forwarder)state!).Sweep(), this, period, period);
    }

    public LoadBalancerRuntime Runtime { get; }

    public ProxyOptions Options { get; }

    /// <summary>The clock of the fast path's timeouts, pools and connection log.</summary>
    public TimeProvider Clock { get; }

    /// <summary>The load balancer's timeout between two reads from a node, in milliseconds.</summary>
    public long TimeoutMs => Runtime.Snapshot.Config.TimeoutSeconds * 1000L;

    /// <summary>The connect timeout (the proxy's, capped by the load balancer's timeout), in milliseconds.</summary>
    public long ConnectTimeoutMs => Math.Min(Options.ConnectTimeoutSeconds, Runtime.Snapshot.Config.TimeoutSeconds) * 1000L;

    /// <summary>The load balancer's error page of <paramref name="status"/> (UTF-8): the custom page, or the default
    /// that names the status.</summary>
    public byte[] ErrorPage(int status) => _access?.Policy.ErrorPageFor(status) ?? Access.AccessPolicy.DefaultPage(status);

    /// <summary>The connection middleware of an HTTP listener, placed after TLS (when any): a connection negotiated
    /// as HTTP/2, or accepted over the connection throttle, goes straight to Kestrel's HTTP stack; the others are
    /// served here until a request needs that stack.</summary>
    public Func<ConnectionDelegate, ConnectionDelegate> Middleware(bool isHttps) => next => async connection =>
    {
        if (!Options.Http1FastPath || Access.AccessControl.IsOverLimit(connection) || IsHttp2(connection))
        {
            await next(connection).ConfigureAwait(false);
            return;
        }

        var handOver = await new Http1Connection(this, connection, isHttps).RunAsync().ConfigureAwait(false);
        if (handOver)
        {
            await next(connection).ConfigureAwait(false);
        }
    };

    /// <summary>True when this load balancer's requests need Kestrel's HTTP stack: an HTTPS redirect of a plain
    /// connection (answered by the Kestrel/YARP path), or content caching (the cache sits in front of that path;
    /// docs/api.md "Content caching").</summary>
    public static bool MustHandOver(LoadBalancerSnapshot snapshot, bool isHttps) =>
        snapshot.Config.ContentCaching
        || (!isHttps && snapshot.Config.HttpsRedirect && snapshot.Config.SslTermination is { Enabled: true });

    /// <summary>The access policy when connection logging is on, else null (one volatile read).</summary>
    public Access.AccessPolicy? LoggingPolicy => _access?.Policy is { LoggingEnabled: true } policy ? policy : null;

    /// <summary>Queues the connection log line of one request (see <see cref="Access.AccessLogWriter"/>).</summary>
    public void Log(Access.AccessPolicy policy, IPEndPoint? client, NodeState? node, int statusCode, SelectionOutcome outcome, string? method, string? path,
        long bytesIn, long bytesOut, Access.AccessLogTimers timers, Access.AccessLogTermination termination, long started) =>
        _access?.LogHttp(policy, client, node, method, path, statusCode, bytesIn, bytesOut, timers,
            Access.AccessControl.DecisionOf(outcome, Runtime.Snapshot.PersistenceType is not null), termination, started);

    /// <summary>The pool of <paramref name="node"/>'s keep-alive connections. The map is rebuilt (off the request path
    /// of every other request) when the configuration changed; pools of nodes that left are closed.</summary>
    public BackendPool PoolFor(NodeState node)
    {
        var map = _pools;
        if (!ReferenceEquals(map.Snapshot, Runtime.Snapshot))
        {
            map = Rebuild();
        }

        if (map.ByNode.TryGetValue(node.Id, out var pool) && pool.EndPoint.Equals(node.EndPoint))
        {
            return pool;
        }

        // A request still on a configuration that no longer holds the node: a pool of its own that keeps nothing.
        var transient = NewPool(node);
        transient.Dispose();
        return transient;
    }

    /// <summary>Counts the answer (status code, latency) as the Kestrel path does.</summary>
    public void CountAnswer(LoadBalancerSnapshot snapshot, NodeState node, int statusCode, long started) =>
        _answers.Count(snapshot, node, statusCode, started);

    /// <summary>APP_COOKIE: learns or forgets the node's cookie from one Set-Cookie value.</summary>
    public void LearnAppCookie(LoadBalancerSnapshot snapshot, NodeState node, string setCookie, CookieHeader.PairEnumerator presented) =>
        AppCookieTransformer.Learn(Runtime, node.Id, snapshot.Config.SessionPersistence?.CookieName ?? "*", setCookie, presented);

    /// <summary>No connection to <paramref name="node"/> could be had on Tether's side (<paramref name="reason"/>:
    /// <see cref="System.Net.Sockets.SocketError.TooManyOpenSockets"/> for the per-node limit and its queue, else the socket error): counted
    /// on the node (<c>noConnection</c>) and logged at most once every 10 seconds per load balancer, with the count.</summary>
    public void OnNoConnection(NodeState node, System.Net.Sockets.SocketError reason)
    {
        node.Counters.CountFailure(NodeFailure.NoConnection);
        var unlogged = Interlocked.Increment(ref _noConnectionUnlogged);
        var now = Clock.Milliseconds();
        var last = Volatile.Read(ref _noConnectionLogged);
        if (_logger is null || (last != 0 && now - last < 10_000) || Interlocked.CompareExchange(ref _noConnectionLogged, now, last) != last)
        {
            return;
        }

        Interlocked.Add(ref _noConnectionUnlogged, -unlogged);
        ProxyLog.NoNodeConnection(_logger, Runtime.Snapshot.Id, node.Id,
            reason != System.Net.Sockets.SocketError.TooManyOpenSockets ? $"socket error {reason}; check the open file limit"
                : Options.Budget.Limit > 0 && Options.Budget.Open >= Options.Budget.Limit ? $"the data plane holds {Options.Budget.Limit} connections (Proxy:MaxOpenConnections)"
                : $"{Options.MaxConnectionsPerNode} connections open (Proxy:MaxConnectionsPerNode) and none came free within {Options.NodeQueueTimeoutSeconds} s",
            unlogged);
    }

    /// <summary>Logs (rate-limited) Tether's own answer of <paramref name="status"/> (502/503/504) for
    /// <paramref name="reason"/> about <paramref name="node"/> (null: none); see <see cref="GatewayErrorLog"/>.</summary>
    public void ReportError(int status, GatewayErrorReason reason, NodeState? node) => _errors.Report(status, reason, node);

    /// <summary>A client connection was closed after <see cref="ProxyOptions.KeepAliveTimeoutSeconds"/> idle;
    /// <paramref name="ssl"/>: on the SSL termination listener.</summary>
    public void CountKeepAliveTimeout(bool ssl) => Runtime.CountKeepAliveTimeout(ssl);

    public void Dispose()
    {
        _sweep.Dispose();
        lock (_poolsLock)
        {
            foreach (var pool in _pools.ByNode.Values)
            {
                pool.Dispose();
            }
        }
    }

    private PoolMap Rebuild()
    {
        lock (_poolsLock)
        {
            var snapshot = Runtime.Snapshot;
            var current = _pools;
            if (ReferenceEquals(current.Snapshot, snapshot))
            {
                return current;
            }

            var map = new Dictionary<int, BackendPool>();
            foreach (var node in snapshot.Nodes)
            {
                map[node.Id] = current.ByNode.TryGetValue(node.Id, out var pool) && pool.EndPoint.Equals(node.EndPoint)
                    ? pool
                    : NewPool(node);
            }

            foreach (var (id, pool) in current.ByNode)
            {
                if (!map.TryGetValue(id, out var kept) || !ReferenceEquals(kept, pool))
                {
                    pool.Dispose();
                }
            }

            var next = new PoolMap(snapshot, map);
            _pools = next;
            return next;
        }
    }

    private BackendPool NewPool(NodeState node) =>
        new(node.EndPoint, Options.PooledConnectionIdleTimeoutSeconds, Options.MaxConnectionsPerNode, Options.NodeQueueTimeoutSeconds, Options.Budget, Clock);

    private void Sweep()
    {
        foreach (var pool in _pools.ByNode.Values)
        {
            pool.Sweep();
        }
    }

    private static bool IsHttp2(ConnectionContext connection) =>
        connection.Features.Get<ITlsApplicationProtocolFeature>() is { } tls
        && tls.ApplicationProtocol.Span.SequenceEqual(SslApplicationProtocol.Http2.Protocol.Span);

    private sealed record PoolMap(LoadBalancerSnapshot? Snapshot, Dictionary<int, BackendPool> ByNode);
}
