using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Tether.Core.LoadBalancing;
using Tether.Core.Model;
using Tether.Core.Runtime;
using Tether.Core.SessionPersistence;

namespace Tether.Proxy.Http.FastPath;

/// <summary>
/// One client connection on the HTTP/1.1 fast path (issue 4): reads each request head from Kestrel's transport pipe,
/// decides the node (persistence, then the algorithm), writes the head to a keep-alive connection to the node with
/// only the rewriting Tether needs (hop-by-hop fields dropped, <c>X-Forwarded-For/-Proto/-Port</c>), streams the
/// body, reads the answer's head, adds the persistence cookie, and streams the answer's body back: bodies are
/// forwarded as they are, framing included (Content-Length, chunked, or until the node closes).
/// </summary>
/// <remarks>
/// <para>A request the fast path does not serve (HTTP/1.0, Upgrade, Expect, CONNECT, absolute-form or <c>*</c>
/// targets, transfer codings other than chunked, more than eight Connection options, HTTP/2) is left unread in
/// the pipe and the rest of the connection goes to Kestrel's HTTP stack and <see cref="Yarp.ReverseProxy.Forwarder.IHttpForwarder"/>
/// (<see cref="RunAsync"/> returns true), as do connections over the throttle limit and load balancers with
/// an HTTPS redirect.</para>
/// <para>Timeouts run on Kestrel's one-second heartbeat, not on a timer per request: the client's idle keep-alive
/// time and the time to send a head (<see cref="ProxyOptions"/>), the connect timeout, and the load balancer's
/// <c>timeout</c> between two reads from the node (504 before the answer starts).</para>
/// </remarks>
internal sealed class Http1Connection
{
    /// <summary>The longest request line (Kestrel's default); longer is 414.</summary>
    public const int MaxRequestLineBytes = 8 * 1024;

    /// <summary>The largest request head: the request line and 32 KiB of fields (Kestrel's default); larger is 431.</summary>
    public const int MaxRequestHeadBytes = MaxRequestLineBytes + (32 * 1024);

    /// <summary>How much of an answer's body one read from the node may take (a larger read means fewer system calls
    /// per byte; the memory comes from the client pipe's pool).</summary>
    private const int ReceiveChunkBytes = 64 * 1024;

    private static readonly byte[] HeadEnd = "\r\n\r\n"u8.ToArray();

    private readonly Http1Forwarder _owner;
    private readonly ConnectionContext _context;
    private readonly PipeReader _input;
    private readonly PipeWriter _output;
    private readonly RequestHead _request = new();
    private readonly ResponseHead _response = new();
    private readonly ChunkedBodyReader _chunked = new();
    private readonly byte[] _forwardedFor;
    private readonly byte[] _forwardedProtoAndPort;
    private readonly UInt128 _clientKey;
    private byte[] _out = new byte[4096];
    private int _outLength;
    private byte[]? _scratch;
    private char[] _cookies = new char[256];
    private int _cookiesLength;
    private volatile BackendConnection? _active;
    private volatile int _phase;
    private long _phaseSince;
    private volatile bool _timedOut;
    private volatile bool _closeRequested;
    private readonly bool _isHttps;

    public Http1Connection(Http1Forwarder owner, ConnectionContext context, bool isHttps)
    {
        _owner = owner;
        _context = context;
        _input = context.Transport.Input;
        _output = context.Transport.Output;
        _isHttps = isHttps;
        var remote = context.RemoteEndPoint as IPEndPoint;
        var client = remote?.Address;
        if (client is { IsIPv4MappedToIPv6: true })
        {
            client = client.MapToIPv4();
        }

        _clientKey = ClientAddress.ToKey(client);
        _forwardedFor = Encoding.ASCII.GetBytes(client?.ToString() ?? string.Empty);
        var port = (context.LocalEndPoint as IPEndPoint)?.Port ?? 0;
        _forwardedProtoAndPort = Encoding.ASCII.GetBytes(string.Concat(
            "X-Forwarded-Proto: ", isHttps ? "https" : "http", "\r\nX-Forwarded-Port: ", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "\r\n"));
    }

    private enum Phase
    {
        /// <summary>Between requests: <see cref="ProxyOptions.KeepAliveTimeoutSeconds"/>.</summary>
        Idle,
        /// <summary>Reading a request head: <see cref="ProxyOptions.RequestHeadersTimeoutSeconds"/> from its first byte.</summary>
        Head,
        /// <summary>Connecting to a node: the connect timeout.</summary>
        Connect,
        /// <summary>Waiting on the node (send, answer, each read): the load balancer's timeout.</summary>
        Node,
        /// <summary>Waiting on the client in the middle of a request (its body, or room to write the answer): the load
        /// balancer's timeout, as YARP's activity timeout on the other path.</summary>
        Client,
        /// <summary>The connection ended.</summary>
        Closed,
    }

    private enum Exchange
    {
        Done,
        ConnectFailed,
        StaleConnection,
        TimedOut,
        BadGateway,
        ClientGone,
        Aborted,
        BadRequestBody,
        /// <summary>No connection to the node could be had: its connection limit and queue, or no file descriptor.</summary>
        NoConnection,
    }

