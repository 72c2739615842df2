using System.Net;
using System.Net.Sockets;

namespace Tether.Proxy.Http.FastPath;

/// <summary>
/// One keep-alive HTTP/1.1 connection of the fast path to a node: a socket (Nagle off) and the buffer its answers are
/// read into. Used by one client connection at a time; between requests it rests in the node's
/// <see cref="BackendPool"/> or stays with the client connection that used it last.
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

    /// <summary>When it was last returned to the pool (<see cref="Environment.TickCount64"/>, milliseconds).</summary>
    public long IdleSince { get; set; }

    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>A new, not yet connected connection to <paramref name="pool"/>'s node.</summary>
    public static BackendConnection Create(BackendPool pool) =>
        new(new Socket(pool.EndPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true }, pool);

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
        }
    }
}

/// <summary>
/// The idle keep-alive connections of the fast path to one node: a fixed array of slots taken and given back with one
/// <see cref="Interlocked"/> exchange each (no lock, no allocation). Connections idle longer than the pooled
/// connection idle timeout are closed by <see cref="Sweep"/> (off the request path) or when found on rent.
/// </summary>
internal sealed class BackendPool : IDisposable
{
    /// <summary>The most idle connections kept per node; one more is closed instead.</summary>
    public const int Slots = 256;

    private readonly BackendConnection?[] _slots = new BackendConnection?[Slots];
    private readonly long _idleTimeoutMs;
    private int _idle;
    private int _hint;
    private volatile bool _disposed;

    public BackendPool(IPEndPoint endPoint, int idleTimeoutSeconds)
    {
        EndPoint = endPoint;
        _idleTimeoutMs = idleTimeoutSeconds * 1000L;
    }

    /// <summary>The node's address.</summary>
    public IPEndPoint EndPoint { get; }

    /// <summary>Idle connections now (approximate under concurrency).</summary>
    public int Idle => Volatile.Read(ref _idle);

    /// <summary>Takes an idle connection, or null when there is none.</summary>
    public BackendConnection? Rent()
    {
        while (Volatile.Read(ref _idle) > 0)
        {
            var found = false;
            var start = Volatile.Read(ref _hint);
            for (var i = 0; i < Slots; i++)
            {
                var index = (start - i) & (Slots - 1);
                if (Volatile.Read(ref _slots[index]) is null)
                {
                    continue;
                }

                var connection = Interlocked.Exchange(ref _slots[index], null);
                if (connection is null)
                {
                    continue;
                }

                found = true;
                Interlocked.Decrement(ref _idle);
                Volatile.Write(ref _hint, index);
                if (Environment.TickCount64 - connection.IdleSince > _idleTimeoutMs || connection.IsDisposed)
                {
                    connection.Dispose();
                    break;
                }

                return connection;
            }

            if (!found)
            {
                return null;
            }
        }

        return null;
    }

    /// <summary>Gives a connection back for reuse; closes it when the pool is full or disposed.</summary>
    public void Return(BackendConnection connection)
    {
        if (_disposed || connection.IsDisposed)
        {
            connection.Dispose();
            return;
        }

        connection.IdleSince = Environment.TickCount64;
        connection.Start = connection.End = 0;
        var start = Volatile.Read(ref _hint);
        for (var i = 0; i < Slots; i++)
        {
            var index = (start + i) & (Slots - 1);
            if (Interlocked.CompareExchange(ref _slots[index], connection, null) is null)
            {
                Interlocked.Increment(ref _idle);
                Volatile.Write(ref _hint, index);
                if (_disposed)
                {
                    Sweep(closeAll: true);
                }

                return;
            }
        }

        connection.Dispose();
    }

    /// <summary>Closes the connections idle for longer than the timeout (or all of them).</summary>
    public void Sweep(bool closeAll = false)
    {
        var now = Environment.TickCount64;
        for (var i = 0; i < Slots; i++)
        {
            var connection = Volatile.Read(ref _slots[i]);
            if (connection is null || (!closeAll && now - connection.IdleSince <= _idleTimeoutMs))
            {
                continue;
            }

            if (ReferenceEquals(Interlocked.CompareExchange(ref _slots[i], null, connection), connection))
            {
                Interlocked.Decrement(ref _idle);
                connection.Dispose();
            }
        }
    }

    /// <summary>Closes every idle connection; connections in use are closed when they come back.</summary>
    public void Dispose()
    {
        _disposed = true;
        Sweep(closeAll: true);
    }
}
