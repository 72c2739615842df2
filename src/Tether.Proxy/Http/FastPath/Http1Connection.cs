using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Tether.Core.Runtime;
using Tether.Core.SessionPersistence;

namespace Tether.Proxy.Http.FastPath;

/// <summary>
/// One client connection on the HTTP/1.1 fast path (issue 4), split as Kestrel splits its HTTP/1.1 connection: this
/// class is the connection loop (read each request head from Kestrel's transport pipe, apply the hand-over rules,
/// decide the node: persistence, then the algorithm); <see cref="Http1Attempts"/> forwards the request (retry,
/// passive health, Tether's own answers), <see cref="Http1NodeExchange"/> runs one exchange with a node,
/// <see cref="Http1RequestHeadWriter"/> and <see cref="Http1ResponseHeadWriter"/> write the heads (only the rewriting
/// Tether needs: hop-by-hop fields dropped, <c>X-Forwarded-For/-Proto/-Port</c>, the persistence cookie),
/// <see cref="Http1MessageBody"/> pumps the bodies as they are, framing included (Content-Length, chunked, or until
/// the node closes), <see cref="Http1TimeoutControl"/> keeps the timeouts and <see cref="Http1CannedAnswers"/> holds
/// the answers Tether writes itself.
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

    private readonly Http1Forwarder _owner;
    private readonly ConnectionContext _context;
    private readonly PipeReader _input;
    private readonly PipeWriter _output;
    private readonly RequestHead _request = new();
    private readonly Http1RequestCookies _cookies = new();
    private readonly Http1PersistenceHeader _persistenceHeader = new();
    private readonly Http1RequestLog _log = new();
    private readonly Http1TimeoutControl _timeouts;
    private readonly Http1RequestHeadWriter _requestHead;
    private readonly Http1Attempts _attempts;
    private readonly UInt128 _clientKey;
    private readonly bool _isHttps;
    private byte[]? _scratch;
    private volatile bool _closeRequested;

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
        _requestHead = new Http1RequestHeadWriter(client, isHttps, (context.LocalEndPoint as IPEndPoint)?.Port ?? 0);
        _timeouts = new Http1TimeoutControl(owner, context, isHttps);
        var response = new ResponseHead();
        var body = new Http1MessageBody(_input, _output, _timeouts, _log);
        var exchange = new Http1NodeExchange(owner, this, _request, response, _requestHead, new Http1ResponseHeadWriter(owner, _output, _cookies), body, _timeouts, _log);
        _attempts = new Http1Attempts(owner, this, context, _request, response, exchange, _timeouts, _log);
    }

    /// <summary>True on the SSL termination listener (counts go to the <c>*Ssl</c> statistics).</summary>
    public bool IsHttps => _isHttps;

    /// <summary>True once Kestrel asked the connection to close (server shutdown): the current answer is the last.</summary>
    public bool CloseRequested => _closeRequested;

    /// <summary>Serves requests until the connection ends.</summary>
    /// <returns>True when the rest of the connection is left to Kestrel's HTTP stack (the unread request is still in
    /// the pipe).</returns>
    public async Task<bool> RunAsync()
    {
        _context.Features.Get<IConnectionHeartbeatFeature>()?.OnHeartbeat(static state => ((Http1TimeoutControl)state).OnHeartbeat(), _timeouts);
        var lifetime = _context.Features.Get<IConnectionLifetimeNotificationFeature>();
        using var closing = lifetime?.ConnectionClosedRequested.Register(static state => ((Http1Connection)state!).OnCloseRequested(), this);
        var clock = _owner.Clock;
        try
        {
            while (true)
            {
                _timeouts.SetPhase(Http1Phase.Idle);
                ReadResult result;
                long headLength;
                while (true)
                {
                    result = await _input.ReadAsync().ConfigureAwait(false);
                    if (result.IsCanceled || _closeRequested)
                    {
                        return false;
                    }

                    if (_log.HeadStarted == 0 && !result.Buffer.IsEmpty && _owner.LoggingPolicy is not null)
                    {
                        // The request's first byte (Th and Tt of the connection log start here). The log's clock
                        // reads are made only while connection logging is on (a read costs about 40 ns here).
                        _log.HeadStarted = clock.GetTimestamp();
                    }

                    var empty = Http1HeadFraming.LeadingEmptyLines(result.Buffer);
                    if (empty > 0)
                    {
                        // RFC 9112 section 2.2: empty lines before a request line are ignored (old clients send CRLF after a POST body).
                        _input.AdvanceTo(result.Buffer.GetPosition(empty));
                        continue;
                    }

                    if (Http1HeadFraming.TryFindHeadEnd(result.Buffer, out headLength))
                    {
                        break;
                    }

                    if (result.Buffer.Length > MaxRequestHeadBytes || !Http1HeadFraming.FirstLineFits(result.Buffer))
                    {
                        await _output.WriteAsync(Http1HeadFraming.FirstLineFits(result.Buffer) ? Http1CannedAnswers.TooLarge : Http1CannedAnswers.UriTooLong)
                            .ConfigureAwait(false);
                        return false;
                    }

                    if (result.IsCompleted)
                    {
                        return false;
                    }

                    if (_timeouts.Phase != Http1Phase.Head)
                    {
                        // The head's time runs from its first byte, not from the last read (a trickled head is cut off).
                        _timeouts.SetPhase(Http1Phase.Head);
                    }

                    _input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
                }

                var buffer = result.Buffer;
                var snapshot = _owner.Runtime.Snapshot;
                // One read of the runtime's clock per request: the selection's "now" and the start of the node's latency.
                var requestStarted = _owner.Runtime.Time.GetTimestamp();
                var verdict = Prepare(buffer, headLength, snapshot, requestStarted, out var selection);
                if (verdict == HeadStatus.HandOver)
                {
                    // Nothing consumed: Kestrel's HTTP stack reads this request from the start.
                    _input.AdvanceTo(buffer.Start);
                    return true;
                }

                if (verdict != HeadStatus.Ok)
                {
                    _log.HeadStarted = 0;
                    _input.AdvanceTo(buffer.GetPosition(headLength));
                    await _output.WriteAsync(Http1CannedAnswers.ForRefusedHead(verdict)).ConfigureAwait(false);
                    return false;
                }

                _input.AdvanceTo(buffer.GetPosition(headLength));
                if (_fetchSharedPin)
                {
                    // The cookies and the header were copied out of the head: they outlive the buffer.
                    _fetchSharedPin = false;
                    await _owner.Runtime.FetchSharedStateAsync(snapshot, _sharedPinKey, CancellationToken.None).ConfigureAwait(false);
                    selection = Select(snapshot);
                }

                var logging = _owner.LoggingPolicy;
                var headDone = logging is not null ? clock.GetTimestamp() : 0;
                var headStarted = _log.HeadStarted == 0 ? headDone : _log.HeadStarted;
                _log.HeadStarted = 0;
                _log.StartRequest();
                var keepOpen = await _attempts.ForwardAsync(snapshot, selection, requestStarted).ConfigureAwait(false);
                if (logging is not null)
                {
                    var timers = new Access.AccessLogTimers(
                        clock.ElapsedMilliseconds(headStarted, headDone),
                        _log.ConnectMs,
                        _log.AnswerHeadAt == 0 || _log.SendStarted == 0 ? -1 : clock.ElapsedMilliseconds(_log.SendStarted, _log.AnswerHeadAt),
                        0);
                    _owner.Log(logging, _context.RemoteEndPoint as IPEndPoint, _log.AnsweredBy, _log.AnsweredStatus, _log.AnsweredOutcome, _log.Method, _log.Path,
                        _log.BytesIn, _log.BytesOut, timers, _log.Termination, headStarted);
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
            _timeouts.SetPhase(Http1Phase.Closed);
            _timeouts.Active?.Dispose();
        }
    }

    /// <summary>The persistence lookup and the pick for the current request (the connection's client address, the
    /// request's cookies as read by <see cref="Prepare"/>), at <paramref name="now"/> (the runtime timestamp the
    /// request has read already) or, when null, at a fresh one.</summary>
    public Selection Select(LoadBalancerSnapshot snapshot, long? now = null) =>
        _owner.Runtime.Select(snapshot, PersistenceView.Read(snapshot, _owner.Runtime, _clientKey, _cookies.Value, _persistenceHeader.Value), now ?? _owner.Runtime.Time.GetTimestamp());

    /// <summary>Cluster mode: <see cref="Prepare"/> found a stick key the local table misses (<see cref="_sharedPinKey"/>)
    /// or a cookie of an unknown key; the selection waits for the shared pin or the key set's re-read.</summary>
    private bool _fetchSharedPin;
    private UInt128 _sharedPinKey;

    /// <summary>Parses the head, applies the per-request hand-over rules, picks the node and writes the head for it
    /// (<see cref="Http1RequestHeadWriter"/>): everything that needs the head's bytes, before the pipe lets them go.</summary>
    private HeadStatus Prepare(ReadOnlySequence<byte> buffer, long headLength, LoadBalancerSnapshot snapshot, long now, out Selection selection)
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
            _log.CaptureRequestLine(head, _request.FirstLineLength);
        }

        _cookies.Read(head, _request);
        _persistenceHeader.Read(head, _request, snapshot.PersistenceHeaderName);
        if (_owner.Runtime.ConsultsStore(snapshot)
            && _owner.Runtime.MissesSharedState(snapshot, PersistenceView.Read(snapshot, _owner.Runtime, _clientKey, _cookies.Value, _persistenceHeader.Value), out _sharedPinKey))
        {
            // Cluster mode, a stick key the local table misses or a cookie of an unknown key: RunAsync asks the store, then selects.
            _fetchSharedPin = true;
        }
        else
        {
            selection = Select(snapshot, now);
        }

        _requestHead.Write(head, _request);
        return HeadStatus.Ok;
    }

    private void OnCloseRequested()
    {
        _closeRequested = true;
        if (_timeouts.Phase == Http1Phase.Idle)
        {
            _input.CancelPendingRead();
        }
    }
}