    /// <summary>Serves requests until the connection ends.</summary>
    /// <returns>True when the rest of the connection is left to Kestrel's HTTP stack (the unread request is still in
    /// the pipe).</returns>
    public async Task<bool> RunAsync()
    {
        _context.Features.Get<IConnectionHeartbeatFeature>()?.OnHeartbeat(static state => ((Http1Connection)state).OnHeartbeat(), this);
        var lifetime = _context.Features.Get<IConnectionLifetimeNotificationFeature>();
        using var closing = lifetime?.ConnectionClosedRequested.Register(static state => ((Http1Connection)state!).OnCloseRequested(), this);
        try
        {
            while (true)
            {
                SetPhase(Phase.Idle);
                ReadResult result;
                long headLength;
                while (true)
                {
                    result = await _input.ReadAsync().ConfigureAwait(false);
                    if (result.IsCanceled || _closeRequested)
                    {
                        return false;
                    }

                    if (_headStarted == 0 && !result.Buffer.IsEmpty)
                    {
                        // The request's first byte (Th and Tt of the connection log start here).
                        _headStarted = System.Diagnostics.Stopwatch.GetTimestamp();
                    }

                    var empty = LeadingEmptyLines(result.Buffer);
                    if (empty > 0)
                    {
                        // RFC 9112 section 2.2: empty lines before a request line are ignored (old clients send CRLF after a POST body).
                        _input.AdvanceTo(result.Buffer.GetPosition(empty));
                        continue;
                    }

                    if (TryFindHeadEnd(result.Buffer, out headLength))
                    {
                        break;
                    }

                    if (result.Buffer.Length > MaxRequestHeadBytes || !FirstLineFits(result.Buffer))
                    {
                        await WriteAndCloseAsync(FirstLineFits(result.Buffer) ? TooLarge : UriTooLong).ConfigureAwait(false);
                        return false;
                    }

                    if (result.IsCompleted)
                    {
                        return false;
                    }

                    if ((Phase)_phase != Phase.Head)
                    {
                        // The head's time runs from its first byte, not from the last read (a trickled head is cut off).
                        SetPhase(Phase.Head);
                    }

                    _input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
                }

                var buffer = result.Buffer;
                var snapshot = _owner.Runtime.Snapshot;
                var verdict = Prepare(buffer, headLength, snapshot, out var selection);
                if (verdict == HeadStatus.HandOver)
                {
                    // Nothing consumed: Kestrel's HTTP stack reads this request from the start.
                    _input.AdvanceTo(buffer.Start);
                    return true;
                }

                if (verdict != HeadStatus.Ok)
                {
                    _headStarted = 0;
                    _input.AdvanceTo(buffer.GetPosition(headLength));
                    await WriteAndCloseAsync(verdict switch
                    {
                        HeadStatus.TooManyFields => TooLarge,
                        HeadStatus.LineTooLong => UriTooLong,
                        HeadStatus.NotImplemented => NotImplemented,
                        _ => BadRequest,
                    }).ConfigureAwait(false);
                    return false;
                }

                _input.AdvanceTo(buffer.GetPosition(headLength));
                var logging = _owner.LoggingPolicy;
                var headDone = System.Diagnostics.Stopwatch.GetTimestamp();
                var headStarted = _headStarted == 0 ? headDone : _headStarted;
                _headStarted = 0;
                _connectMs = -1;
                _answerHeadAt = 0;
                _bytesIn = 0;
                _bytesOut = 0;
                _headWritten = false;
                var keepOpen = await ForwardAsync(snapshot, selection).ConfigureAwait(false);
                if (logging is not null)
                {
                    var timers = new Access.AccessLogTimers(
                        (int)System.Diagnostics.Stopwatch.GetElapsedTime(headStarted, headDone).TotalMilliseconds,
                        _connectMs,
                        _answerHeadAt == 0 ? -1 : (int)System.Diagnostics.Stopwatch.GetElapsedTime(_sendStarted, _answerHeadAt).TotalMilliseconds,
                        0);
                    _owner.Log(logging, _context.RemoteEndPoint as IPEndPoint, _answeredBy, _answeredStatus, _answeredOutcome, _logMethod, _logPath,
                        _bytesIn, _bytesOut, timers, _termination, headStarted);
                }

                if (!keepOpen)
                {
                    return false;
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException or ConnectionAbortedException or InvalidOperationException)
        {
            return false;
        }
        finally
        {
            SetPhase(Phase.Closed);
            _active?.Dispose();
        }
    }

    /// <summary>Parses the head, applies the per-request hand-over rules, picks the node and writes the head for it
    /// into <see cref="_out"/>: everything that needs the head's bytes, before the pipe lets them go.</summary>
    private HeadStatus Prepare(ReadOnlySequence<byte> buffer, long headLength, LoadBalancerSnapshot snapshot, out Selection selection)
    {
        selection = default;
        ReadOnlySpan<byte> head;
        if (buffer.FirstSpan.Length >= headLength)
        {
            head = buffer.FirstSpan[..(int)headLength];
        }
        else
        {
            // A head across pipe blocks (4 KiB each): copied into a buffer of the connection, grown to the largest
            // such head seen (at most MaxRequestHeadBytes and a little).
            if (_scratch is null || _scratch.Length < headLength)
            {
                _scratch = new byte[Math.Max(headLength, 2048)];
            }

            buffer.Slice(0, headLength).CopyTo(_scratch);
            head = _scratch.AsSpan(0, (int)headLength);
        }

        var status = _request.Parse(head);
        if (_request.FirstLineLength > MaxRequestLineBytes)
        {
            return HeadStatus.LineTooLong;
        }

        if (headLength > MaxRequestHeadBytes)
        {
            return HeadStatus.TooManyFields;
        }

        if (status != HeadStatus.Ok)
        {
            return status;
        }

        if (Http1Forwarder.MustHandOver(snapshot, _isHttps))
        {
            return HeadStatus.HandOver;
        }

        if (_owner.LoggingPolicy is not null)
        {
            CaptureRequestLine(head);
        }

        ReadCookies(head);
        selection = Select(snapshot);
        BuildRequestHead(head);
        return HeadStatus.Ok;
    }

    /// <summary>The method and the path (without the query) of the request line, for the connection log (only while
    /// it is on: the path is a new string; common methods are not).</summary>
    private void CaptureRequestLine(ReadOnlySpan<byte> head)
    {
        var line = head[.._request.FirstLineLength];
        var space = line.IndexOf((byte)' ');
        var method = space < 0 ? line : line[..space];
        _logMethod = method switch
        {
            _ when method.SequenceEqual("GET"u8) => "GET",
            _ when method.SequenceEqual("POST"u8) => "POST",
            _ when method.SequenceEqual("PUT"u8) => "PUT",
            _ when method.SequenceEqual("DELETE"u8) => "DELETE",
            _ when method.SequenceEqual("HEAD"u8) => "HEAD",
            _ when method.SequenceEqual("PATCH"u8) => "PATCH",
            _ when method.SequenceEqual("OPTIONS"u8) => "OPTIONS",
            _ => Encoding.Latin1.GetString(method[..Math.Min(method.Length, 32)]),
        };
        var target = space < 0 ? default : line[(space + 1)..];
        var end = target.IndexOfAny((byte)' ', (byte)'?');
        _logPath = Encoding.Latin1.GetString(end < 0 ? target : target[..end]);
    }

    private Selection Select(LoadBalancerSnapshot snapshot)
    {
        var runtime = _owner.Runtime;
        var cookies = _cookies.AsSpan(0, _cookiesLength);
        switch (snapshot.PersistenceType)
        {
            case PersistenceType.HttpCookie:
                CookieHeader.TryFind(cookies, snapshot.CookieName!, out var cookie);
                return runtime.Select(cookie, UInt128.Zero);
            case PersistenceType.SourceIp:
                return runtime.Select(default, _clientKey);
            case PersistenceType.AppCookie:
                return runtime.Select(default, HttpProxyHandler.AppCookieKey(runtime, new CookieHeader.PairEnumerator(cookies), snapshot.CookieName!));
            default:
                return runtime.Select(default, UInt128.Zero);
        }
    }

    /// <summary>Forwards one request (with one retry elsewhere after a failed connect, as the Kestrel path does) and
    /// its answer.</summary>
    /// <returns>False when the client connection must close.</returns>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> ForwardAsync(LoadBalancerSnapshot snapshot, Selection selection)
    {
        var runtime = _owner.Runtime;
        var hasBody = _request.ContentLength > 0 || _request.Chunked;
        var attempt = 0;
        var failedReason = GatewayErrorReason.NoNodeAvailable;
        NodeState? failedNode = null;
        while (true)
        {
            var node = selection.Node;
            _answeredBy = node;
            _answeredOutcome = selection.Outcome;
            _answeredStatus = -1;
            if (node is null)
            {
                if (attempt > 0 && selection.Outcome == SelectionOutcome.NoNodeAvailable)
                {
                    runtime.Statistics.CountFailedRetry();
                }

                var code = selection.Outcome == SelectionOutcome.RejectedNoFallback || attempt > 0 ? 502 : 503;
                _answeredBy = attempt > 0 ? failedNode : null;
                _termination = attempt > 0 ? HttpProxyHandler.TerminationOf(failedReason)
                    : selection.Outcome == SelectionOutcome.RejectedNoFallback ? Access.AccessLogTermination.ProxyRefused : Access.AccessLogTermination.NodeConnect;
                _owner.ReportError(code, attempt > 0 ? failedReason
                    : selection.Outcome == SelectionOutcome.RejectedNoFallback ? GatewayErrorReason.PersistenceRejected : GatewayErrorReason.NoNodeAvailable,
                    attempt > 0 ? failedNode : null);
                return await WriteErrorAsync(code, closeAfter: hasBody).ConfigureAwait(false);
            }

            var started = runtime.Time.GetTimestamp();
            node.Counters.OnStart();
            Exchange outcome;
            try
            {
                outcome = await ExchangeAsync(snapshot, node, selection, hasBody).ConfigureAwait(false);
            }
            finally
            {
                node.Counters.OnEnd();
            }

            switch (outcome)
            {
                case Exchange.Done:
                    _termination = Access.AccessLogTermination.Normal;
                    _answeredStatus = _response.StatusCode;
                    node.Counters.MarkAvailable();
                    _owner.CountAnswer(snapshot, node, _response.StatusCode, started);
                    return !_closeAfterResponse;
                case Exchange.ConnectFailed:
                    node.Counters.CountFailure(_timedOut ? NodeFailure.ConnectTimeout : NodeFailure.ConnectError);
                    node.Counters.MarkUnavailable(runtime.Time.GetTimestamp() + (_owner.Options.PassiveFailureHoldSeconds * runtime.Time.TimestampFrequency));
                    failedReason = _timedOut ? GatewayErrorReason.ConnectTimeout
                        : _connectError == SocketError.ConnectionRefused ? GatewayErrorReason.ConnectRefused : GatewayErrorReason.ConnectFailed;
                    failedNode = node;
                    _timedOut = false;
                    if (attempt == 0 && snapshot.FallbackEnabled && !hasBody)
                    {
                        attempt++;
                        selection = Select(snapshot);
                        continue;
                    }

                    _owner.CountAnswer(snapshot, node, 502, started);
                    _owner.ReportError(502, failedReason, node);
                    _termination = HttpProxyHandler.TerminationOf(failedReason);
                    return await WriteErrorAsync(502, closeAfter: hasBody).ConfigureAwait(false);
                case Exchange.TimedOut:
                    node.Counters.CountFailure(NodeFailure.DataTimeout);
                    _owner.CountAnswer(snapshot, node, 504, started);
                    _owner.ReportError(504, GatewayErrorReason.NodeTimeout, node);
                    _termination = Access.AccessLogTermination.NodeHeadTimeout;
                    return await WriteErrorAsync(504, closeAfter: true).ConfigureAwait(false);
                case Exchange.BadGateway:
                    _owner.CountAnswer(snapshot, node, 502, started);
                    _owner.ReportError(502, GatewayErrorReason.NodeBroken, node);
                    _termination = Access.AccessLogTermination.NodeHead;
                    return await WriteErrorAsync(502, closeAfter: true).ConfigureAwait(false);
                case Exchange.NoConnection:
                    // Tether's own limit (or the process's), not the node's failure: 503, and the node stays in rotation.
                    _owner.CountAnswer(snapshot, node, 503, started);
                    _termination = Access.AccessLogTermination.Resource;
                    return await WriteErrorAsync(503, closeAfter: hasBody).ConfigureAwait(false);
                case Exchange.BadRequestBody:
                    // Broken chunked framing from the client: 400, and the connection (and the node's) ends.
                    _answeredStatus = 400;
                    _termination = Access.AccessLogTermination.ProxyRefused;
                    await WriteAndCloseAsync(BadRequest).ConfigureAwait(false);
                    return false;
                default:
                    // The client left, or the answer broke after it started: the connection cannot go on.
                    _termination = outcome == Exchange.ClientGone ? Access.AccessLogTermination.ClientAborted
                        : _timedOut ? Access.AccessLogTermination.NodeDataTimeout : Access.AccessLogTermination.NodeData;
                    if (_headWritten)
                    {
                        _answeredStatus = _response.StatusCode;
                    }

                    _context.Abort();
                    return false;
            }
        }
    }

    private bool _closeAfterResponse;

    // The connection log's measurements of the current request (Stopwatch timestamps; -1/0: not reached).
    private long _headStarted;
    private long _sendStarted;
    private long _answerHeadAt;
    private int _connectMs;
    private long _bytesIn;
    private long _bytesOut;
    private bool _headWritten;
    private string? _logMethod;
    private string? _logPath;
    private Access.AccessLogTermination _termination;

    // The socket error of the last failed connect (ConnectionRefused: the node refused).
    private SocketError _connectError;

    // What the connection log line of the request says: the node, the status code the client got (-1, logged "-":
    // none, the connection was cut), how persistence decided.
    private NodeState? _answeredBy;
    private int _answeredStatus;
    private SelectionOutcome _answeredOutcome;

    /// <summary>One request and its answer over one node connection from the node's pool. A pooled connection is used
    /// only when it has nothing to read (one poll: a node that closed it, or sent bytes past its last answer, would
    /// otherwise hand the next client an answer meant for another request; HAProxy and nginx discard such idle
    /// connections too). A connection that turns out stale when the request is sent (closed by the node between the
    /// poll and the send) is replaced by a new one once, for an idempotent request without a body (RFC 9112 section
    /// 9.3.1). After a clean exchange the connection goes back to the pool at once, never kept by this client.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<Exchange> ExchangeAsync(LoadBalancerSnapshot snapshot, NodeState node, Selection selection, bool hasBody)
    {
        _timedOut = false;
        var pool = _owner.PoolFor(node);
        for (var tries = 0; ; tries++)
        {
            BackendConnection? backend;
            try
            {
                backend = await AcquireLiveAsync(pool).ConfigureAwait(false);
            }
            catch (SocketException e)
            {
                // No socket: the process is out of file descriptors (or another local limit). Not the node's fault.
                _owner.OnNoConnection(node, e.SocketErrorCode);
                return Exchange.NoConnection;
            }

            if (backend is null)
            {
                _owner.OnNoConnection(node, SocketError.TooManyOpenSockets);
                return Exchange.NoConnection;
            }

            if (backend.Uses == 0)
            {
                _active = backend;
                SetPhase(Phase.Connect);
                var connectStarted = System.Diagnostics.Stopwatch.GetTimestamp();
                try
                {
                    await backend.ConnectAsync().ConfigureAwait(false);
                    _connectMs = (int)System.Diagnostics.Stopwatch.GetElapsedTime(connectStarted).TotalMilliseconds;
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                    _connectError = e is SocketException socket ? socket.SocketErrorCode : SocketError.OperationAborted;
                    _active = null;
                    backend.Dispose();
                    return Exchange.ConnectFailed;
                }
            }

            _active = backend;
            SetPhase(Phase.Node);
            if (_connectMs < 0)
            {
                _connectMs = 0; // a pooled connection
            }

            _sendStarted = System.Diagnostics.Stopwatch.GetTimestamp();
            var outcome = await ExchangeOnAsync(backend, node, selection, hasBody, snapshot).ConfigureAwait(false);
            _active = null;
            if (outcome == Exchange.StaleConnection && tries == 0 && !hasBody && _request.IsIdempotent)
            {
                backend.Dispose();
                continue;
            }

            if (outcome == Exchange.StaleConnection)
            {
                outcome = Exchange.BadGateway;
            }

            if (outcome == Exchange.Done && _reusable)
            {
                backend.Uses++;
                pool.Return(backend);
            }
            else
            {
                backend.Dispose();
            }

            return outcome;
        }
    }

    /// <summary>A pooled connection with nothing to read (stale ones are closed), else a new one; null when the
    /// node's connection limit and queue give none.</summary>
    /// <exception cref="SocketException">No socket could be created.</exception>
    private static async ValueTask<BackendConnection?> AcquireLiveAsync(BackendPool pool)
    {
        while (true)
        {
            var backend = await pool.AcquireAsync().ConfigureAwait(false);
            if (backend is null || backend.Uses == 0)
            {
                return backend;
            }

            if (backend.LooksAlive())
            {
                return backend;
            }

            // Readable while idle: closed by the node, or bytes nobody asked for.
            backend.Dispose();
        }
    }

    private bool _reusable;

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<Exchange> ExchangeOnAsync(BackendConnection backend, NodeState node, Selection selection, bool hasBody, LoadBalancerSnapshot snapshot)
    {
        _reusable = false;
        var reused = backend.Uses > 0;
        try
        {
            await backend.SendAsync(_out.AsMemory(0, _outLength)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return _timedOut ? Exchange.TimedOut : reused ? Exchange.StaleConnection : Exchange.BadGateway;
        }

        if (hasBody)
        {
            var sent = await SendBodyAsync(backend).ConfigureAwait(false);
            if (sent != Exchange.Done)
            {
                return sent;
            }
        }

        // The answer's head, after any interim (1xx) answers.
        int headLength;
        while (true)
        {
            headLength = FindHead(backend);
            if (headLength > 0)
            {
                var status = _response.Parse(backend.Buffer.AsSpan(backend.Start, headLength));
                if (status != HeadStatus.Ok || _response.StatusCode == 101)
                {
                    return Exchange.BadGateway;
                }

                if (_response.StatusCode >= 200)
                {
                    _answerHeadAt = System.Diagnostics.Stopwatch.GetTimestamp();
                    break;
                }

                // An interim answer (100, 103 Early Hints) goes on to the client before the final one (RFC 9110
                // section 15.2: a proxy forwards 1xx answers it did not ask for).
                WriteResponseHead(backend, headLength, selection, node, snapshot, interim: true);
                backend.Start += headLength;
                if (!await FlushAsync().ConfigureAwait(false))
                {
                    return Exchange.ClientGone;
                }

                SetPhase(Phase.Node);
                continue;
            }

            int read;
            try
            {
                read = await backend.FillAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return _timedOut ? Exchange.TimedOut : reused && backend.End == 0 ? Exchange.StaleConnection : Exchange.BadGateway;
            }

            if (read == 0)
            {
                return reused && backend.End == 0 ? Exchange.StaleConnection : Exchange.BadGateway;
            }

            if (read < 0)
            {
                return Exchange.BadGateway;
            }

            SetPhase(Phase.Node);
        }

        var response = _response;
        var noBody = _request.IsHead || response.StatusCode == 204 || response.StatusCode == 304;

        // RFC 9112 section 6.3: chunked as the final coding frames the body; another final coding ends it at the close.
        var chunked = !noBody && response.FinalChunked;
        var length = noBody ? 0 : response.ContentLength;
        var untilClose = !noBody && !chunked && length < 0;
        _reusable = !untilClose && !response.ConnectionClose && (!response.IsHttp10 || response.ConnectionKeepAlive);
        _closeAfterResponse = _request.ConnectionClose || untilClose || _closeRequested;

        WriteResponseHead(backend, headLength, selection, node, snapshot);
        backend.Start += headLength;
        return await CopyResponseBodyAsync(backend, noBody, chunked, length).ConfigureAwait(false);
    }

    /// <summary>Streams the request body (Content-Length or chunked, as it came) from the client to the node.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<Exchange> SendBodyAsync(BackendConnection backend)
    {
        var remaining = _request.Chunked ? long.MaxValue : _request.ContentLength;
        if (_request.Chunked)
        {
            _chunked.Reset();
        }

        while (remaining > 0)
        {
            SetPhase(Phase.Client);
            var result = await _input.ReadAsync().ConfigureAwait(false);
            var buffer = result.Buffer;
            if (result.IsCanceled || (buffer.IsEmpty && result.IsCompleted))
            {
                return Exchange.ClientGone;
            }

            var take = buffer.Length;
            if (_request.Chunked)
            {
                take = 0;
                foreach (var segment in buffer)
                {
                    var used = _chunked.Advance(segment.Span);
                    if (used < 0)
                    {
                        return Exchange.BadRequestBody;
                    }

                    take += used;
                    if (_chunked.IsDone)
                    {
                        remaining = 0;
                        break;
                    }
                }
            }
            else
            {
                take = Math.Min(take, remaining);
                remaining -= take;
            }

            var body = buffer.Slice(0, take);
            _bytesIn += take;
            SetPhase(Phase.Node);
            try
            {
                if (body.IsSingleSegment)
                {
                    await backend.SendAsync(body.First).ConfigureAwait(false);
                }
                else
                {
                    // Kestrel's pipe holds the body in 4 KiB blocks: gathered into the node connection's buffer (idle
                    // until the answer comes) so that one send carries up to its size.
                    var staging = backend.Buffer;
                    var filled = 0;
                    foreach (var segment in body)
                    {
                        var rest = segment;
                        while (!rest.IsEmpty)
                        {
                            var copied = Math.Min(rest.Length, staging.Length - filled);
                            rest.Span[..copied].CopyTo(staging.AsSpan(filled));
                            filled += copied;
                            rest = rest[copied..];
                            if (filled == staging.Length)
                            {
                                await backend.SendAsync(staging).ConfigureAwait(false);
                                filled = 0;
                            }
                        }
                    }

                    if (filled > 0)
                    {
                        await backend.SendAsync(staging.AsMemory(0, filled)).ConfigureAwait(false);
                    }
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                _input.AdvanceTo(body.End);
                return _timedOut ? Exchange.TimedOut : Exchange.BadGateway;
            }

            _input.AdvanceTo(body.End);
            if (remaining > 0 && result.IsCompleted)
            {
                return Exchange.ClientGone;
            }
        }

        return Exchange.Done;
    }

    /// <summary>Streams the answer's body from the node to the client as it comes, with its framing.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<Exchange> CopyResponseBodyAsync(BackendConnection backend, bool noBody, bool chunked, long length)
    {
        var buffered = backend.End - backend.Start;
        var untilClose = !noBody && !chunked && length < 0;
        if (noBody || length == 0)
        {
            if (buffered > 0)
            {
                _reusable = false;
            }

            return await FlushAsync().ConfigureAwait(false) ? Exchange.Done : Exchange.ClientGone;
        }

        var remaining = chunked || untilClose ? long.MaxValue : length;
        if (chunked)
        {
            _chunked.Reset();
        }

        if (buffered > 0)
        {
            var take = Take(backend.Buffer.AsSpan(backend.Start, buffered), chunked, ref remaining);
            if (take < 0)
            {
                return Exchange.Aborted;
            }

            _output.Write(backend.Buffer.AsSpan(backend.Start, take));
            _bytesOut += take;
            backend.Start += take;
            if (backend.Start < backend.End)
            {
                _reusable = false; // bytes after the end of the answer: the node's framing cannot be trusted
            }
        }

        if (!await FlushAsync().ConfigureAwait(false))
        {
            return Exchange.ClientGone;
        }

        while (remaining > 0)
        {
            SetPhase(Phase.Node);
            var memory = _output.GetMemory(ReceiveChunkBytes);
            if (memory.Length > remaining)
            {
                memory = memory[..(int)remaining];
            }

            int read;
            try
            {
                read = await backend.ReceiveAsync(memory).ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return Exchange.Aborted;
            }

            if (read == 0)
            {
                // The node closed: the end of a body delimited by the close, otherwise an answer cut short.
                return untilClose ? Exchange.Done : Exchange.Aborted;
            }

            var take = Take(memory.Span[..read], chunked, ref remaining);
            if (take < 0)
            {
                return Exchange.Aborted;
            }

            if (take < read)
            {
                _reusable = false;
            }

            _output.Advance(take);
            _bytesOut += take;
            if (!await FlushAsync().ConfigureAwait(false))
            {
                return Exchange.ClientGone;
            }
        }

        return Exchange.Done;
    }

    /// <summary>How many of <paramref name="data"/>'s bytes belong to the body; -1 for broken chunked framing.</summary>
    private int Take(ReadOnlySpan<byte> data, bool chunked, ref long remaining)
    {
        if (chunked)
        {
            var used = _chunked.Advance(data);
            if (used >= 0 && _chunked.IsDone)
            {
                remaining = 0;
            }

            return used;
        }

        var take = (int)Math.Min(data.Length, remaining);
        if (remaining != long.MaxValue)
        {
            remaining -= take;
        }

        return take;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> FlushAsync()
    {
        SetPhase(Phase.Client);
        var flushed = await _output.FlushAsync().ConfigureAwait(false);
        return !flushed.IsCanceled && !flushed.IsCompleted;
    }

    /// <summary>The persistence cookie needs the request's Cookie fields as characters: they are joined with
    /// <c>"; "</c> into a buffer of the connection (ASCII/Latin-1, as RFC 6265 cookies are).</summary>
    private void ReadCookies(ReadOnlySpan<byte> head)
    {
        _cookiesLength = 0;
        if (_request.CookieCount == 0)
        {
            return;
        }

        foreach (ref readonly var field in _request.Fields)
        {
            if (field.Kind != FieldKind.Cookie)
            {
                continue;
            }

            var value = head.Slice(field.ValueStart, field.ValueLength);
            var needed = _cookiesLength + value.Length + 2;
            if (needed > _cookies.Length)
            {
                Array.Resize(ref _cookies, Math.Max(needed, _cookies.Length * 2));
            }

            if (_cookiesLength > 0)
            {
                _cookies[_cookiesLength++] = ';';
                _cookies[_cookiesLength++] = ' ';
            }

            _cookiesLength += Encoding.Latin1.GetChars(value, _cookies.AsSpan(_cookiesLength));
        }
    }

    /// <summary>The head sent to the node (docs/security.md, "What the node receives"): the request line and every
    /// field line byte for byte as the client sent them, in order, except that the hop-by-hop fields and the fields
    /// named by Connection are removed (RFC 9110 section 7.6.1; Host, Content-Length and Transfer-Encoding never are),
    /// a Content-Length repeated with the same value is sent once (RFC 9110 section 8.6), and the client's
    /// X-Forwarded-For/-Proto/-Port lines are removed; then one <c>X-Forwarded-For</c> line with the client's values
    /// (each field's value without its optional whitespace, empty ones skipped, joined with ", ") and the client's
    /// address last (HAProxy's <c>option forwardfor</c>), <c>X-Forwarded-Proto</c> and <c>X-Forwarded-Port</c> from
    /// the listener, and the empty line.</summary>
    private void BuildRequestHead(ReadOnlySpan<byte> head)
    {
        _outLength = 0;
        Append(head[..(_request.FirstLineLength + 2)]);
        var contentLength = false;
        foreach (ref readonly var field in _request.Fields)
        {
            if (Http1Syntax.IsHopByHop(field.Kind))
            {
                continue;
            }

            switch (field.Kind)
            {
                case FieldKind.ForwardedFor:
                case FieldKind.ForwardedProto:
                case FieldKind.ForwardedPort:
                    continue;
                case FieldKind.ContentLength:
                    // The parser refused differing values; a repeat of the same value is sent once.
                    if (!contentLength)
                    {
                        contentLength = true;
                        AppendLine(head, field);
                    }

                    continue;
                case FieldKind.Host or FieldKind.TransferEncoding:
                    // Framing and Host are never dropped, even when named by Connection: dropping the framing while
                    // forwarding the body would smuggle the body to the node as a request of its own.
                    AppendLine(head, field);
                    continue;
                case var _ when _request.HasConnectionOptions && _request.IsListedInConnection(head, field):
                    continue;
                default:
                    AppendLine(head, field);
                    continue;
            }
        }

        Append("X-Forwarded-For: "u8);
        if (_request.ForwardedForCount > 0)
        {
            foreach (ref readonly var field in _request.Fields)
            {
                if (field.Kind == FieldKind.ForwardedFor && field.ValueLength > 0)
                {
                    Append(head.Slice(field.ValueStart, field.ValueLength));
                    Append(", "u8);
                }
            }
        }

        Append(_forwardedFor);
        Append("\r\n"u8);
        Append(_forwardedProtoAndPort);
        Append("\r\n"u8);
    }

    /// <summary>Appends <paramref name="field"/>'s line as the client sent it, with its CRLF.</summary>
    private void AppendLine(ReadOnlySpan<byte> head, in HeaderField field) => Append(head.Slice(field.LineStart, field.LineLength + 2));

    private void Append(ReadOnlySpan<byte> bytes)
    {
        if (_outLength + bytes.Length > _out.Length)
        {
            Array.Resize(ref _out, Math.Max(_outLength + bytes.Length, _out.Length * 2));
        }

        bytes.CopyTo(_out.AsSpan(_outLength));
        _outLength += bytes.Length;
    }

    /// <summary>The head sent to the client: HTTP/1.1, the node's status and fields without the hop-by-hop ones,
    /// the persistence cookie when one is issued, <c>Connection: close</c> when the connection ends after it.
    /// APP_COOKIE learns (or forgets) the node's cookies here, before the client can send its next request.</summary>
    private void WriteResponseHead(BackendConnection backend, int headLength, Selection selection, NodeState node, LoadBalancerSnapshot snapshot, bool interim = false)
    {
        var head = backend.Buffer.AsSpan(backend.Start, headLength);
        var response = _response;
        var setCookie = selection.IssueCookie && !interim ? _owner.Runtime.BuildSetCookie(snapshot, node, selection.SessionId) : null;
        var size = headLength + 64 + (setCookie?.Length ?? 0);
        var span = _output.GetSpan(size);
        var at = 0;
        Put(span, ref at, "HTTP/1.1 "u8);
        Put(span, ref at, head.Slice(ResponseHead.StatusStart, 3));
        Put(span, ref at, " "u8); // RFC 9112 section 4: the SP after the code is required, even with no reason phrase
        Put(span, ref at, response.FirstLineLength > 13 ? head[13..(response.FirstLineLength + 2)] : "\r\n"u8);
        foreach (ref readonly var field in response.Fields)
        {
            if (Http1Syntax.IsHopByHop(field.Kind))
            {
                continue;
            }

            switch (field.Kind)
            {
                case FieldKind.Other or FieldKind.Cookie or FieldKind.ForwardedFor or FieldKind.ForwardedProto or FieldKind.ForwardedPort or FieldKind.Expect
                    when response.HasConnectionOptions && response.IsListedInConnection(head, field):
                    continue;
                case FieldKind.SetCookie when snapshot.PersistenceType == PersistenceType.AppCookie && !interim:
                    _owner.LearnAppCookie(snapshot, node, Encoding.Latin1.GetString(head.Slice(field.ValueStart, field.ValueLength)),
                        new CookieHeader.PairEnumerator(_cookies.AsSpan(0, _cookiesLength)));
                    break;
            }

            Put(span, ref at, head.Slice(field.LineStart, field.LineLength + 2));
        }

        if (setCookie is not null)
        {
            Put(span, ref at, "Set-Cookie: "u8);
            at += Encoding.ASCII.GetBytes(setCookie, span[at..]);
            Put(span, ref at, "\r\n"u8);
        }

        if (_closeAfterResponse && !interim)
        {
            Put(span, ref at, "Connection: close\r\n"u8);
        }

        Put(span, ref at, "\r\n"u8);
        _output.Advance(at);
        _headWritten |= !interim;
    }

    private static void Put(Span<byte> span, ref int at, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(span[at..]);
        at += bytes.Length;
    }

    /// <summary>The length of the answer's head in the node connection's buffer, or 0 while it is incomplete.</summary>
    private static int FindHead(BackendConnection backend)
    {
        var index = backend.Buffer.AsSpan(backend.Start, backend.End - backend.Start).IndexOf(HeadEnd);
        return index < 0 ? 0 : index + 4;
    }

    /// <summary>How many bytes of empty lines (CRLF) start <paramref name="buffer"/>.</summary>
    private static long LeadingEmptyLines(ReadOnlySequence<byte> buffer)
    {
        var first = buffer.FirstSpan;
        if (first.Length < 2 || first[0] != '\r' || first[1] != '\n')
        {
            return 0;
        }

        var reader = new SequenceReader<byte>(buffer);
        long count = 0;
        while (reader.IsNext("\r\n"u8, advancePast: true))
        {
            count += 2;
        }

        return count;
    }

    private static bool TryFindHeadEnd(ReadOnlySequence<byte> buffer, out long length)
    {
        if (buffer.IsSingleSegment)
        {
            var index = buffer.FirstSpan.IndexOf(HeadEnd);
            length = index + 4;
            return index >= 0;
        }

        var reader = new SequenceReader<byte>(buffer);
        if (reader.TryReadTo(out ReadOnlySequence<byte> _, HeadEnd, advancePastDelimiter: true))
        {
            length = reader.Consumed;
            return true;
        }

        length = 0;
        return false;
    }

    private static bool FirstLineFits(ReadOnlySequence<byte> buffer)
    {
        var limited = buffer.Length > MaxRequestLineBytes ? buffer.Slice(0, MaxRequestLineBytes) : buffer;
        return limited.PositionOf((byte)'\n') is not null || buffer.Length <= MaxRequestLineBytes;
    }

    private static readonly byte[] BadRequest = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8.ToArray();
    private static readonly byte[] TooLarge = "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8.ToArray();
    private static readonly byte[] UriTooLong = "HTTP/1.1 414 URI Too Long\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8.ToArray();
    private static readonly byte[] NotImplemented = "HTTP/1.1 501 Not Implemented\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8.ToArray();

    private async Task WriteAndCloseAsync(byte[] answer)
    {
        await _output.WriteAsync(answer).ConfigureAwait(false);
    }

    /// <summary>Tether's own 502/503/504 answer with the load balancer's error page.</summary>
    /// <returns>False when the connection must close after it.</returns>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> WriteErrorAsync(int status, bool closeAfter)
    {
        _answeredStatus = status;
        closeAfter |= _closeRequested || _request.ConnectionClose;
        var page = _owner.ErrorPage(status);
        _bytesOut = page.Length;
        var head = string.Concat(
            status switch { 502 => "HTTP/1.1 502 Bad Gateway", 503 => "HTTP/1.1 503 Service Unavailable", _ => "HTTP/1.1 504 Gateway Timeout" },
            "\r\nContent-Type: text/html; charset=utf-8\r\nCache-Control: no-store\r\nContent-Length: ",
            page.Length.ToString(System.Globalization.CultureInfo.InvariantCulture),
            closeAfter ? "\r\nConnection: close\r\n\r\n" : "\r\n\r\n");
        _output.Write(Encoding.ASCII.GetBytes(head));
        _output.Write(page);
        var flushed = await _output.FlushAsync().ConfigureAwait(false);
        return !closeAfter && !flushed.IsCompleted;
    }

    private void SetPhase(Phase phase)
    {
        // The time first, the phase last (a volatile write, a release): a heartbeat that sees the new phase sees its time too.
        Volatile.Write(ref _phaseSince, Environment.TickCount64);
        _phase = (int)phase;
    }

    /// <summary>Kestrel's heartbeat (once a second, on its own thread): closes a client idle too long between
    /// requests or too slow to send a head, and cuts a node connection that is too slow to connect or to answer.</summary>
    private void OnHeartbeat()
    {
        // The phase first, its time after (SetPhase writes them the other way round): reading the time first could
        // pair a new phase with the previous phase's start and close a client that was idle for a moment only.
        var phase = (Phase)_phase;
        var elapsed = Environment.TickCount64 - Volatile.Read(ref _phaseSince);
        var options = _owner.Options;
        switch (phase)
        {
            case Phase.Idle when elapsed > options.KeepAliveTimeoutSeconds * 1000L:
                _owner.CountKeepAliveTimeout();
                _context.Abort(new ConnectionAbortedException("Keep-alive timeout."));
                break;
            case Phase.Head when elapsed > options.RequestHeadersTimeoutSeconds * 1000L:
                _context.Abort(new ConnectionAbortedException("Request headers timeout."));
                break;
            case Phase.Connect when elapsed > _owner.ConnectTimeoutMs:
            case Phase.Node when elapsed > _owner.TimeoutMs:
                _timedOut = true;
                _active?.Dispose();
                break;
            case Phase.Client when elapsed > _owner.TimeoutMs:
                // A client that stopped sending its body or reading the answer: the exchange cannot finish.
                _context.Abort(new ConnectionAbortedException("The client stopped sending or reading."));
                _active?.Dispose();
                break;
        }
    }

    private void OnCloseRequested()
    {
        _closeRequested = true;
        if ((Phase)_phase == Phase.Idle)
        {
            _input.CancelPendingRead();
        }
    }
}
