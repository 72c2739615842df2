using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Tether.Core;
using Tether.Core.Model;
using Tether.Core.Runtime;
using Tether.Core.SessionPersistence;

namespace Tether.Proxy.Udp;

/// <summary>
/// A UDP virtual IP and port of a UDP load balancer (UDP, UDP_STREAM, DNS_UDP; issue 5). Datagrams from one client
/// address and port form a <see cref="UdpFlow"/>: the first one asks <see cref="LoadBalancerRuntime.Select(LoadBalancerSnapshot, in PersistenceRequest)"/> for a node
/// (the client address is the SOURCE_IP key, so persistence keeps a client's flows on one node) and opens a socket
/// connected to it; the node's replies go back to the client from the virtual IP's socket. A flow expires when no
/// datagram moved either way for the load balancer's <c>timeout</c> (seconds; checked every quarter of it, at least
/// every 100 ms and at most every 5 s). A DNS_UDP flow also ends as soon as each query has had its answer, so that
/// resolvers that use a new source port per query do not keep a socket each for the whole timeout.
/// </summary>
/// <remarks>
/// <para>Per datagram: one receive into the listener's buffer, a lock-free flow lookup keyed by the socket address,
/// one send; replies wait for data without a buffer, then borrow one from the pool. Nothing is allocated per datagram
/// once the flow exists.</para>
/// <para>A node that answers with ICMP port unreachable is held out of rotation for
/// <see cref="ProxyOptions.PassiveFailureHoldSeconds"/> and the flow is closed, so the client's next datagram is
/// balanced again. At most <see cref="ProxyOptions.MaxUdpFlows"/> flows live at once; datagrams that would open
/// another are dropped. A listener bound to a wildcard address replies from the address the host routes by, which is
/// the virtual IP only when that is the route's source.</para>
/// </remarks>
internal sealed class UdpProxyListener : IListener
{
    private const int BufferSize = 64 * 1024;
    private const string DnsUdp = "DNS_UDP";

    private readonly Socket _socket;
    private readonly LoadBalancerRuntime _runtime;
    private readonly ProxyOptions _options;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<SocketAddress, UdpFlow> _flows = new();
    private readonly IPEndPoint _endPointFactory;
    private readonly ITimer _sweeper;
    private readonly Task _receiveLoop;
    private TimeSpan _sweepPeriod;
    private int _flowCount;
    private int _disposed;

    private UdpProxyListener(IPEndPoint endPoint, Socket socket, LoadBalancerRuntime runtime, ProxyOptions options, ILogger logger)
    {
        EndPoint = endPoint;
        _socket = socket;
        _runtime = runtime;
        _options = options;
        _logger = logger;
        _endPointFactory = new IPEndPoint(endPoint.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        _sweepPeriod = SweepPeriod(runtime.Snapshot.Config.TimeoutSeconds);
        _sweeper = runtime.Time.CreateTimer(static s => ((UdpProxyListener)s!).Sweep(), this, _sweepPeriod, _sweepPeriod);
        _receiveLoop = ReceiveLoopAsync();
    }

    public IPEndPoint EndPoint { get; }

    public ProtocolLayer Layer => ProtocolLayer.Udp;

    /// <summary>Flows alive now.</summary>
    public int FlowCount => Volatile.Read(ref _flowCount);

    private int LoadBalancerId => _runtime.Snapshot.Id;

    /// <summary>Binds <paramref name="endPoint"/> and starts forwarding datagrams.</summary>
    /// <exception cref="ListenerBindException">The address cannot be bound.</exception>
    public static UdpProxyListener Start(IPEndPoint endPoint, LoadBalancerRuntime runtime, ProxyOptions options, ILogger logger)
    {
        Socket socket;
        try
        {
            socket = ListenSocket.CreateBoundUdp(endPoint);
        }
        catch (Exception e) when (e is SocketException or UnauthorizedAccessException)
        {
            throw new ListenerBindException($"Cannot listen on {Listener.FormatEndPoint(endPoint)}/UDP: {Listener.Reason(e)}", e);
        }

        return new UdpProxyListener(endPoint, socket, runtime, options, logger);
    }

    /// <summary>A UDP listener has nothing to drain: this closes it.</summary>
    public ValueTask StopAcceptingAsync() => DisposeAsync();

    /// <summary>Closes the socket and every flow.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _sweeper.DisposeAsync().ConfigureAwait(false);
        _socket.Dispose();
        try
        {
            await _receiveLoop.ConfigureAwait(false);
        }
        catch (Exception e)
        {
            ProxyLog.UdpReceiveFailed(_logger, LoadBalancerId, EndPoint, e);
        }

        foreach (var flow in _flows.Values)
        {
            Close(flow);
        }
    }

    private static TimeSpan SweepPeriod(int timeoutSeconds) =>
        TimeSpan.FromMilliseconds(Math.Clamp(timeoutSeconds * 250, 100, 5000));

