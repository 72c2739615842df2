using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;

namespace Tether.FunctionalTests.Infrastructure;

/// <summary>One HTTP/1.x response as it came off the wire.</summary>
/// <param name="Version">The status line's version, for example <c>HTTP/1.1</c>.</param>
/// <param name="Status">The status code.</param>
/// <param name="Reason">The reason phrase (may be empty).</param>
/// <param name="Headers">Every header line in order, duplicates kept, names as sent.</param>
/// <param name="Body">The body (chunked bodies decoded); empty for HEAD, 1xx, 204 and 304.</param>
/// <param name="Truncated">True when the connection ended (EOF or reset) before the body was complete; then
/// <paramref name="Body"/> holds what came.</param>
public sealed record RawResponse(string Version, int Status, string Reason, IReadOnlyList<KeyValuePair<string, string>> Headers,
    byte[] Body, bool Truncated)
{
    /// <summary>The body as UTF-8 text.</summary>
    public string Text => Encoding.UTF8.GetString(Body);

    /// <summary>Every value of <paramref name="name"/> (case-insensitive), one per header line, in order.</summary>
    public IReadOnlyList<string> Values(string name) =>
        [.. Headers.Where(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value)];

    /// <summary>The value of the single <paramref name="name"/> line, or null; fails when the header came twice.</summary>
    public string? Header(string name)
    {
        var values = Values(name);
        Assert.True(values.Count <= 1, $"{name} came {values.Count} times: {string.Join(" | ", values)}");
        return values.Count == 0 ? null : values[0];
    }

    /// <summary>True when <c>Connection</c> lists <paramref name="option"/> (for example <c>close</c>).</summary>
    public bool ConnectionHas(string option) =>
        Values("Connection").SelectMany(v => v.Split(',')).Any(o => string.Equals(o.Trim(), option, StringComparison.OrdinalIgnoreCase));

    /// <summary>True when the last transfer coding is <c>chunked</c>.</summary>
    public bool IsChunked => IsChunkedCoding(Values("Transfer-Encoding"));

    /// <summary>The lines of an <c>/echo</c> answer that start with <paramref name="prefix"/> (the prefix removed).</summary>
    public IReadOnlyList<string> EchoLines(string prefix) =>
        [.. Text.Split('\n').Where(l => l.StartsWith(prefix, StringComparison.Ordinal)).Select(l => l[prefix.Length..])];

    /// <summary>The single value an <c>/echo</c> answer reports for <paramref name="key"/> (<c>length</c>, <c>sha256</c>,
    /// <c>path</c>, ...).</summary>
    public string Echo(string key) => Assert.Single(EchoLines(key + "="));

    /// <summary>The values of request header <paramref name="name"/> an <c>/echo</c> answer reports, one per value.</summary>
    public IReadOnlyList<string> EchoHeader(string name) =>
        [.. EchoLines("header=").Select(l => l.Split(": ", 2)).Where(p => string.Equals(p[0], name, StringComparison.OrdinalIgnoreCase)).Select(p => p[1])];

    /// <summary>The status line, the headers, and the body's size (and its start, when it is short text).</summary>
    public override string ToString()
    {
        var preview = Body.Length is > 0 and <= 600 && Body.All(b => b is >= 0x20 and < 0x7f or (byte)'\n' or (byte)'\r' or (byte)'\t')
            ? ": " + Text.ReplaceLineEndings(" | ")
            : "";
        return $"{Version} {Status} {Reason} [{string.Join("; ", Headers.Select(h => h.Key + ": " + h.Value))}] body {Body.Length} bytes{(Truncated ? " (truncated)" : "")}{preview}";
    }

    internal static bool IsChunkedCoding(IReadOnlyList<string> transferEncoding)
    {
        var last = transferEncoding.SelectMany(v => v.Split(',')).Select(c => c.Trim()).LastOrDefault(c => c.Length > 0);
        return string.Equals(last, "chunked", StringComparison.OrdinalIgnoreCase);
    }
}

/// <summary>
/// A raw HTTP/1.1 client connection on 127.0.0.1: it sends exact bytes and reads responses off the socket itself (status
/// line, header lines in order, body by Content-Length, chunked or until close), so that framing the server gets wrong
/// shows instead of being smoothed over. Every read has a timeout, so a server that hangs fails the test.
/// </summary>
public sealed class RawHttpConnection : IDisposable
{
    /// <summary>How long one read may wait for bytes before the test fails.</summary>
    public static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(10);

