using System.Net;
using Tether.Core.Model;

namespace Tether.Proxy;

/// <summary>
/// One bound virtual IP and port of a load balancer, of one <see cref="ProtocolLayer"/>: HTTP (<see cref="Listener"/>),
/// TCP (<see cref="Tcp.TcpProxyListener"/>) or UDP (<see cref="Udp.UdpProxyListener"/>). A load balancer keys its
/// listeners by (endpoint, layer).
/// </summary>
internal interface IListener : IAsyncDisposable
{
    /// <summary>The bound address and port.</summary>
    IPEndPoint EndPoint { get; }

    /// <summary>How the listener carries traffic.</summary>
    ProtocolLayer Layer { get; }

    /// <summary>Stops taking new connections (or datagrams) and starts releasing the port; connections already
    /// accepted go on until <see cref="IAsyncDisposable.DisposeAsync"/> drains them. A TCP listener has released its
    /// port when this completes; an HTTP listener releases it shortly after (Kestrel unbinds at the start of its
    /// graceful stop), so a caller that binds the same port again retries for a moment.</summary>
    ValueTask StopAcceptingAsync();
}
