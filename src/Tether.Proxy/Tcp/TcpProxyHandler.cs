using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Tether.Core.LoadBalancing;
using Tether.Core.Model;
using Tether.Core.Runtime;
using Tether.Core.SessionPersistence;

namespace Tether.Proxy.Tcp;

/// <summary>
/// The layer 4 pipeline of one TCP load balancer (docs/architecture.md, issue 5): for each client connection, read the
/// current snapshot → <see cref="LoadBalancerRuntime.Select(LoadBalancerSnapshot, in PersistenceRequest)"/> with the client's address as the SOURCE_IP key (so every
/// algorithm and SOURCE_IP persistence decide per connection) → connect to the node within the connect timeout →
/// pump bytes both ways (<see cref="TcpProxySession"/>). The node's active count covers the whole connection, which is
/// what LEAST_CONNECTIONS compares.
/// </summary>
/// <remarks>
/// The attempt pipeline is <see cref="AttemptPipeline"/>, as on the HTTP paths. A node that refuses the connection
/// or does not answer within
/// min(<see cref="LoadBalancerConfig.TimeoutSeconds"/>, <see cref="ProxyOptions.ConnectTimeoutSeconds"/>) seconds is
/// held out of rotation for <see cref="ProxyOptions.PassiveFailureHoldSeconds"/> (passive health, as the HTTP handler
/// does), and the connection is tried once more on the node <see cref="LoadBalancerRuntime.Select(LoadBalancerSnapshot, in PersistenceRequest)"/> picks next
/// (SOURCE_IP re-pins the client there) unless <c>disableFallback</c> is set. When no node can take the connection
/// (<see cref="SelectionOutcome.NoNodeAvailable"/>, <see cref="SelectionOutcome.RejectedNoFallback"/>, or the second
/// attempt failed), the client connection is closed at once.
/// </remarks>
internal sealed class TcpProxyHandler : ConnectionHandler
{
    private readonly LoadBalancerRuntime _runtime;
    private readonly ProxyOptions _options;
    private readonly ILogger _logger;
    private readonly Access.AccessControl? _access;

    public TcpProxyHandler(LoadBalancerRuntime runtime, ProxyOptions options, ILogger logger, Access.AccessControl? access = null)
    {
        _access = access;
        _runtime = runtime;
        _options = options;
        _logger = logger;
    }

    /// <summary>Serves <paramref name="connection"/> until both directions end (Kestrel's
    /// <c>listen.UseConnectionHandler</c> entry point; <see cref="TcpProxyListener"/> calls
    /// <see cref="HandleAsync"/> with its abort token).</summary>
    public override Task OnConnectedAsync(ConnectionContext connection) => HandleAsync(connection, CancellationToken.None);

    /// <summary>Serves <paramref name="connection"/>; <paramref name="aborted"/> closes it at once (listener stop
    /// after the shutdown timeout). Never throws for network errors.</summary>
    public async Task HandleAsync(ConnectionContext connection, CancellationToken aborted)
    {
        // Usage reports: the client connection is open from accept to close, whatever happens to it.
        var usage = _runtime.Usage;
        usage.ConnectionOpened();
        try
        {
            await HandleCoreAsync(connection, aborted).ConfigureAwait(false);
        }
        finally
        {
            usage.ConnectionClosed();
        }
    }

    private async Task HandleCoreAsync(ConnectionContext connection, CancellationToken aborted)
    {
        var remote = connection.RemoteEndPoint as IPEndPoint;
        var clientKey = ClientAddress.ToKey(remote?.Address);
        var policy = _access?.Policy;
        if (policy is null)
        {
            await ProxyAsync(connection, clientKey, null, 0, aborted).ConfigureAwait(false);
            return;
        }

        // Access list and throttle first (issue 6): a refused or over-limit client is closed before any decision.
        var logStarted = policy.LoggingEnabled ? _access!.GetTimestamp() : 0;
        var verdict = _access!.Enter(policy, clientKey, out var counted);
        if (verdict != Access.ConnectionVerdict.Allowed)
        {
            _access.LogTcp(policy, remote, null, 0, 0, Access.AccessLogDecision.Rejected, logStarted);
            return;
        }

        try
        {
            await ProxyAsync(connection, clientKey, policy, logStarted, aborted).ConfigureAwait(false);
        }
        finally
        {
            if (counted)
            {
                _access.Leave(clientKey);
            }
        }
    }

