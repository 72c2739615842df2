using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Connections;
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

    /// <summary>Forwards one request and its answer, driving the <see cref="AttemptPipeline"/> (one retry elsewhere
    /// after a failed connect, as the Kestrel path does).</summary>
    /// <param name="snapshot">The snapshot the request read once.</param>
    /// <param name="selection">The node chosen for the first attempt.</param>
    /// <param name="requestStarted">The runtime timestamp the request read for its selection: the first attempt's
    /// latency starts there (a retry reads the clock again).</param>
    /// <returns>False when the client connection must close.</returns>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<bool> ForwardAsync(LoadBalancerSnapshot snapshot, Selection selection, long requestStarted)
    {
        var runtime = _owner.Runtime;
        var hasBody = _request.ContentLength > 0 || _request.Chunked;
        var pipeline = AttemptPipeline.Begin(runtime, snapshot, _owner.Options.PassiveFailureHoldSeconds, _connection.IsHttps);
        while (true)
        {
            var node = selection.Node;
            _log.AnsweredBy = node;
            _log.AnsweredOutcome = selection.Outcome;
            _log.AnsweredStatus = -1;
            if (pipeline.OnSelected(selection) == AttemptStep.Fail || node is null)
            {
                var reason = GatewayErrorLog.ReasonOf(pipeline.Failure);
                _log.AnsweredBy = pipeline.FailedNode;
                _log.Termination = GatewayErrorLog.TerminationOf(reason);
                _owner.ReportError(pipeline.Status, reason, pipeline.FailedNode);
                return await WriteErrorAsync(pipeline.Status, closeAfter: hasBody).ConfigureAwait(false);
            }

            // The first attempt's latency starts where the request read the clock for its selection.
            var started = pipeline.Retrying ? runtime.Time.GetTimestamp() : requestStarted;
            node.Counters.OnStart(_connection.IsHttps);
            Http1ExchangeResult outcome;
            try
            {
                outcome = await _exchange.ExchangeAsync(snapshot, node, selection, hasBody).ConfigureAwait(false);
            }
            finally
            {
                node.Counters.OnEnd(_connection.IsHttps);
            }

            switch (outcome)
            {
                case Http1ExchangeResult.Done:
                    _log.Termination = Access.AccessLogTermination.Normal;
                    _log.AnsweredStatus = _response.StatusCode;
                    pipeline.OnSuccess(node);
                    _owner.CountAnswer(snapshot, node, _response.StatusCode, started);
                    return !_exchange.CloseAfterResponse;
                case Http1ExchangeResult.ConnectFailed or Http1ExchangeResult.TimedOut or Http1ExchangeResult.BadGateway or Http1ExchangeResult.NoConnection:
                    var failure = outcome switch
                    {
                        Http1ExchangeResult.ConnectFailed => _timeouts.TimedOut ? AttemptFailure.ConnectTimeout
                            : _exchange.ConnectError == SocketError.ConnectionRefused ? AttemptFailure.ConnectRefused : AttemptFailure.ConnectFailed,
                        Http1ExchangeResult.TimedOut => AttemptFailure.NodeTimeout,
                        Http1ExchangeResult.BadGateway => AttemptFailure.NodeBroken,
                        // Tether's own limit (or the process's), not the node's failure: 503, and the node stays in rotation.
                        _ => AttemptFailure.NoConnection,
                    };
                    if (outcome == Http1ExchangeResult.ConnectFailed)
                    {
                        _timeouts.TimedOut = false;
                    }

                    // Retried only without a request body: nothing of it has been read from the client yet.
                    if (pipeline.OnFailure(node, failure, mayRetry: !hasBody) == AttemptStep.SelectAgain)
                    {
                        selection = _connection.Select(snapshot);
                        continue;
                    }

                    var status = pipeline.Status;
                    _owner.CountAnswer(snapshot, node, status, started);
                    var failedReason = GatewayErrorLog.ReasonOf(failure);
                    if (failure != AttemptFailure.NoConnection)
                    {
                        _owner.ReportError(status, failedReason, node);
                    }

                    _log.Termination = failure == AttemptFailure.NoConnection ? Access.AccessLogTermination.Resource : GatewayErrorLog.TerminationOf(failedReason);
                    // After a timeout or a broken answer the node connection's state is unknown: the client's ends too.
                    return await WriteErrorAsync(status, closeAfter: hasBody || failure is AttemptFailure.NodeTimeout or AttemptFailure.NodeBroken).ConfigureAwait(false);
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
