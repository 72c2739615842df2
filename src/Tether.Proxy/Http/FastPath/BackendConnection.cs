using System.Net.Sockets;

namespace Tether.Proxy.Http.FastPath;

/// <summary>
/// One keep-alive HTTP/1.1 connection of the fast path to a node: a socket (Nagle off) and the buffer its answers are
/// read into. Used by one client connection at a time, for one exchange; between exchanges it rests in the
/// node's <see cref="BackendPool"/>, which counts it from creation to <see cref="Dispose"/>.
/// </summary>
internal sealed class BackendConnection : IDisposable
{
    /// <summary>The buffer size a connection starts with; a response head may grow it to <see cref="MaxHeadBytes"/>.</summary>
    public const int InitialBufferBytes = 16 * 1024;

    /// <summary>The largest response head Tether accepts from a node; a larger one is a 502.</summary>
    public const int MaxHeadBytes = 64 * 1024;

    private readonly Socket _socket;
    private int _disposed;

    private BackendConnection(Socket socket, BackendPool pool)
    {
        _socket = socket;
        Pool = pool;
        Buffer = new byte[InitialBufferBytes];
    }

    /// <summary>The pool of the node this connection goes to.</summary>
    public BackendPool Pool { get; }

    /// <summary>The receive buffer; <see cref="Start"/>..<see cref="End"/> holds bytes read and not yet used.</summary>
    public byte[] Buffer { get; private set; }

    public int Start { get; set; }

    public int End { get; set; }

    /// <summary>How many requests this connection has carried (0 for a new one).</summary>
    public int Uses { get; set; }

    /// <summary>When it was last returned to the pool (the pool clock's milliseconds, <see cref="ClockReads.Milliseconds"/>).</summary>
    public long IdleSince { get; set; }

    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>A new, not yet connected connection to <paramref name="pool"/>'s node, counted as open by the pool
    /// whatever its limit (tests; requests use <see cref="BackendPool.AcquireAsync"/>).</summary>
    /// <exception cref="SocketException">No socket could be created (for example, out of file descriptors).</exception>
    public static BackendConnection Create(BackendPool pool)
    {
        pool.CountOpened();
        return CreateCounted(pool);
    }

    /// <summary>A new connection in a place the pool already counted; the place is given back when the socket cannot
    /// be created.</summary>
    /// <exception cref="SocketException">No socket could be created (for example, out of file descriptors).</exception>
    internal static BackendConnection CreateCounted(BackendPool pool)
    {
        Socket socket;
        try
        {
            socket = new Socket(pool.EndPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        }
        catch
        {
            pool.OnClosed();
            throw;
        }

        return new BackendConnection(socket, pool);
    }

    /// <summary>Connects. A connect that fails, or that the client connection's timeout cuts by disposing this
    /// connection, throws <see cref="SocketException"/> or <see cref="ObjectDisposedException"/>.</summary>
    public ValueTask ConnectAsync() => _socket.ConnectAsync(Pool.EndPoint, CancellationToken.None);

    /// <summary>False when the idle connection has something to read: the node closed it (or sent bytes nobody asked
    /// for). One poll system call.</summary>
    public bool LooksAlive()
    {
        try
        {
            return !_socket.Poll(0, SelectMode.SelectRead);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>Sends all of <paramref name="data"/>.</summary>
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask SendAsync(ReadOnlyMemory<byte> data)
    {
        while (!data.IsEmpty)
        {
            var sent = await _socket.SendAsync(data, SocketFlags.None).ConfigureAwait(false);
            data = data[sent..];
        }
    }

    /// <summary>Reads into <paramref name="destination"/>; 0 when the node closed the connection.</summary>
    public ValueTask<int> ReceiveAsync(Memory<byte> destination) => _socket.ReceiveAsync(destination, SocketFlags.None);

    /// <summary>Reads more bytes after <see cref="End"/>, moving unused bytes to the front and growing the buffer up
    /// to <see cref="MaxHeadBytes"/> when it is full.</summary>
    /// <returns>The bytes read; 0 when the node closed the connection; -1 when the buffer cannot grow.</returns>
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<int> FillAsync()
    {
        if (Start > 0)
        {
            Buffer.AsSpan(Start, End - Start).CopyTo(Buffer);
            End -= Start;
            Start = 0;
        }

        if (End == Buffer.Length)
        {
            if (Buffer.Length >= MaxHeadBytes)
            {
                return -1;
            }

            var bigger = new byte[Buffer.Length * 2];
            Buffer.AsSpan(0, End).CopyTo(bigger);
            Buffer = bigger;
        }

        var read = await _socket.ReceiveAsync(Buffer.AsMemory(End), SocketFlags.None).ConfigureAwait(false);
        End += read;
        return read;
    }

    /// <summary>Closes the socket; a pending send or receive ends with an exception. Safe from any thread, more than once.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _socket.Dispose();
            Pool.OnClosed();
        }
    }
}
