using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Connections;
using Tether.Core.LoadBalancing;
using Tether.Core.Runtime;

namespace Tether.Proxy.Http.FastPath;

/// <summary>
/// Forwards one request on the fast path: runs the exchange on the chosen node, holds a node that failed to connect
/// out of rotation, retries once elsewhere when that is allowed, and otherwise answers with Tether's own
/// 502/503/504 (<see cref="Http1CannedAnswers"/>), counting the answer and filling the connection log.
/// </summary>
internal sealed class Http1Attempts
{
    private readonly Http1Forwarder _owner;
    private readonly Http1Connection _connection;
    private readonly ConnectionContext _context;
    private readonly PipeWriter _output;
    private readonly RequestHead _request;
    private readonly ResponseHead _response;
    private readonly Http1NodeExchange _exchange;
    private readonly Http1TimeoutControl _timeouts;
    private readonly Http1RequestLog _log;

    public Http1Attempts(Http1Forwarder owner, Http1Connection connection, ConnectionContext context, RequestHead request, ResponseHead response,
        Http1NodeExchange exchange, Http1TimeoutControl timeouts, Http1RequestLog log)
    {
        _owner = owner;
        _connection = connection;
        _context = context;
        _output = context.Transport.Output;
        _request = request;
        _response = response;
        _exchange = exchange;
        _timeouts = timeouts;
        _log = log;
    }