    private async Task ProxyAsync(ConnectionContext connection, UInt128 clientKey, Access.AccessPolicy? policy, long logStarted, CancellationToken aborted)
    {
        var config = _runtime.Snapshot.Config;
        var (node, socket, outcome) = await ConnectAsync(connection, clientKey, config, aborted).ConfigureAwait(false);
        if (node is null || socket is null)
        {
            if (logStarted != 0)
            {
                _access!.LogTcp(policy!, connection.RemoteEndPoint as IPEndPoint, null, 0, 0, Access.AccessControl.DecisionOf(outcome, _runtime.Snapshot.PersistenceType is not null), logStarted);
            }

            return;
        }

        TcpProxySession? session = null;
        try
        {
            session = new TcpProxySession(connection, socket, config.HalfClosed, config.TimeoutSeconds, _runtime.Time, _runtime.Usage);
            await session.RunAsync(aborted).ConfigureAwait(false);
            if (session.TimedOut)
            {
                ProxyLog.TcpIdleTimeout(_logger, config.Id, connection.RemoteEndPoint, node.Id, config.TimeoutSeconds);
            }
            else if (session.UnexpectedError is { } error)
            {
                ProxyLog.TcpConnectionError(_logger, config.Id, connection.RemoteEndPoint, error);
            }
        }
        finally
        {
            socket.Dispose();
            node.Counters.OnEnd();
            if (logStarted != 0)
            {
                _access!.LogTcp(policy!, connection.RemoteEndPoint as IPEndPoint, node, session?.BytesIn ?? 0, session?.BytesOut ?? 0,
                    Access.AccessControl.DecisionOf(outcome, _runtime.Snapshot.PersistenceType is not null), logStarted);
            }
        }
    }

    /// <summary>Picks a node and connects to it; on success the node's active count has been incremented.</summary>
    private async ValueTask<(NodeState? Node, Socket? Socket, SelectionOutcome Outcome)> ConnectAsync(ConnectionContext connection, UInt128 clientKey,
        LoadBalancerConfig config, CancellationToken aborted)
    {
        var connectTimeout = TimeSpan.FromSeconds(Math.Min(config.TimeoutSeconds, _options.ConnectTimeoutSeconds));
        var pipeline = AttemptPipeline.Begin(_runtime, _runtime.Snapshot, _options.PassiveFailureHoldSeconds);
        if (_runtime.MissesSharedState(_runtime.Snapshot, PersistenceRequest.ForClient(clientKey), out var stickKey))
        {
            // Cluster mode, a client the local table misses: its shared pin, waited for a few milliseconds at most.
            await _runtime.FetchSharedStateAsync(_runtime.Snapshot, stickKey, aborted).ConfigureAwait(false);
        }

        while (true)
        {
            var selection = _runtime.Select(PersistenceRequest.ForClient(clientKey));
            var node = selection.Node;
            if (pipeline.OnSelected(selection) == AttemptStep.Fail || node is null)
            {
                ProxyLog.TcpNoNode(_logger, config.Id, connection.RemoteEndPoint, selection.Outcome);
                return (null, null, selection.Outcome);
            }

            node.Counters.OnStart();
            var socket = new Socket(node.EndPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            string reason;
            AttemptFailure failure;
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(aborted))
            {
                timeout.CancelAfter(connectTimeout);
                try
                {
                    await socket.ConnectAsync(node.EndPoint, timeout.Token).ConfigureAwait(false);
                    pipeline.OnSuccess(node);
                    return (node, socket, selection.Outcome);
                }
                catch (SocketException e)
                {
                    reason = e.SocketErrorCode == SocketError.ConnectionRefused ? "connection refused" : e.Message;
                    failure = e.SocketErrorCode switch
                    {
                        SocketError.ConnectionRefused => AttemptFailure.ConnectRefused,
                        SocketError.TimedOut => AttemptFailure.ConnectTimeout,
                        _ => AttemptFailure.ConnectFailed,
                    };
                }
                catch (OperationCanceledException) when (!aborted.IsCancellationRequested)
                {
                    reason = $"no answer within {connectTimeout.TotalSeconds:0.###} s";
                    failure = AttemptFailure.ConnectTimeout;
                }
                catch (OperationCanceledException)
                {
                    // The listener is stopping: this says nothing about the node.
                    socket.Dispose();
                    node.Counters.OnEnd();
                    return (null, null, SelectionOutcome.NoNodeAvailable);
                }
            }

            socket.Dispose();
            node.Counters.OnEnd();
            // Counted on the node and held out of rotation; a connection has sent nothing yet: retried once elsewhere
            // unless disableFallback is set.
            var step = pipeline.OnFailure(node, failure, mayRetry: true);
            ProxyLog.TcpConnectFailed(_logger, config.Id, node.Id, node.EndPoint, reason);
            if (step == AttemptStep.Fail)
            {
                return (null, null, SelectionOutcome.NoNodeAvailable);
            }
        }
    }
}