    private async Task ReceiveLoopAsync()
    {
        var buffer = GC.AllocateUninitializedArray<byte>(BufferSize, pinned: true);
        var address = new SocketAddress(_socket.AddressFamily);
        while (true)
        {
            int length;
            try
            {
                length = await _socket.ReceiveFromAsync(buffer.AsMemory(), SocketFlags.None, address).ConfigureAwait(false);
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.MessageSize or SocketError.NetworkReset)
            {
                // ICMP feedback about an earlier reply (reported on some platforms), or an oversized datagram.
                continue;
            }
            catch (Exception e) when (IsClosed(e))
            {
                return;
            }

            // Usage reports: every datagram the client sent counts, whether or not a node takes it.
            _runtime.Usage.AddIncoming(length);
            var now = _runtime.Time.GetTimestamp();
            var flow = FindOrOpen(address, now);
            if (flow is null)
            {
                continue;
            }

            flow.Touch(now);
            if (flow.EndsWithReplies)
            {
                flow.OnRequest();
            }

            try
            {
                await flow.Socket.SendAsync(buffer.AsMemory(0, length), SocketFlags.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                OnFlowFailed(flow, e);
            }
        }
    }

    private UdpFlow? FindOrOpen(SocketAddress address, long now)
    {
        if (_flows.TryGetValue(address, out var flow) && !flow.IsClosed)
        {
            return flow;
        }

        if (Volatile.Read(ref _flowCount) >= _options.MaxUdpFlows)
        {
            ProxyLog.UdpFlowLimit(_logger, LoadBalancerId, EndPoint, _options.MaxUdpFlows);
            return null;
        }

        // A new flow: allocations here are per flow, not per datagram.
        var key = new SocketAddress(address.Family, address.Size);
        address.Buffer.Span[..address.Size].CopyTo(key.Buffer.Span);
        var client = (IPEndPoint)_endPointFactory.Create(key);

        // The attempt pipeline (docs/architecture.md) with no retry: a datagram is never sent twice.
        var snapshot = _runtime.Snapshot;
        var selection = _runtime.Select(snapshot, PersistenceRequest.ForClient(ClientAddress.ToKey(client.Address)));
        if (AttemptPipeline.Begin(_runtime, snapshot, _options.PassiveFailureHoldSeconds).OnSelected(selection) == AttemptStep.Fail
            || selection.Node is not { } node)
        {
            ProxyLog.UdpNoNode(_logger, LoadBalancerId, client, selection.Outcome);
            return null;
        }

        Socket socket;
        try
        {
            socket = new Socket(node.EndPoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        }
        catch (SocketException e)
        {
            ProxyLog.UdpFlowOpenFailed(_logger, LoadBalancerId, client, node.Id, e);
            return null;
        }

        try
        {
            socket.Connect(node.EndPoint);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            ProxyLog.UdpFlowOpenFailed(_logger, LoadBalancerId, client, node.Id, e);
            return null;
        }

        node.Counters.OnStart();
        flow = new UdpFlow(key, client, node, socket, now, endsWithReplies: _runtime.Snapshot.Config.Protocol == DnsUdp);
        _flows[key] = flow;
        Interlocked.Increment(ref _flowCount);
        _runtime.Usage.ConnectionOpened();
        _ = RelayRepliesAsync(flow);
        return flow;
    }

    /// <summary>Node → client: waits for a reply without holding a buffer, then borrows one for the datagram.</summary>
    private async Task RelayRepliesAsync(UdpFlow flow)
    {
        try
        {
            while (true)
            {
                await flow.Socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.Peek).ConfigureAwait(false);
                var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
                try
                {
                    var length = await flow.Socket.ReceiveAsync(buffer.AsMemory(), SocketFlags.None).ConfigureAwait(false);
                    flow.Touch(_runtime.Time.GetTimestamp());
                    await _socket.SendToAsync(buffer.AsMemory(0, length), SocketFlags.None, flow.ClientAddress).ConfigureAwait(false);
                    _runtime.Usage.AddOutgoing(length);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }

                if (flow.EndsWithReplies && flow.OnReply())
                {
                    Close(flow);
                    return;
                }
            }
        }
        catch (Exception e)
        {
            OnFlowFailed(flow, e);
        }
    }

    private void OnFlowFailed(UdpFlow flow, Exception e)
    {
        if (flow.IsClosed || Volatile.Read(ref _disposed) != 0)
        {
            Close(flow);
            return;
        }

        if (e is SocketException { SocketErrorCode: SocketError.ConnectionRefused })
        {
            // Passive health: the node has no listener on that port (held out; the flow closes, never retried).
            var pipeline = AttemptPipeline.Begin(_runtime, _runtime.Snapshot, _options.PassiveFailureHoldSeconds);
            pipeline.OnFailure(flow.Node, AttemptFailure.PortUnreachable, mayRetry: false);
            ProxyLog.UdpNodeRefused(_logger, LoadBalancerId, flow.Node.Id, flow.Node.EndPoint);
        }
        else if (!IsClosed(e))
        {
            ProxyLog.UdpFlowError(_logger, LoadBalancerId, flow.Client, flow.Node.Id, e);
        }

        Close(flow);
    }

    private void Close(UdpFlow flow)
    {
        if (!flow.TryClose())
        {
            return;
        }

        _flows.TryRemove(new KeyValuePair<SocketAddress, UdpFlow>(flow.ClientAddress, flow));
        Interlocked.Decrement(ref _flowCount);
        _runtime.Usage.ConnectionClosed();
        flow.Node.Counters.OnEnd();
        flow.Socket.Dispose();
    }

    private void Sweep()
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return;
        }

        var time = _runtime.Time;
        var timeoutSeconds = _runtime.Snapshot.Config.TimeoutSeconds;
        var idleTicks = timeoutSeconds * time.TimestampFrequency;
        var now = time.GetTimestamp();
        foreach (var (_, flow) in _flows)
        {
            if (now - flow.LastActivity >= idleTicks)
            {
                Close(flow);
            }
        }

        var period = SweepPeriod(timeoutSeconds);
        if (period != _sweepPeriod)
        {
            _sweepPeriod = period;
            _sweeper.Change(period, period);
        }
    }

    private static bool IsClosed(Exception e) =>
        e is ObjectDisposedException or OperationCanceledException
        || (e is SocketException s && s.SocketErrorCode is SocketError.OperationAborted or SocketError.Interrupted or SocketError.Shutdown);
}
