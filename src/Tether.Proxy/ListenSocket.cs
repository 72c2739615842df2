using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;

namespace Tether.Proxy;

/// <summary>
/// Creates the bound sockets of every listener (HTTP, TLS, TCP, UDP). An IPv6 listener is IPv6-only
/// (<c>IPV6_V6ONLY</c>): <c>[::]:port</c> of an IPv6 virtual IP and <c>0.0.0.0:port</c> of an IPv4 one are two
/// separate listeners that coexist, as the two virtual IPs of a Rackspace load balancer are two addresses. Kestrel
/// would otherwise make <c>[::]</c> dual-stack (and take the IPv4 port too), and Linux makes any IPv6 socket dual-stack
/// when <c>net.ipv6.bindv6only</c> is 0.
/// </summary>
internal static class ListenSocket
{
    /// <summary>For <see cref="SocketTransportOptions.CreateBoundListenSocket"/>: a TCP socket bound to
    /// <paramref name="endPoint"/>, IPv6-only for an IPv6 address; other endpoints as Kestrel binds them.</summary>
    public static Socket CreateBoundTcp(EndPoint endPoint)
    {
        if (endPoint is not IPEndPoint { AddressFamily: AddressFamily.InterNetworkV6 } ip)
        {
            return SocketTransportOptions.CreateDefaultBoundListenSocket(endPoint);
        }

        var socket = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.DualMode = false;
            socket.Bind(ip);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>A UDP socket bound to <paramref name="endPoint"/> (IPv6-only for an IPv6 address).</summary>
    /// <exception cref="SocketException">The address cannot be bound.</exception>
    public static Socket CreateBoundUdp(IPEndPoint endPoint)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            if (endPoint.AddressFamily == AddressFamily.InterNetworkV6)
            {
                socket.DualMode = false;
            }

            socket.Bind(endPoint);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
