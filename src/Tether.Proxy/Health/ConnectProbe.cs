using System.Net.Sockets;
using Tether.Core.LoadBalancing;

namespace Tether.Proxy.Health;

/// <summary>CONNECT: the node passes when a TCP connection to its address and port opens (Rackspace: "the most
/// basic type of health check", no protocol-specific check). The connection is closed at once.</summary>
internal sealed class ConnectProbe : IHealthProbe
{
    public static readonly ConnectProbe Instance = new();

    public async ValueTask<ProbeResult> ProbeAsync(NodeState node, CancellationToken cancellationToken)
    {
        using var socket = new Socket(node.EndPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(node.EndPoint, cancellationToken).ConfigureAwait(false);
            socket.Shutdown(SocketShutdown.Both);
            return ProbeResult.Pass();
        }
        catch (SocketException e)
        {
            return ProbeResult.Fail(Describe(e));
        }
    }

    /// <summary>A short, stable description of a socket failure, for example <c>Connection refused</c>.</summary>
    public static string Describe(SocketException e) => e.SocketErrorCode switch
    {
        SocketError.ConnectionRefused => "Connection refused",
        SocketError.TimedOut => "Connection timed out",
        SocketError.HostUnreachable => "Host unreachable",
        SocketError.NetworkUnreachable => "Network unreachable",
        SocketError.ConnectionReset => "Connection reset by the node",
        _ => e.Message,
    };
}
