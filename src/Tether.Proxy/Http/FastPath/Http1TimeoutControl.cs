using Microsoft.AspNetCore.Connections;

namespace Tether.Proxy.Http.FastPath;

/// <summary>What a fast-path connection is waiting for; each phase has its own timeout.</summary>
internal enum Http1Phase
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

/// <summary>
/// The timeouts of one fast-path connection (Kestrel's <c>TimeoutControl</c>): the connection says which
/// <see cref="Http1Phase"/> it is in, and Kestrel's one-second heartbeat (<see cref="OnHeartbeat"/>, on its own
/// thread) compares the time in that phase with the phase's limit, not a timer per request. The client's idle
/// keep-alive time and the time to send a head close the connection; the connect timeout and the load balancer's
/// <c>timeout</c> (seconds) cut the node connection in use (<see cref="Active"/>) and set <see cref="TimedOut"/>.
/// </summary>
/// <remarks>Lock-free: the phase and its start are two fields written in one order and read in the other. Time comes
/// from the forwarder's <see cref="TimeProvider"/>.</remarks>
internal sealed class Http1TimeoutControl
{
    private readonly Http1Forwarder _owner;
    private readonly ConnectionContext _context;
    private readonly TimeProvider _clock;
    private readonly bool _isHttps;
    private volatile int _phase;
    private long _phaseSince;
    private volatile bool _timedOut;
    private volatile BackendConnection? _active;
    private int _idleClosed;

    public Http1TimeoutControl(Http1Forwarder owner, ConnectionContext context, bool isHttps)
    {
        _isHttps = isHttps;
        _owner = owner;
        _context = context;
        _clock = owner.Clock;
    }

    /// <summary>The phase now.</summary>
    public Http1Phase Phase => (Http1Phase)_phase;

    /// <summary>True once the heartbeat cut the node connection for the connect timeout or the load balancer's
    /// timeout (the exchange reads it to tell a timeout from a broken node); reset by the exchange.</summary>
    public bool TimedOut
    {
        get => _timedOut;
        set => _timedOut = value;
    }

    /// <summary>The node connection the request is using now (cut by the heartbeat on a timeout), or null.</summary>
    public BackendConnection? Active
    {
        get => _active;
        set => _active = value;
    }

    /// <summary>Enters <paramref name="phase"/>: its time runs from now.</summary>
    public void SetPhase(Http1Phase phase)
    {
        // The time first, the phase last (a volatile write, a release): a heartbeat that sees the new phase sees its time too.
        // A raw timestamp: the conversion to milliseconds is the heartbeat's, once a second, not once per phase.
        Volatile.Write(ref _phaseSince, _clock.GetTimestamp());
        _phase = (int)phase;
    }

    /// <summary>Kestrel's heartbeat (once a second, on its own thread): closes a client idle too long between
    /// requests or too slow to send a head, and cuts a node connection that is too slow to connect or to answer.</summary>
    public void OnHeartbeat()
    {
        // The phase first, its time after (SetPhase writes them the other way round): reading the time first could
        // pair a new phase with the previous phase's start and close a client that was idle for a moment only.
        var phase = (Http1Phase)_phase;
        var elapsed = (long)_clock.GetElapsedTime(Volatile.Read(ref _phaseSince)).TotalMilliseconds;
        var options = _owner.Options;
        switch (phase)
        {
            case Http1Phase.Idle when elapsed > options.KeepAliveTimeoutSeconds * 1000L:
                // Counted once per connection: the phase stays Idle until the connection's read sees the abort, which
                // on a loaded machine (or a TLS connection slow to come down) can be after the next heartbeat.
                if (Interlocked.Exchange(ref _idleClosed, 1) == 0)
                {
                    _owner.CountKeepAliveTimeout(_isHttps);
                }

                _context.Abort(new ConnectionAbortedException("Keep-alive timeout."));
                break;
            case Http1Phase.Head when elapsed > options.RequestHeadersTimeoutSeconds * 1000L:
                _context.Abort(new ConnectionAbortedException("Request headers timeout."));
                break;
            case Http1Phase.Connect when elapsed > _owner.ConnectTimeoutMs:
            case Http1Phase.Node when elapsed > _owner.TimeoutMs:
                _timedOut = true;
                _active?.Dispose();
                break;
            case Http1Phase.Client when elapsed > _owner.TimeoutMs:
                // A client that stopped sending its body or reading the answer: the exchange cannot finish.
                _context.Abort(new ConnectionAbortedException("The client stopped sending or reading."));
                _active?.Dispose();
                break;
        }
    }
}
