using Microsoft.Extensions.Logging;
using Tether.Core.LoadBalancing;
using Tether.Core.Runtime;

namespace Tether.Proxy.Http;

/// <summary>Why Tether itself answered 502, 503 or 504 (rather than passing on the node's answer).</summary>
internal enum GatewayErrorReason
{
    /// <summary>503: no node can take the request (none ENABLED and available).</summary>
    NoNodeAvailable,
    /// <summary>502: session persistence pinned the client to a node that is unavailable and fallback is disabled
    /// (<c>disableFallback</c>).</summary>
    PersistenceRejected,
    /// <summary>502: the node refused the connection (TCP reset on connect).</summary>
    ConnectRefused,
    /// <summary>502: connecting to the node failed otherwise (unreachable, no route...).</summary>
    ConnectFailed,
    /// <summary>502: the node did not accept the connection within the connect timeout.</summary>
    ConnectTimeout,
    /// <summary>502: the node reset the connection, closed it early or sent an answer that is not valid HTTP.</summary>
    NodeBroken,
    /// <summary>504: the node did not answer within the load balancer's <c>timeout</c> (seconds).</summary>
    NodeTimeout,
    /// <summary>503: the client's connection is over the connection throttle (<c>maxConnections</c>).</summary>
    ConnectionThrottled,
}

/// <summary>
/// Logs Tether's own 502/503/504 answers of one HTTP load balancer (both data paths), rate-limited per reason: the
/// first answer of a reason is logged at once, the next ones at most once every <see cref="IntervalSeconds"/> seconds,
/// each line carrying how many answers of that reason were given since the previous line (itself included). Event
/// ids 1010 (502), 1011 (503), 1012 (504).
/// </summary>
/// <remarks>No lock and no allocation when no line is written: two <see cref="Interlocked"/> operations on the
/// reason's counters. Time comes from the runtime's <see cref="TimeProvider"/>.</remarks>
internal sealed class GatewayErrorLog
{
    /// <summary>The least time between two lines of the same reason, in seconds.</summary>
    public const int IntervalSeconds = 5;

    private const int ReasonCount = (int)GatewayErrorReason.ConnectionThrottled + 1;

    private readonly ILogger? _logger;
    private readonly LoadBalancerRuntime _runtime;
    private readonly long[] _lastLogged = new long[ReasonCount];
    private readonly long[] _unlogged = new long[ReasonCount];

    public GatewayErrorLog(LoadBalancerRuntime runtime, ILogger? logger)
    {
        _runtime = runtime;
        _logger = logger;
    }

    /// <summary>Counts Tether's answer of <paramref name="status"/> for <paramref name="reason"/>, about
    /// <paramref name="node"/> (null when no node was involved), and logs it when the reason's interval has passed.</summary>
    public void Report(int status, GatewayErrorReason reason, NodeState? node)
    {
        if (_logger is null)
        {
            return;
        }

        var i = (int)reason;
        var unlogged = Interlocked.Increment(ref _unlogged[i]);
        var time = _runtime.Time;
        var now = time.GetTimestamp();
        var last = Volatile.Read(ref _lastLogged[i]);
        if ((last != 0 && now - last < IntervalSeconds * time.TimestampFrequency)
            || Interlocked.CompareExchange(ref _lastLogged[i], now == 0 ? 1 : now, last) != last)
        {
            return;
        }

        Interlocked.Add(ref _unlogged[i], -unlogged);
        var lb = _runtime.Snapshot.Id;
        var nodeId = node?.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-";
        var address = node?.EndPoint.ToString() ?? "-";
        var text = Describe(reason);
        switch (status)
        {
            case 502:
                ProxyLog.BadGatewayAnswered(_logger, lb, text, nodeId, address, unlogged);
                break;
            case 504:
                ProxyLog.GatewayTimeoutAnswered(_logger, lb, text, nodeId, address, unlogged);
                break;
            default:
                ProxyLog.ServiceUnavailableAnswered(_logger, lb, text, nodeId, address, unlogged);
                break;
        }
    }

    /// <summary>The reason of Tether's answer for a failure of the attempt pipeline (<see cref="AttemptPipeline"/>).
    /// <see cref="AttemptFailure.NoConnection"/> and <see cref="AttemptFailure.PortUnreachable"/> are not gateway
    /// reasons (Tether's own limit; UDP): <see cref="GatewayErrorReason.NoNodeAvailable"/>.</summary>
    public static GatewayErrorReason ReasonOf(AttemptFailure failure) => failure switch
    {
        AttemptFailure.PersistenceRejected => GatewayErrorReason.PersistenceRejected,
        AttemptFailure.ConnectRefused => GatewayErrorReason.ConnectRefused,
        AttemptFailure.ConnectFailed => GatewayErrorReason.ConnectFailed,
        AttemptFailure.ConnectTimeout => GatewayErrorReason.ConnectTimeout,
        AttemptFailure.NodeTimeout => GatewayErrorReason.NodeTimeout,
        AttemptFailure.NodeBroken => GatewayErrorReason.NodeBroken,
        _ => GatewayErrorReason.NoNodeAvailable,
    };

    /// <summary>The connection log's termination state of a failure reason (both HTTP data paths).</summary>
    public static Access.AccessLogTermination TerminationOf(GatewayErrorReason reason) => reason switch
    {
        GatewayErrorReason.NoNodeAvailable => Access.AccessLogTermination.NodeConnect,
        GatewayErrorReason.PersistenceRejected or GatewayErrorReason.ConnectionThrottled => Access.AccessLogTermination.ProxyRefused,
        GatewayErrorReason.ConnectRefused or GatewayErrorReason.ConnectFailed => Access.AccessLogTermination.NodeConnect,
        GatewayErrorReason.ConnectTimeout => Access.AccessLogTermination.NodeConnectTimeout,
        GatewayErrorReason.NodeTimeout => Access.AccessLogTermination.NodeHeadTimeout,
        _ => Access.AccessLogTermination.NodeHead,
    };

    /// <summary>The reason as the log line says it.</summary>
    public static string Describe(GatewayErrorReason reason) => reason switch
    {
        GatewayErrorReason.NoNodeAvailable => "no node available",
        GatewayErrorReason.PersistenceRejected => "persistence rejected: the client's node is unavailable and fallback is disabled",
        GatewayErrorReason.ConnectRefused => "connect refused",
        GatewayErrorReason.ConnectFailed => "connect failed",
        GatewayErrorReason.ConnectTimeout => "connect timeout",
        GatewayErrorReason.NodeBroken => "node reset the connection or sent a broken answer",
        GatewayErrorReason.NodeTimeout => "node timeout",
        _ => "over the connection throttle",
    };
}
