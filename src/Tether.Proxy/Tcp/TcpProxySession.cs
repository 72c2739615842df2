using System.Buffers;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace Tether.Proxy.Tcp;

/// <summary>
/// One proxied TCP connection: two pumps, client → node and node → client, each awaiting the other side before it
/// reads more (backpressure: a slow reader stops the writer; nothing is buffered beyond one read per direction).
/// </summary>
/// <remarks>
/// <para>Client → node reads Kestrel's transport pipe (<see cref="ConnectionContext.Transport"/>) and sends each
/// segment to the node socket. Node → client waits for data without holding a buffer (a zero-byte receive), then
/// reads up to 64 KiB from a pooled array and sends it on the client's socket
/// (<see cref="IConnectionSocketFeature"/>). It does not write through the transport's output pipe because Kestrel's
/// socket transport closes the whole socket when that pipe completes, so it cannot send a FIN and keep receiving
/// (half-close). Without the socket feature (another transport), it writes through the pipe and a node FIN closes
/// both directions.</para>
/// <para>FIN: with <c>halfClosed</c> a FIN from one side is passed on as a shutdown of the send direction to the other
/// side, and the other direction stays open until it ends too; without it, the first FIN closes both sides with a FIN.
/// The idle timeout (no byte either way for <c>timeout</c> seconds, checked every quarter of it, at least every
/// 100 ms) also closes both with a FIN. An error or reset on either side, or the listener's abort after its shutdown
/// timeout, resets both (RST).</para>
/// </remarks>
internal sealed class TcpProxySession
{
    private const int ReceiveBufferSize = 64 * 1024;

    private readonly ConnectionContext _client;
    private readonly Socket? _clientSocket;
    private readonly Socket _node;
    private readonly bool _halfClosed;
    private readonly long _idleTicks;
    private readonly TimeSpan _idleCheckPeriod;
    private readonly TimeProvider _time;
    private long _lastActivity;
    private int _terminated;
    private int _timedOut;
    private long _bytesIn;
    private long _bytesOut;
    private readonly Core.Runtime.UsageCounters? _usage;

    public TcpProxySession(ConnectionContext client, Socket node, bool halfClosed, int idleTimeoutSeconds, TimeProvider time, Core.Runtime.UsageCounters? usage = null)
    {
        _usage = usage;
        _client = client;
        _clientSocket = client.Features.Get<IConnectionSocketFeature>()?.Socket;
        _node = node;
        _halfClosed = halfClosed;
        _time = time;
        _idleTicks = idleTimeoutSeconds * time.TimestampFrequency;
        _idleCheckPeriod = TimeSpan.FromMilliseconds(Math.Max(100, idleTimeoutSeconds * 250));
    }

    /// <summary>Bytes sent from the client to the node (read after <see cref="RunAsync"/>).</summary>
    public long BytesIn => Volatile.Read(ref _bytesIn);

    /// <summary>Bytes sent from the node to the client (read after <see cref="RunAsync"/>).</summary>
    public long BytesOut => Volatile.Read(ref _bytesOut);

    /// <summary>True when the session ended because nothing moved for the idle timeout.</summary>
    public bool TimedOut => Volatile.Read(ref _timedOut) != 0;

    /// <summary>An error that is not an ordinary network outcome (reset, abort, close), for the log.</summary>
    public Exception? UnexpectedError { get; private set; }

    /// <summary>Pumps until both directions have ended.</summary>
    public async Task RunAsync(CancellationToken aborted)
    {
        _lastActivity = _time.GetTimestamp();
        using var abortRegistration = aborted.UnsafeRegister(static s => ((TcpProxySession)s!).Terminate(abortive: true), this);
        using var idleTimer = _time.CreateTimer(static s => ((TcpProxySession)s!).CheckIdle(), this, _idleCheckPeriod, _idleCheckPeriod);
        var toNode = PumpClientToNodeAsync();
        var toClient = PumpNodeToClientAsync();
        await toNode.ConfigureAwait(false);
        await toClient.ConfigureAwait(false);

        // Both directions ended on their own (half-close both ways): a late idle tick must not touch the connection.
        Interlocked.Exchange(ref _terminated, 1);
    }

