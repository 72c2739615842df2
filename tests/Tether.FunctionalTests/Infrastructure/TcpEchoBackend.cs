using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;

namespace Tether.FunctionalTests.Infrastructure;

/// <summary>What a <see cref="TcpEchoBackend"/> does after its greeting.</summary>
public enum TcpEchoMode
{
    /// <summary>Echoes every byte; at the client's FIN it sends <c>bye\n</c> and then its own FIN.</summary>
    Echo,

    /// <summary>Sends its FIN right after the greeting, then reads until the client's FIN and reports what it read in
    /// <see cref="TcpEchoBackend.Received"/>.</summary>
    ShutdownSendFirst,
}

/// <summary>A TCP backend on 127.0.0.1 with an ephemeral port. On connect it sends its name and a newline, so that a
/// client knows which node it reached; then it behaves as <see cref="TcpEchoMode"/> says.</summary>
public sealed class TcpEchoBackend : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _acceptLoop;
    private readonly TcpEchoMode _mode;
    private readonly List<Socket> _open = [];
    private int _connections;
    private int _active;
    private int _disposed;

    private TcpEchoBackend(string name, TcpEchoMode mode)
    {
        Name = name;
        _mode = mode;
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(512);
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        _acceptLoop = AcceptLoopAsync();
    }

    public string Name { get; }

    public int Port { get; }

    /// <summary>Connections accepted so far.</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Connections open now.</summary>
    public int Active => Volatile.Read(ref _active);

    /// <summary><see cref="TcpEchoMode.ShutdownSendFirst"/>: what each connection read before its end.</summary>
    public Channel<string> Received { get; } = Channel.CreateUnbounded<string>();

    public static TcpEchoBackend Start(string name, TcpEchoMode mode = TcpEchoMode.Echo) => new(name, mode);

    /// <summary>A port that refuses connections (a backend that was started and stopped).</summary>
    public static async Task<int> DeadPortAsync()
    {
        var dead = Start("dead");
        var port = dead.Port;
        await dead.DisposeAsync();
        return port;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync();
        _listener.Dispose();
        try
        {
            await _acceptLoop;
        }
        catch (OperationCanceledException)
        {
        }

        lock (_open)
        {
            foreach (var socket in _open)
            {
                socket.Dispose();
            }
        }

        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptAsync(_stop.Token);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
            {
                return;
            }

            lock (_open)
            {
                _open.Add(socket);
            }

            _ = ServeAsync(socket);
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        Interlocked.Increment(ref _connections);
        Interlocked.Increment(ref _active);
        var received = new StringBuilder();
        try
        {
            socket.NoDelay = true;
            await socket.SendAsync(Encoding.ASCII.GetBytes(Name + "\n"), SocketFlags.None);
            var buffer = new byte[64 * 1024];
            if (_mode == TcpEchoMode.ShutdownSendFirst)
            {
                socket.Shutdown(SocketShutdown.Send);
                while (true)
                {
                    var n = await socket.ReceiveAsync(buffer, SocketFlags.None);
                    if (n == 0)
                    {
                        break;
                    }

                    received.Append(Encoding.ASCII.GetString(buffer, 0, n));
                }

                return;
            }

            while (true)
            {
                var n = await socket.ReceiveAsync(buffer, SocketFlags.None);
                if (n == 0)
                {
                    break;
                }

                var data = buffer.AsMemory(0, n);
                while (!data.IsEmpty)
                {
                    data = data[await socket.SendAsync(data, SocketFlags.None)..];
                }
            }

            await socket.SendAsync("bye\n"u8.ToArray(), SocketFlags.None);
            socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
        finally
        {
            if (_mode == TcpEchoMode.ShutdownSendFirst)
            {
                Received.Writer.TryWrite(received.ToString());
            }

            Interlocked.Decrement(ref _active);
            lock (_open)
            {
                _open.Remove(socket);
            }

            socket.Dispose();
        }
    }
}

/// <summary>A TCP client of a layer 4 load balancer on 127.0.0.1, optionally from another loopback source address
/// (127.0.0.2 and up; Linux routes all of 127.0.0.0/8 to the loopback interface).</summary>
public sealed class TcpTestClient : IDisposable
{
    private readonly byte[] _buffer = new byte[64 * 1024];
    private readonly StringBuilder _pending = new();

    private TcpTestClient(Socket socket)
    {
        Socket = socket;
    }

    public Socket Socket { get; }

    public static async Task<TcpTestClient> ConnectAsync(int port, string? sourceAddress = null)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (sourceAddress is not null)
        {
            socket.Bind(new IPEndPoint(IPAddress.Parse(sourceAddress), 0));
        }

        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port)).WaitAsync(TimeSpan.FromSeconds(5));
        return new TcpTestClient(socket);
    }

    /// <summary>Connects, reads the backend's greeting, and closes: the name of the node the connection reached.</summary>
    public static async Task<string> ReachAsync(int port, string? sourceAddress = null)
    {
        using var client = await ConnectAsync(port, sourceAddress);
        return await client.ReadLineAsync();
    }

    /// <summary>Reads one line (without the newline); throws <see cref="EndOfStreamException"/> at EOF.</summary>
    public async Task<string> ReadLineAsync(int timeoutMs = 5000)
    {
        using var timeout = new CancellationTokenSource(timeoutMs);
        while (true)
        {
            var text = _pending.ToString();
            var newline = text.IndexOf('\n', StringComparison.Ordinal);
            if (newline >= 0)
            {
                _pending.Remove(0, newline + 1);
                return text[..newline];
            }

            var n = await Socket.ReceiveAsync(_buffer, SocketFlags.None, timeout.Token);
            if (n == 0)
            {
                throw new EndOfStreamException($"EOF after '{text}'");
            }

            _pending.Append(Encoding.ASCII.GetString(_buffer, 0, n));
        }
    }

    /// <summary>Reads until EOF (or a reset, which ends the text too) and returns what was not read yet.</summary>
    public async Task<string> ReadToEndAsync(int timeoutMs = 5000)
    {
        using var timeout = new CancellationTokenSource(timeoutMs);
        try
        {
            while (true)
            {
                var n = await Socket.ReceiveAsync(_buffer, SocketFlags.None, timeout.Token);
                if (n == 0)
                {
                    break;
                }

                _pending.Append(Encoding.ASCII.GetString(_buffer, 0, n));
            }
        }
        catch (SocketException)
        {
        }

        var text = _pending.ToString();
        _pending.Clear();
        return text;
    }

    public Task SendAsync(string text) => Socket.SendAsync(Encoding.ASCII.GetBytes(text), SocketFlags.None);

    public void Dispose() => Socket.Dispose();
}
