using System.Net;
using System.Net.Sockets;
using System.Globalization;
using Garnet;

namespace Tether.Cluster.Tests;

/// <summary>An in-process Garnet server (a real RESP server) on a free loopback port, shared by a test class.</summary>
public sealed class GarnetServerFixture : IDisposable
{
    private readonly GarnetServer _server;

    public GarnetServerFixture()
    {
        Port = FreePort();
        _server = new GarnetServer(["--bind", "127.0.0.1", "--port", Port.ToString(CultureInfo.InvariantCulture), "--lua"]);
        _server.Start();
    }

    /// <summary>The port Garnet listens on (127.0.0.1).</summary>
    public int Port { get; }

    /// <summary>A StackExchange.Redis configuration string for the server.</summary>
    public string Configuration => $"127.0.0.1:{Port}";

    public void Dispose() => _server.Dispose();

    private static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
