using System.Net;
using System.Net.Sockets;

namespace Tether.Proxy.Tests;

/// <summary>IPv6 listeners are IPv6-only, so that an IPV4 and an IPV6 virtual IP of the same load balancer (or of two)
/// listen on the same port side by side: <c>0.0.0.0:port</c> and <c>[::]:port</c>.</summary>
public sealed class ListenSocketTests
{
    [Fact]
    public void CreateBoundTcp_Ipv6AnyBesideIpv4Any_BothBindTheSamePort()
    {
        using var ipv4 = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        ipv4.Bind(new IPEndPoint(IPAddress.Any, 0));
        var port = ((IPEndPoint)ipv4.LocalEndPoint!).Port;

        using var ipv6 = ListenSocket.CreateBoundTcp(new IPEndPoint(IPAddress.IPv6Any, port));

        Assert.False(ipv6.DualMode);
        Assert.Equal(port, ((IPEndPoint)ipv6.LocalEndPoint!).Port);
    }

    [Fact]
    public void CreateBoundUdp_Ipv6AnyBesideIpv4Any_BothBindTheSamePort()
    {
        using var ipv4 = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        ipv4.Bind(new IPEndPoint(IPAddress.Any, 0));
        var port = ((IPEndPoint)ipv4.LocalEndPoint!).Port;

        using var ipv6 = ListenSocket.CreateBoundUdp(new IPEndPoint(IPAddress.IPv6Any, port));

        Assert.False(ipv6.DualMode);
    }

    [Fact]
    public void CreateBoundTcp_Ipv4EndPoint_BindsIpv4()
    {
        using var socket = ListenSocket.CreateBoundTcp(new IPEndPoint(IPAddress.Loopback, 0));

        Assert.Equal(AddressFamily.InterNetwork, socket.AddressFamily);
    }
}
