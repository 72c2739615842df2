using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Tether.Core.LoadBalancing;
using Tether.Core.Runtime;

namespace Tether.Proxy.Http.FastPath;

/// <summary>How one exchange with a node ended.</summary>
internal enum Http1ExchangeResult
{
    /// <summary>The answer went to the client whole.</summary>
    Done,
    /// <summary>No connection to the node: refused, unreachable, or the connect timeout.</summary>
    ConnectFailed,
    /// <summary>A pooled connection the node had closed (replaced once when that is safe).</summary>
    StaleConnection,
    /// <summary>The node did not answer within the load balancer's timeout.</summary>
    TimedOut,
    /// <summary>The node reset the connection, closed it early or sent an answer that is not valid HTTP.</summary>
    BadGateway,
    /// <summary>The client left.</summary>
    ClientGone,
    /// <summary>The answer broke after it started.</summary>
    Aborted,
    /// <summary>Broken chunked framing from the client.</summary>
    BadRequestBody,
    /// <summary>No connection to the node could be had: its connection limit and queue, or no file descriptor.</summary>
    NoConnection,
}

/// <summary>
/// One request and its answer over one node connection from the node's pool (Kestrel's connection and output
/// producer, on the node's side): send the head, pump the body, read the answer's head (passing interim answers on),
/// write it to the client and pump the answer's body.
/// </summary>
/// <remarks>A pooled connection is used only when it has nothing to read (one poll: a node that closed it, or sent
/// bytes past its last answer, would otherwise hand the next client an answer meant for another request; HAProxy and
/// nginx discard such idle connections too). A connection that turns out stale when the request is sent (closed by the
/// node between the poll and the send) is replaced by a new one once, for an idempotent request without a body
/// (RFC 9112 section 9.3.1). After a clean exchange the connection goes back to the pool at once, never kept by this
/// client.</remarks>
internal sealed class Http1NodeExchange
{
    private readonly Http1Forwarder _owner;
    private readonly Http1Connection _connection;
    private readonly RequestHead _request;
    private readonly ResponseHead _response;
    private readonly Http1RequestHeadWriter _requestHead;
    private readonly Http1ResponseHeadWriter _responseHead;
    private readonly Http1MessageBody _body;
    private readonly Http1TimeoutControl _timeouts;
    private readonly Http1RequestLog _log;

    public Http1NodeExchange(Http1Forwarder owner, Http1Connection connection, RequestHead request, ResponseHead response, Http1RequestHeadWriter requestHead,
        Http1ResponseHeadWriter responseHead, Http1MessageBody body, Http1TimeoutControl timeouts, Http1RequestLog log)
    {
        _owner = owner;
        _connection = connection;
        _request = request;
        _response = response;
        _requestHead = requestHead;
        _responseHead = responseHead;
        _body = body;
        _timeouts = timeouts;
        _log = log;
    }

    /// <summary>True when the client connection ends after the answer of the last exchange.</summary>
    public bool CloseAfterResponse { get; private set; }

    /// <summary>The socket error of the last failed connect (ConnectionRefused: the node refused).</summary>
    public SocketError ConnectError { get; private set; }

    /// <summary>Sends the request (its head already written by <see cref="Http1RequestHeadWriter"/>) to
    /// <paramref name="node"/> and its answer to the client.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<Http1ExchangeResult> ExchangeAsync(LoadBalancerSnapshot snapshot, NodeState node, Selection selection, bool hasBody)
    {
        _timeouts.TimedOut = false;
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
                return Http1ExchangeResult.NoConnection;
            }

            if (backend is null)
            {
                _owner.OnNoConnection(node, SocketError.TooManyOpenSockets);
                return Http1ExchangeResult.NoConnection;
            }

            if (backend.Uses == 0)
            {
                _timeouts.Active = backend;
                _timeouts.SetPhase(Http1Phase.Connect);
                var clock = _owner.Clock;
                var connectStarted = clock.GetTimestamp();
                try
                {
                    await backend.ConnectAsync().ConfigureAwait(false);
                    _log.ConnectMs = clock.ElapsedMilliseconds(connectStarted, clock.GetTimestamp());
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                    ConnectError = e is SocketException socket ? socket.SocketErrorCode : SocketError.OperationAborted;
                    _timeouts.Active = null;
                    backend.Dispose();
                    return Http1ExchangeResult.ConnectFailed;
                }
            }

