using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Tether.FunctionalTests.Infrastructure;

namespace Tether.FunctionalTests.Differential;

/// <summary>One request the capture node received, with the id it answered.</summary>
public sealed record CapturedRequest(int Id, int Connection, StrictMessage Message);

/// <summary>What an answer strategy of a <see cref="CaptureNode"/> gets for one request.</summary>
public sealed class CaptureExchange(CaptureNode node, Socket socket, CapturedRequest request)
{
    public CapturedRequest Request { get; } = request;

    public CaptureNode Node { get; } = node;

    public bool IsHead => Request.Message.Method == "HEAD";

    /// <summary>The node's well-formed answer to <see cref="Request"/>.</summary>
    public byte[] Answer => CaptureNode.AnswerFor(Request);

    public async Task WriteAsync(ReadOnlyMemory<byte> bytes)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!bytes.IsEmpty)
        {
            bytes = bytes[await socket.SendAsync(bytes, SocketFlags.None, timeout.Token)..];
        }
    }

    public Task WriteAsync(string text) => WriteAsync(Encoding.Latin1.GetBytes(text));
}

/// <summary>
/// A raw keep-alive node (a <see cref="RawBackend"/>) that reads every request with <see cref="StrictHttp1Reader"/>,
/// records the exact bytes of its head and body, and answers it with a unique id: <c>X-Capture-Id: n</c>,
/// <c>X-Capture-Target: the request target</c> and a body naming both and the hashes of what it received. A malformed
/// request is recorded in <see cref="Failures"/> and ends the connection. <see cref="Answering"/> replaces the answer
/// (misbehaving nodes): it returns false to close the connection after it.
/// </summary>
public sealed class CaptureNode : IAsyncDisposable
{
    private readonly RawBackend _backend;
    private readonly ConcurrentDictionary<Socket, byte> _sockets = new();
    private int _nextId;
    private int _nextConnection;
    private volatile bool _stopping;

    private CaptureNode(Func<CaptureExchange, Task<bool>>? answering)
    {
        Answering = answering ?? (async e =>
        {
            await e.WriteAsync(e.Answer);
            return true;
        });
        _backend = RawBackend.Start(ServeAsync);
    }

    public int Port => _backend.Port;

    /// <summary>How the node answers each request; false closes the connection after it.</summary>
    public Func<CaptureExchange, Task<bool>> Answering { get; }

    /// <summary>Every request received, by the id it was answered with (a test may remove those it has checked, to
    /// keep long runs small).</summary>
    public ConcurrentDictionary<int, CapturedRequest> ById { get; } = new();

    /// <summary>Requests received.</summary>
    public int Received => Volatile.Read(ref _nextId);

    /// <summary>Every malformed request or framing, described.</summary>
    public ConcurrentQueue<string> Failures { get; } = new();

    /// <summary>Connections accepted.</summary>
    public int Connections => Volatile.Read(ref _nextConnection);

    public static CaptureNode Start(Func<CaptureExchange, Task<bool>>? answering = null) => new(answering);

    /// <summary>The well-formed answer to <paramref name="request"/> (with <c>Content-Length</c>; for a HEAD the same
    /// fields and no body).</summary>
    public static byte[] AnswerFor(CapturedRequest request)
    {
        var m = request.Message;
        var body = Encoding.ASCII.GetBytes(BodyFor(request));
        var head = $"HTTP/1.1 200 OK\r\nX-Capture-Id: {request.Id}\r\nX-Capture-Target: {m.Target}\r\nContent-Length: {body.Length}\r\n\r\n";
        return m.Method == "HEAD" ? Encoding.ASCII.GetBytes(head) : [.. Encoding.ASCII.GetBytes(head), .. body];
    }

    /// <summary>The body of the answer to <paramref name="request"/>.</summary>
    public static string BodyFor(CapturedRequest request) =>
        $"id={request.Id} target={request.Message.Target} head-sha256={Hash(request.Message.Head)} body-sha256={Hash(request.Message.RawBody)}\n";

    private static string Hash(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    public async ValueTask DisposeAsync()
    {
        _stopping = true;
        foreach (var socket in _sockets.Keys)
        {
            socket.Dispose();
        }

        await _backend.DisposeAsync();
    }

    private async Task ServeAsync(RawBackendConnection connection)
    {
        var socket = connection.Socket;
        _sockets[socket] = 0;
        var number = Interlocked.Increment(ref _nextConnection);
        var reader = new StrictHttp1Reader(socket, TimeSpan.FromMinutes(5));
        var last = "(none)";
        try
        {
            while (!_stopping && await reader.ReadRequestAsync() is { } message)
            {
                last = message.Target;
                var request = new CapturedRequest(Interlocked.Increment(ref _nextId), number, message);
                ById[request.Id] = request;
                if (!await Answering(new CaptureExchange(this, socket, request)))
                {
                    return;
                }
            }
        }
        catch (StrictHttpException e)
        {
            Failures.Enqueue($"node connection {number}, after the request for {last}: {e.Message}; unread: '{StrictHttp1Reader.Escape(reader.PendingBytes, 600)}'");
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or IOException or OperationCanceledException or TimeoutException)
        {
            // The peer or the test ended the connection.
        }
        catch (Exception e)
        {
            Failures.Enqueue($"node connection {number}, after the request for {last}: {e}");
        }
        finally
        {
            _sockets.TryRemove(socket, out _);
        }
    }
}