    // The pumps keep every await in their own loop: a nested async helper would box a state machine per call once
    // it suspends, which is per read on a busy connection.
    private async Task PumpClientToNodeAsync()
    {
        var input = _client.Transport.Input;
        try
        {
            while (true)
            {
                var result = await input.ReadAsync().ConfigureAwait(false);
                if (result.IsCanceled)
                {
                    break;
                }

                var buffer = result.Buffer;
                if (!buffer.IsEmpty)
                {
                    Touch();
                    if (buffer.IsSingleSegment)
                    {
                        var data = buffer.First;
                        while (!data.IsEmpty)
                        {
                            data = data[await _node.SendAsync(data, SocketFlags.None).ConfigureAwait(false)..];
                        }
                    }
                    else
                    {
                        // Kestrel's pipe holds small blocks: gather them so that one send carries up to 64 KiB.
                        var scratch = ArrayPool<byte>.Shared.Rent(ReceiveBufferSize);
                        try
                        {
                            var rest = buffer;
                            while (!rest.IsEmpty)
                            {
                                var length = (int)Math.Min(rest.Length, scratch.Length);
                                rest.Slice(0, length).CopyTo(scratch);
                                rest = rest.Slice(length);
                                var data = new ReadOnlyMemory<byte>(scratch, 0, length);
                                while (!data.IsEmpty)
                                {
                                    data = data[await _node.SendAsync(data, SocketFlags.None).ConfigureAwait(false)..];
                                }
                            }
                        }
                        finally
                        {
                            ArrayPool<byte>.Shared.Return(scratch);
                        }
                    }
                }

                _bytesIn += buffer.Length;
                _usage?.AddIncoming(buffer.Length);
                input.AdvanceTo(buffer.End);
                if (result.IsCompleted)
                {
                    // The client sent FIN.
                    if (_halfClosed && Volatile.Read(ref _terminated) == 0)
                    {
                        _node.Shutdown(SocketShutdown.Send);
                        return;
                    }

                    break;
                }
            }
        }
        catch (Exception e)
        {
            Observe(e);
            Terminate(abortive: true);
            return;
        }

        Terminate(abortive: false);
    }

    private async Task PumpNodeToClientAsync()
    {
        var output = _client.Transport.Output;
        byte[]? buffer = null;
        try
        {
            while (true)
            {
                if (buffer is null)
                {
                    // Wait for data without holding a buffer: an idle connection costs no receive buffer.
                    await _node.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None).ConfigureAwait(false);
                    buffer = ArrayPool<byte>.Shared.Rent(ReceiveBufferSize);
                }

                var received = await _node.ReceiveAsync(buffer.AsMemory(), SocketFlags.None).ConfigureAwait(false);
                if (received == 0)
                {
                    break;
                }

                Touch();
                _bytesOut += received;
                _usage?.AddOutgoing(received);
                if (_clientSocket is not null)
                {
                    var data = new ReadOnlyMemory<byte>(buffer, 0, received);
                    while (!data.IsEmpty)
                    {
                        data = data[await _clientSocket.SendAsync(data, SocketFlags.None).ConfigureAwait(false)..];
                    }
                }
                else
                {
                    var flush = await output.WriteAsync(new ReadOnlyMemory<byte>(buffer, 0, received)).ConfigureAwait(false);
                    if (flush.IsCompleted || flush.IsCanceled)
                    {
                        break;
                    }
                }

                if (received < buffer.Length)
                {
                    // Drained for now: give the buffer back until more data comes. A full read keeps it (bulk transfer).
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = null;
                }
            }

            // The node sent FIN (or the client's pipe is gone).
            if (_halfClosed && Volatile.Read(ref _terminated) == 0)
            {
                if (_clientSocket is not null)
                {
                    _clientSocket.Shutdown(SocketShutdown.Send);
                    return;
                }

                await output.CompleteAsync().ConfigureAwait(false);
            }
        }
        catch (Exception e)
        {
            Observe(e);
            Terminate(abortive: true);
            return;
        }
        finally
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        Terminate(abortive: false);
    }

    private void Touch() => Volatile.Write(ref _lastActivity, _time.GetTimestamp());

    private void CheckIdle()
    {
        if (Volatile.Read(ref _terminated) == 0 && _time.GetTimestamp() - Volatile.Read(ref _lastActivity) >= _idleTicks)
        {
            Volatile.Write(ref _timedOut, 1);
            Terminate(abortive: false);
        }
    }

    /// <summary>Closes both sides at once; the pumps see their pending operations fail or end and return.</summary>
    /// <param name="abortive">True to reset both sides (an error or reset on one side, or the listener's abort);
    /// false to close both with a FIN (a FIN without half-close, or the idle timeout). A shutdown of both directions
    /// also ends a send or receive pending on the socket.</param>
    private void Terminate(bool abortive)
    {
        if (Interlocked.Exchange(ref _terminated, 1) != 0)
        {
            return;
        }

        try
        {
            if (abortive)
            {
                _node.Close(timeout: 0);
                _client.Abort();
                return;
            }

            ShutdownQuietly(_node);
            _node.Dispose();
            _client.Transport.Input.CancelPendingRead();
            if (_clientSocket is not null)
            {
                ShutdownQuietly(_clientSocket);
            }
            else
            {
                _client.Abort();
            }
        }
        catch (Exception e) when (e is ObjectDisposedException or InvalidOperationException)
        {
            // The connection was already torn down.
        }
    }

    private static void ShutdownQuietly(Socket socket)
    {
        try
        {
            socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // Not connected any more: the dispose that follows closes it.
        }
    }

    private void Observe(Exception e)
    {
        if (Volatile.Read(ref _terminated) == 0 && !IsNetworkOutcome(e))
        {
            UnexpectedError = e;
        }
    }

    private static bool IsNetworkOutcome(Exception e) =>
        e is SocketException or ObjectDisposedException or IOException or OperationCanceledException or ConnectionAbortedException;
}