    private readonly byte[] _scratch = new byte[64 * 1024];
    private byte[] _pending = new byte[64 * 1024];
    private int _start;
    private int _end;
    private bool _eof;

    private RawHttpConnection(Socket socket)
    {
        Socket = socket;
    }

    public Socket Socket { get; }

    public static async Task<RawHttpConnection> ConnectAsync(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var timeout = new CancellationTokenSource(ReadTimeout);
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), timeout.Token);
        return new RawHttpConnection(socket);
    }

    /// <summary>Sends <paramref name="text"/> as Latin-1 bytes (CR LF written out by the caller).</summary>
    public Task SendAsync(string text) => SendAsync(Encoding.Latin1.GetBytes(text));

    public async Task SendAsync(ReadOnlyMemory<byte> bytes)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!bytes.IsEmpty)
        {
            bytes = bytes[await Socket.SendAsync(bytes, SocketFlags.None, timeout.Token)..];
        }
    }

    /// <summary>Reads the next response, interim (1xx) ones included. <paramref name="headRequest"/>: the response
    /// answers a HEAD, so it has no body whatever its headers say.</summary>
    /// <exception cref="EndOfStreamException">The connection ended before a complete head.</exception>
    public async Task<RawResponse> ReadResponseAsync(bool headRequest = false)
    {
        var statusLine = await ReadLineAsync("status line");
        var parts = statusLine.Split(' ', 3);
        if (parts.Length < 2 || !parts[0].StartsWith("HTTP/", StringComparison.Ordinal) || parts[1].Length != 3
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var status))
        {
            throw new InvalidDataException($"not a status line: '{statusLine}'");
        }

        var headers = new List<KeyValuePair<string, string>>();
        while (true)
        {
            var line = await ReadLineAsync("header line");
            if (line.Length == 0)
            {
                break;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                throw new InvalidDataException($"not a header line: '{line}'");
            }

            headers.Add(new(line[..colon], line[(colon + 1)..].Trim(' ', '\t')));
        }

        var response = new RawResponse(parts[0], status, parts.Length > 2 ? parts[2] : "", headers, [], false);
        if (headRequest || status is < 200 or 204 or 304)
        {
            return response;
        }

        if (RawResponse.IsChunkedCoding(response.Values("Transfer-Encoding")))
        {
            var (body, truncated) = await ReadChunkedAsync();
            return response with { Body = body, Truncated = truncated };
        }

        var lengths = response.Values("Content-Length");
        if (lengths.Count > 0)
        {
            var length = long.Parse(lengths[0], NumberStyles.None, CultureInfo.InvariantCulture);
            var (body, truncated) = await ReadExactlyAsync(length);
            return response with { Body = body, Truncated = truncated };
        }

        return response with { Body = await ReadToEndAsync() };
    }

    /// <summary>Reads responses until a final one (status 101 or 200 and up); the interim ones read on the way are
    /// added to <paramref name="interim"/> when given.</summary>
    public async Task<RawResponse> ReadFinalResponseAsync(bool headRequest = false, List<RawResponse>? interim = null)
    {
        while (true)
        {
            var response = await ReadResponseAsync(headRequest);
            if (response.Status is >= 200 or 101)
            {
                return response;
            }

            interim?.Add(response);
        }
    }

    /// <summary>Sends <paramref name="request"/> and reads its final response.</summary>
    public async Task<RawResponse> RoundTripAsync(string request, bool headRequest = false)
    {
        await SendAsync(request);
        return await ReadFinalResponseAsync(headRequest);
    }

    /// <summary>Every byte until the server closes (a reset counts as a close).</summary>
    public async Task<byte[]> ReadToEndAsync()
    {
        using var body = new MemoryStream();
        while (await FillAsync("the end of a close-delimited body", allowEof: true))
        {
            body.Write(_pending, _start, _end - _start);
            _start = _end;
        }

        body.Write(_pending, _start, _end - _start);
        _start = _end;
        return body.ToArray();
    }

    /// <summary>Waits up to <paramref name="wait"/> (default <see cref="ReadTimeout"/>) for the server to close the
    /// connection: true at EOF or reset, false when it is still open then. Bytes that come meanwhile are kept for the
    /// next read and reported in <see cref="PendingBytes"/>.</summary>
    public async Task<bool> ServerClosedAsync(TimeSpan? wait = null)
    {
        if (_eof)
        {
            return true;
        }

        using var timeout = new CancellationTokenSource(wait ?? ReadTimeout);
        try
        {
            while (true)
            {
                Compact();
                var n = await Socket.ReceiveAsync(_pending.AsMemory(_end), SocketFlags.None, timeout.Token);
                if (n == 0)
                {
                    _eof = true;
                    return true;
                }

                _end += n;
            }
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted)
        {
            _eof = true;
            return true;
        }
    }

    /// <summary>Bytes received but not read as part of a response.</summary>
    public int PendingBytes => _end - _start;

    public void Dispose() => Socket.Dispose();

    private async Task<(byte[] Body, bool Truncated)> ReadExactlyAsync(long length)
    {
        var body = new byte[length];
        var copied = 0;
        while (copied < length)
        {
            if (_start == _end && !await FillAsync("body bytes", allowEof: true))
            {
                return (body[..copied], true);
            }

            var n = (int)Math.Min(length - copied, _end - _start);
            Buffer.BlockCopy(_pending, _start, body, copied, n);
            _start += n;
            copied += n;
        }

        return (body, false);
    }

    private async Task<(byte[] Body, bool Truncated)> ReadChunkedAsync()
    {
        using var body = new MemoryStream();
        while (true)
        {
            var sizeLine = await TryReadLineAsync("chunk size");
            if (sizeLine is null)
            {
                return (body.ToArray(), true);
            }

            var semicolon = sizeLine.IndexOf(';', StringComparison.Ordinal);
            var size = long.Parse((semicolon < 0 ? sizeLine : sizeLine[..semicolon]).Trim(), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
            if (size == 0)
            {
                // Trailer section: header lines up to an empty one.
                while (true)
                {
                    var trailer = await TryReadLineAsync("trailer");
                    if (trailer is null)
                    {
                        return (body.ToArray(), true);
                    }

                    if (trailer.Length == 0)
                    {
                        return (body.ToArray(), false);
                    }
                }
            }

            var (chunk, truncated) = await ReadExactlyAsync(size);
            body.Write(chunk);
            if (truncated)
            {
                return (body.ToArray(), true);
            }

            var end = await TryReadLineAsync("chunk end");
            if (end is null)
            {
                return (body.ToArray(), true);
            }

            if (end.Length != 0)
            {
                throw new InvalidDataException($"chunk of {size} bytes not followed by CRLF but '{end}'");
            }
        }
    }

    private async Task<string> ReadLineAsync(string what) =>
        await TryReadLineAsync(what) ?? throw new EndOfStreamException($"connection ended before the {what}");

    /// <summary>One line without its CRLF (a bare LF ends a line too), or null at EOF.</summary>
    private async Task<string?> TryReadLineAsync(string what)
    {
        var scanned = _start;
        while (true)
        {
            var newline = Array.IndexOf(_pending, (byte)'\n', scanned, _end - scanned);
            if (newline >= 0)
            {
                var length = newline - _start;
                if (length > 0 && _pending[newline - 1] == '\r')
                {
                    length--;
                }

                var line = Encoding.Latin1.GetString(_pending, _start, length);
                _start = newline + 1;
                return line;
            }

            scanned = _end;
            var before = _start;
            if (!await FillAsync(what, allowEof: true))
            {
                return null;
            }

            scanned -= before - _start;
        }
    }

    /// <summary>Reads more bytes into the buffer; false at EOF (or a reset) when <paramref name="allowEof"/>.</summary>
    private async Task<bool> FillAsync(string what, bool allowEof)
    {
        if (_eof)
        {
            return allowEof ? false : throw new EndOfStreamException($"EOF while reading {what}");
        }

        Compact();
        using var timeout = new CancellationTokenSource(ReadTimeout);
        int n;
        try
        {
            n = await Socket.ReceiveAsync(_pending.AsMemory(_end), SocketFlags.None, timeout.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"no bytes within {ReadTimeout.TotalSeconds} s while reading {what}; pending: '{Encoding.Latin1.GetString(_pending, _start, Math.Min(_end - _start, 200))}'");
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted)
        {
            n = 0;
        }

        if (n == 0)
        {
            _eof = true;
            return allowEof ? false : throw new EndOfStreamException($"EOF while reading {what}");
        }

        _end += n;
        return true;
    }

    /// <summary>Moves unread bytes to the front and grows the buffer when it is full.</summary>
    private void Compact()
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_pending, _start, _pending, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        if (_end == _pending.Length)
        {
            Array.Resize(ref _pending, _pending.Length * 2);
        }
    }
}

