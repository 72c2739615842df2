using System.Net;
using System.Net.Sockets;
using Tether.Core.LoadBalancing;

namespace Tether.Proxy.Udp;

/// <summary>
/// The datagrams of one client address and port on a UDP load balancer: a socket connected to the chosen node, so that
/// the node's replies can be told apart per client and sent back from the virtual IP. Alive while datagrams move
/// either way within the load balancer's timeout; counted in the node's active count while alive.
/// </summary>
internal sealed class UdpFlow
{
    private long _lastActivity;
    private int _closed;
    private int _awaitingReplies;

    public UdpFlow(SocketAddress clientAddress, IPEndPoint client, NodeState node, Socket socket, long now, bool endsWithReplies)
    {
        ClientAddress = clientAddress;
        Client = client;
        Node = node;
        Socket = socket;
        EndsWithReplies = endsWithReplies;
        _lastActivity = now;
    }

    /// <summary>True when the flow ends as soon as every datagram the client sent has had a reply (DNS_UDP: one
    /// answer per query, as nginx's <c>proxy_responses 1</c>), instead of waiting for the idle timeout.</summary>
    public bool EndsWithReplies { get; }

    /// <summary>The client's address in socket form: the flow's key, and where replies are sent.</summary>
    public SocketAddress ClientAddress { get; }

    /// <summary>The client's address and port (for logs).</summary>
    public IPEndPoint Client { get; }

    /// <summary>The node the flow was sent to.</summary>
    public NodeState Node { get; }

    /// <summary>The socket connected to the node.</summary>
    public Socket Socket { get; }

    /// <summary>The <see cref="TimeProvider.GetTimestamp"/> of the last datagram either way.</summary>
    public long LastActivity => Volatile.Read(ref _lastActivity);

    /// <summary>True once the flow has been closed (expired, node refused, listener stopped).</summary>
    public bool IsClosed => Volatile.Read(ref _closed) != 0;

    /// <summary>Records a datagram at <paramref name="now"/>.</summary>
    public void Touch(long now) => Volatile.Write(ref _lastActivity, now);

    /// <summary>Counts a datagram sent to the node that waits for a reply.</summary>
    public void OnRequest() => Interlocked.Increment(ref _awaitingReplies);

    /// <summary>Counts a reply; true when no datagram waits for one any more.</summary>
    public bool OnReply() => Interlocked.Decrement(ref _awaitingReplies) <= 0;

    /// <summary>Marks the flow closed; true for the one caller that closed it.</summary>
    public bool TryClose() => Interlocked.Exchange(ref _closed, 1) == 0;
}
