using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Tether.FunctionalTests.Infrastructure;

/// <summary>A UDP backend on 127.0.0.1 with an ephemeral port: it answers each datagram with
/// <c>name|sourcePort|payload</c>, where sourcePort is the port the datagram came from (one per Tether flow).</summary>
public sealed class UdpEchoBackend : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly Task _loop;
    private int _datagrams;

    private UdpEchoBackend(string name, int port)
    {
        Name = name;
        _socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        _socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
        Port = ((IPEndPoint)_socket.LocalEndPoint!).Port;
        _loop = LoopAsync();
    }

    public string Name { get; }

    public int Port { get; }

    public int Datagrams => Volatile.Read(ref _datagrams);

    /// <summary>Starts a backend on <paramref name="port"/> (0: an ephemeral one).</summary>
    public static UdpEchoBackend Start(string name, int port = 0) => new(name, port);

    /// <summary>A UDP port with no socket: datagrams sent there draw ICMP port unreachable.</summary>
    public static int DeadPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    public async ValueTask DisposeAsync()
    {
        _socket.Dispose();
        await _loop;
    }

    private async Task LoopAsync()
    {
        var buffer = new byte[65536];
        while (true)
        {
            SocketReceiveFromResult result;
            try
            {
                result = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0));
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                if (e is ObjectDisposedException || e is SocketException { SocketErrorCode: SocketError.OperationAborted })
                {
                    return;
                }

                continue;
            }

            Interlocked.Increment(ref _datagrams);
            var from = (IPEndPoint)result.RemoteEndPoint;
            var reply = Encoding.UTF8.GetBytes($"{Name}|{from.Port}|{Encoding.UTF8.GetString(buffer, 0, result.ReceivedBytes)}");
            try
            {
                await _socket.SendToAsync(reply, SocketFlags.None, from);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
            }
        }
    }
}

/// <summary>One UDP client socket (one flow) of a UDP load balancer on 127.0.0.1, optionally from another loopback
/// source address.</summary>
public sealed class UdpTestClient : IDisposable
{
    private readonly byte[] _buffer = new byte[65536];

    public UdpTestClient(int port, string sourceAddress = "127.0.0.1")
    {
        Socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        Socket.Bind(new IPEndPoint(IPAddress.Parse(sourceAddress), 0));
        Socket.Connect(new IPEndPoint(IPAddress.Loopback, port));
    }

    public Socket Socket { get; }

    /// <summary>Sends <paramref name="payload"/> and waits for the answer; null when none came in time.</summary>
    public async Task<UdpReply?> TryRequestAsync(string payload, int timeoutMs = 1000)
    {
        await Socket.SendAsync(Encoding.UTF8.GetBytes(payload), SocketFlags.None);
        using var timeout = new CancellationTokenSource(timeoutMs);
        try
        {
            var n = await Socket.ReceiveAsync(_buffer, SocketFlags.None, timeout.Token);
            var parts = Encoding.UTF8.GetString(_buffer, 0, n).Split('|', 3);
            return new UdpReply(parts[0], int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture), parts[2]);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException)
        {
            return null;
        }
    }

    /// <summary>Sends and waits for the answer, retrying a few times (UDP may drop; a refusing node is left out after
    /// its first refusal).</summary>
    public async Task<UdpReply> RequestAsync(string payload, int attempts = 5)
    {
        for (var i = 0; i < attempts; i++)
        {
            if (await TryRequestAsync(payload, 500) is { } reply)
            {
                return reply;
            }
        }

        throw new TimeoutException($"no answer to '{payload}' after {attempts} attempts");
    }

    public void Dispose() => Socket.Dispose();
}

/// <summary>An answer of a <see cref="UdpEchoBackend"/>.</summary>
/// <param name="Backend">The backend's name.</param>
/// <param name="FlowPort">The port the datagram reached the backend from: Tether's socket of the flow.</param>
/// <param name="Payload">The payload echoed.</param>
public sealed record UdpReply(string Backend, int FlowPort, string Payload);