/// <summary>
/// A hand-written HTTP backend: a listener on 127.0.0.1 with an ephemeral port whose every connection runs
/// <see cref="Handler"/> (typically: read the request head, write crafted bytes); the connection is closed when the
/// handler returns. For responses a real server would never send.
/// </summary>
public sealed class RawBackend : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _acceptLoop;
    private readonly ConcurrentBag<Task> _connections = [];
    private int _accepted;

    private RawBackend(Func<RawBackendConnection, Task> handler)
    {
        Handler = handler;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _acceptLoop = AcceptLoopAsync();
    }

    public int Port { get; }

    /// <summary>What each connection does.</summary>
    public Func<RawBackendConnection, Task> Handler { get; set; }

    /// <summary>Connections accepted so far.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>Every request head read by <see cref="RawBackendConnection.ReadHeadAsync"/>, in order.</summary>
    public ConcurrentQueue<string> Heads { get; } = new();

    public static RawBackend Start(Func<RawBackendConnection, Task> handler) => new(handler);

    /// <summary>A backend that reads one request head and writes <paramref name="response"/> (Latin-1), then closes.</summary>
    public static RawBackend Answering(string response) => Start(async c =>
    {
        await c.ReadHeadAsync();
        await c.WriteAsync(response);
    });

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _acceptLoop;
        foreach (var connection in _connections)
        {
            await connection;
        }

        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (true)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
            {
                return; // stopped (InvalidOperationException: Stop ran before the next accept began)
            }

            Interlocked.Increment(ref _accepted);
            _connections.Add(ServeAsync(socket));
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        using var connection = new RawBackendConnection(this, socket, _stop.Token);
        try
        {
            await Handler(connection);
            socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException or IOException)
        {
        }
    }
}