            _timeouts.Active = backend;
            _timeouts.SetPhase(Http1Phase.Node);
            if (_log.ConnectMs < 0)
            {
                _log.ConnectMs = 0; // a pooled connection
            }

            _log.SendStarted = _owner.LoggingPolicy is not null ? _owner.Clock.GetTimestamp() : 0;
            var outcome = await ExchangeOnAsync(backend, node, selection, hasBody, snapshot).ConfigureAwait(false);
            _timeouts.Active = null;
            if (outcome == Http1ExchangeResult.StaleConnection && tries == 0 && !hasBody && _request.IsIdempotent)
            {
                backend.Dispose();
                continue;
            }

            if (outcome == Http1ExchangeResult.StaleConnection)
            {
                outcome = Http1ExchangeResult.BadGateway;
            }

            if (outcome == Http1ExchangeResult.Done && _body.Reusable)
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

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<Http1ExchangeResult> ExchangeOnAsync(BackendConnection backend, NodeState node, Selection selection, bool hasBody, LoadBalancerSnapshot snapshot)
    {
        _body.Reusable = false;
        var reused = backend.Uses > 0;
        try
        {
            await backend.SendAsync(_requestHead.Head).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return _timeouts.TimedOut ? Http1ExchangeResult.TimedOut : reused ? Http1ExchangeResult.StaleConnection : Http1ExchangeResult.BadGateway;
        }

        if (hasBody)
        {
            var sent = await _body.SendRequestBodyAsync(backend, _request).ConfigureAwait(false);
            if (sent != Http1ExchangeResult.Done)
            {
                return sent;
            }
        }

        // The answer's head, after any interim (1xx) answers.
        int headLength;
        while (true)
        {
            headLength = Http1HeadFraming.FindHead(backend);
            if (headLength > 0)
            {
                var status = _response.Parse(backend.Buffer.AsSpan(backend.Start, headLength));
                if (status != HeadStatus.Ok || _response.StatusCode == 101)
                {
                    return Http1ExchangeResult.BadGateway;
                }

                if (_response.StatusCode >= 200)
                {
                    _log.AnswerHeadAt = _owner.LoggingPolicy is not null ? _owner.Clock.GetTimestamp() : 0;
                    break;
                }

                // An interim answer (100, 103 Early Hints) goes on to the client before the final one (RFC 9110
                // section 15.2: a proxy forwards 1xx answers it did not ask for).
                _responseHead.Write(backend, headLength, _response, selection, node, snapshot, CloseAfterResponse, interim: true);
                backend.Start += headLength;
                if (!await _body.FlushAsync().ConfigureAwait(false))
                {
                    return Http1ExchangeResult.ClientGone;
                }

                _timeouts.SetPhase(Http1Phase.Node);
                continue;
            }

            int read;
            try
            {
                read = await backend.FillAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return _timeouts.TimedOut ? Http1ExchangeResult.TimedOut
                    : reused && backend.End == 0 ? Http1ExchangeResult.StaleConnection : Http1ExchangeResult.BadGateway;
            }

            if (read == 0)
            {
                return reused && backend.End == 0 ? Http1ExchangeResult.StaleConnection : Http1ExchangeResult.BadGateway;
            }

            if (read < 0)
            {
                return Http1ExchangeResult.BadGateway;
            }

            _timeouts.SetPhase(Http1Phase.Node);
        }

        var response = _response;
        var noBody = _request.IsHead || response.StatusCode == 204 || response.StatusCode == 304;

        // RFC 9112 section 6.3: chunked as the final coding frames the body; another final coding ends it at the close.
        var chunked = !noBody && response.FinalChunked;
        var length = noBody ? 0 : response.ContentLength;
        var untilClose = !noBody && !chunked && length < 0;
        _body.Reusable = !untilClose && !response.ConnectionClose && (!response.IsHttp10 || response.ConnectionKeepAlive);
        CloseAfterResponse = _request.ConnectionClose || untilClose || _connection.CloseRequested;

        _responseHead.Write(backend, headLength, response, selection, node, snapshot, CloseAfterResponse, interim: false);
        _log.HeadWritten = true;
        backend.Start += headLength;
        return await _body.CopyResponseBodyAsync(backend, noBody, chunked, length).ConfigureAwait(false);
    }
}