    /// <summary>Forwards one request (with one retry elsewhere after a failed connect, as the Kestrel path does) and
    /// its answer.</summary>
    /// <returns>False when the client connection must close.</returns>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<bool> ForwardAsync(LoadBalancerSnapshot snapshot, Selection selection)
    {
        var runtime = _owner.Runtime;
        var hasBody = _request.ContentLength > 0 || _request.Chunked;
        var attempt = 0;
        var failedReason = GatewayErrorReason.NoNodeAvailable;
        NodeState? failedNode = null;
        while (true)
        {
            var node = selection.Node;
            _log.AnsweredBy = node;
            _log.AnsweredOutcome = selection.Outcome;
            _log.AnsweredStatus = -1;
            if (node is null)
            {
                if (attempt > 0 && selection.Outcome == SelectionOutcome.NoNodeAvailable)
                {
                    runtime.Statistics.CountFailedRetry();
                }

                var code = selection.Outcome == SelectionOutcome.RejectedNoFallback || attempt > 0 ? 502 : 503;
                _log.AnsweredBy = attempt > 0 ? failedNode : null;
                _log.Termination = attempt > 0 ? GatewayErrorLog.TerminationOf(failedReason)
                    : selection.Outcome == SelectionOutcome.RejectedNoFallback ? Access.AccessLogTermination.ProxyRefused : Access.AccessLogTermination.NodeConnect;
                _owner.ReportError(code, attempt > 0 ? failedReason
                    : selection.Outcome == SelectionOutcome.RejectedNoFallback ? GatewayErrorReason.PersistenceRejected : GatewayErrorReason.NoNodeAvailable,
                    attempt > 0 ? failedNode : null);
                return await WriteErrorAsync(code, closeAfter: hasBody).ConfigureAwait(false);
            }

            var started = runtime.Time.GetTimestamp();
            node.Counters.OnStart();
            Http1ExchangeResult outcome;
            try
            {
                outcome = await _exchange.ExchangeAsync(snapshot, node, selection, hasBody).ConfigureAwait(false);
            }
            finally
            {
                node.Counters.OnEnd();
            }

            switch (outcome)
            {
                case Http1ExchangeResult.Done:
                    _log.Termination = Access.AccessLogTermination.Normal;
                    _log.AnsweredStatus = _response.StatusCode;
                    node.Counters.MarkAvailable();
                    _owner.CountAnswer(snapshot, node, _response.StatusCode, started);
                    return !_exchange.CloseAfterResponse;
                case Http1ExchangeResult.ConnectFailed:
                    var timedOut = _timeouts.TimedOut;
                    node.Counters.CountFailure(timedOut ? NodeFailure.ConnectTimeout : NodeFailure.ConnectError);
                    node.Counters.MarkUnavailable(runtime.Time.GetTimestamp() + (_owner.Options.PassiveFailureHoldSeconds * runtime.Time.TimestampFrequency));
                    failedReason = timedOut ? GatewayErrorReason.ConnectTimeout
                        : _exchange.ConnectError == SocketError.ConnectionRefused ? GatewayErrorReason.ConnectRefused : GatewayErrorReason.ConnectFailed;
                    failedNode = node;
                    _timeouts.TimedOut = false;
                    if (attempt == 0 && snapshot.FallbackEnabled && !hasBody)
                    {
                        attempt++;
                        selection = _connection.Select(snapshot);
                        continue;
                    }

                    _owner.CountAnswer(snapshot, node, 502, started);
                    _owner.ReportError(502, failedReason, node);
                    _log.Termination = GatewayErrorLog.TerminationOf(failedReason);
                    return await WriteErrorAsync(502, closeAfter: hasBody).ConfigureAwait(false);
                case Http1ExchangeResult.TimedOut:
                    node.Counters.CountFailure(NodeFailure.DataTimeout);
                    _owner.CountAnswer(snapshot, node, 504, started);
                    _owner.ReportError(504, GatewayErrorReason.NodeTimeout, node);
                    _log.Termination = Access.AccessLogTermination.NodeHeadTimeout;
                    return await WriteErrorAsync(504, closeAfter: true).ConfigureAwait(false);
                case Http1ExchangeResult.BadGateway:
                    _owner.CountAnswer(snapshot, node, 502, started);
                    _owner.ReportError(502, GatewayErrorReason.NodeBroken, node);
                    _log.Termination = Access.AccessLogTermination.NodeHead;
                    return await WriteErrorAsync(502, closeAfter: true).ConfigureAwait(false);
                case Http1ExchangeResult.NoConnection:
                    // Tether's own limit (or the process's), not the node's failure: 503, and the node stays in rotation.
                    _owner.CountAnswer(snapshot, node, 503, started);
                    _log.Termination = Access.AccessLogTermination.Resource;
                    return await WriteErrorAsync(503, closeAfter: hasBody).ConfigureAwait(false);
                case Http1ExchangeResult.BadRequestBody:
                    // Broken chunked framing from the client: 400, and the connection (and the node's) ends.
                    _log.AnsweredStatus = 400;
                    _log.Termination = Access.AccessLogTermination.ProxyRefused;
                    await _output.WriteAsync(Http1CannedAnswers.BadRequest).ConfigureAwait(false);
                    return false;
                default:
                    // The client left, or the answer broke after it started: the connection cannot go on.
                    _log.Termination = outcome == Http1ExchangeResult.ClientGone ? Access.AccessLogTermination.ClientAborted
                        : _timeouts.TimedOut ? Access.AccessLogTermination.NodeDataTimeout : Access.AccessLogTermination.NodeData;
                    if (_log.HeadWritten)
                    {
                        _log.AnsweredStatus = _response.StatusCode;
                    }

                    _context.Abort();
                    return false;
            }
        }
    }

    /// <summary>Tether's own 502/503/504 answer with the load balancer's error page.</summary>
    /// <returns>False when the connection must close after it.</returns>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> WriteErrorAsync(int status, bool closeAfter)
    {
        _log.AnsweredStatus = status;
        closeAfter |= _connection.CloseRequested || _request.ConnectionClose;
        var page = _owner.ErrorPage(status);
        _log.BytesOut = page.Length;
        _output.Write(Http1CannedAnswers.ErrorHead(status, page.Length, closeAfter));
        _output.Write(page);
        var flushed = await _output.FlushAsync().ConfigureAwait(false);
        return !closeAfter && !flushed.IsCompleted;
    }
}