/// <summary>One connection accepted by a <see cref="RawBackend"/>.</summary>
public sealed class RawBackendConnection : IDisposable
{
    private readonly RawBackend _backend;
    private readonly CancellationToken _stopping;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private readonly StringBuilder _received = new();

    internal RawBackendConnection(RawBackend backend, Socket socket, CancellationToken stopping)
    {
        _backend = backend;
        Socket = socket;
        _stopping = stopping;
    }

    public Socket Socket { get; }

    /// <summary>Reads up to the end of the next request head (the empty line) and returns the head; bytes after it are
    /// discarded (the tests' requests to a raw backend have no body). Null when the peer closed first.</summary>
    public async Task<string?> ReadHeadAsync()
    {
        while (true)
        {
            var text = _received.ToString();
            var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end >= 0)
            {
                _received.Clear();
                var head = text[..(end + 4)];
                _backend.Heads.Enqueue(head);
                return head;
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping);
            timeout.CancelAfter(RawHttpConnection.ReadTimeout);
            var n = await Socket.ReceiveAsync(_buffer, SocketFlags.None, timeout.Token);
            if (n == 0)
            {
                return null;
            }

            _received.Append(Encoding.Latin1.GetString(_buffer, 0, n));
        }
    }

    public Task WriteAsync(string text) => WriteAsync(Encoding.Latin1.GetBytes(text));

    public async Task WriteAsync(ReadOnlyMemory<byte> bytes)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        while (!bytes.IsEmpty)
        {
            bytes = bytes[await Socket.SendAsync(bytes, SocketFlags.None, timeout.Token)..];
        }
    }

    public void Dispose() => Socket.Dispose();
}

/// <summary>WebSocket checks shared by the tests that go through an upgrade.</summary>
public static class WebSocketChecks
{
    /// <summary>Sends two text messages, asserts each comes back unchanged (the test backend's <c>/ws</c> echoes), and
    /// closes normally.</summary>
    public static async Task EchoTwiceAndCloseAsync(WebSocket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[1024];
        foreach (var message in new[] { "hello", "again" })
        {
            await socket.SendAsync(Encoding.UTF8.GetBytes(message), WebSocketMessageType.Text, true, cancellationToken);
            var received = await socket.ReceiveAsync(buffer, cancellationToken);
            Assert.Equal(WebSocketMessageType.Text, received.MessageType);
            Assert.Equal(message, Encoding.UTF8.GetString(buffer, 0, received.Count));
        }

        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", cancellationToken);
        Assert.Equal(WebSocketState.Closed, socket.State);
    }
}
