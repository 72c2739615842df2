using System.Net;
using System.Net.Sockets;
using System.Text;
using Tether.FunctionalTests.Infrastructure;

namespace Tether.FunctionalTests.Cluster;

/// <summary>The <see cref="RedisServer"/> fixture the cluster tests stand on (issue 14): a real redis-server on a free
/// loopback port, without persistence, that stops (connections refused) and starts again on the same port, empty.</summary>
public sealed class RedisServerTests
{
    [Fact]
    public async Task StartAsync_Fresh_AnswersPingOverRawSocketOnLoopback()
    {
        await using var redis = await RedisServer.StartAsync();

        Assert.True(await RedisServer.PingAsync(redis.Port));
        Assert.Equal($"127.0.0.1:{redis.Port}", redis.Connection);
        Assert.True(redis.IsRunning);
    }

    [Fact]
    public async Task StartAsync_Fresh_NoPersistenceAndBoundToLoopbackOnly()
    {
        await using var redis = await RedisServer.StartAsync();

        Assert.Equal("*2\r\n$4\r\nsave\r\n$0\r\n\r\n", await CommandAsync(redis.Port, "CONFIG", "GET", "save"));
        Assert.Equal("*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n", await CommandAsync(redis.Port, "CONFIG", "GET", "appendonly"));
        Assert.Equal("*2\r\n$4\r\nbind\r\n$9\r\n127.0.0.1\r\n", await CommandAsync(redis.Port, "CONFIG", "GET", "bind"));
    }

    [Fact]
    public async Task StopAsync_Running_ConnectionRefused()
    {
        await using var redis = await RedisServer.StartAsync();

        await redis.StopAsync();

        Assert.False(redis.IsRunning);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var refused = await Assert.ThrowsAsync<SocketException>(() => socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, redis.Port)));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
    }

    [Fact]
    public async Task StartAgainAsync_AfterStop_SamePortAnswersAndIsEmpty()
    {
        await using var redis = await RedisServer.StartAsync();
        var port = redis.Port;
        Assert.Equal("+OK\r\n", await CommandAsync(port, "SET", "k", "v"));
        Assert.Equal("$1\r\nv\r\n", await CommandAsync(port, "GET", "k"));

        await redis.StopAsync();
        await redis.StartAgainAsync();

        Assert.Equal(port, redis.Port);
        Assert.True(await RedisServer.PingAsync(port));
        Assert.Equal("$-1\r\n", await CommandAsync(port, "GET", "k"));
    }

    [Fact]
    public async Task DisposeAsync_Running_ProcessEndsAndPortRefuses()
    {
        var redis = await RedisServer.StartAsync();
        var port = redis.Port;

        await redis.DisposeAsync();

        Assert.False(await RedisServer.PingAsync(port));
        Assert.False(redis.IsRunning);
    }

    /// <summary>Sends one command (RESP array of bulk strings) over a new raw connection and returns the whole reply
    /// (read until it is one complete RESP value; 10 seconds at most).</summary>
    private static async Task<string> CommandAsync(int port, params string[] parts)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), timeout.Token);
        var command = new StringBuilder($"*{parts.Length}\r\n");
        foreach (var part in parts)
        {
            command.Append($"${Encoding.UTF8.GetByteCount(part)}\r\n{part}\r\n");
        }

        await socket.SendAsync(Encoding.UTF8.GetBytes(command.ToString()), SocketFlags.None, timeout.Token);
        var reply = "";
        var buffer = new byte[4096];
        while (End(reply, 0) != reply.Length)
        {
            var n = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            Assert.True(n > 0, $"connection closed after {reply}");
            reply += Encoding.UTF8.GetString(buffer, 0, n);
        }

        return reply;
    }

    /// <summary>Where the RESP value starting at <paramref name="at"/> ends, or -1 when it is not complete yet.</summary>
    private static int End(string text, int at)
    {
        var line = text.IndexOf("\r\n", at, StringComparison.Ordinal);
        if (line < 0)
        {
            return -1;
        }

        var after = line + 2;
        switch (text[at])
        {
            case '$':
                var length = int.Parse(text.AsSpan(at + 1, line - at - 1), System.Globalization.CultureInfo.InvariantCulture);
                return length < 0 ? after : text.Length >= after + length + 2 ? after + length + 2 : -1;
            case '*':
                var count = int.Parse(text.AsSpan(at + 1, line - at - 1), System.Globalization.CultureInfo.InvariantCulture);
                for (var i = 0; i < count && after >= 0; i++)
                {
                    after = End(text, after);
                }

                return after;
            default:
                return after;
        }
    }
}
