using System.Net.Sockets;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;
using Tether.Core.LoadBalancing;
using Tether.Core.Model;
using Tether.Core.Runtime;
using Yarp.ReverseProxy.Forwarder;

namespace Tether.Proxy.Http;

/// <summary>
/// The L7 request pipeline of one HTTP load balancer on Kestrel's HTTP stack (docs/architecture.md): read the current
/// snapshot → persistence lookup → algorithm pick → forward with <see cref="IHttpForwarder"/> → persist the answer
/// (Set-Cookie); availability, passive health, the retry and Tether's own status come from the
/// <see cref="AttemptPipeline"/> (503 when no node can take the request, 502 when persistence forbids fallback or
/// the node fails), as on the fast path and at layer 4.
/// </summary>
internal sealed class HttpProxyHandler
{
    private readonly LoadBalancerRuntime _runtime;
    private readonly IHttpForwarder _forwarder;
    private readonly ProxyOptions _options;
    private volatile ForwardingClient _client;
    private readonly TimeProvider _clock;
    private readonly Access.AccessControl? _access;
    private readonly ContentCache? _cache;

    public HttpProxyHandler(LoadBalancerRuntime runtime, IHttpForwarder forwarder, ProxyOptions options, Metrics.TetherMetrics? metrics = null,
        Access.AccessControl? access = null, Microsoft.Extensions.Logging.ILogger? logger = null, ContentCache? cache = null, TimeProvider? clock = null)
    {
        _cache = cache;
        _access = access;
        _clock = clock ?? TimeProvider.System;
        Answers = new AnswerCounter(runtime, metrics);
        _runtime = runtime;
        _forwarder = forwarder;
        _options = options;
        _client = new ForwardingClient(runtime.Snapshot.Config.TimeoutSeconds, options);
        Errors = new GatewayErrorLog(runtime, logger);
    }

    /// <summary>The rate-limited log of Tether's own 502/503/504 answers on both data paths (events 1010-1012).</summary>
    public GatewayErrorLog Errors { get; }

    /// <summary>Counts answers (status code, latency) on both data paths.</summary>
    public AnswerCounter Answers { get; }

    /// <summary>The load balancer's runtime (its snapshot and counters).</summary>
    public LoadBalancerRuntime Runtime => _runtime;

    /// <summary>The access policy when connection logging is on, else null.</summary>
    public Access.AccessPolicy? LoggingPolicy => _access?.Policy is { LoggingEnabled: true } policy ? policy : null;

    /// <summary>The listeners' request handler: with content caching on (and a cache), a GET or HEAD request that the
    /// connection throttle and the HTTPS redirect let through goes to <see cref="ContentCache.ServeAsync"/>, which
    /// answers it from the cache or calls <see cref="HandleAsync"/>; every other request goes to
    /// <see cref="HandleAsync"/>.</summary>
    public Task ServeAsync(HttpContext context)
    {
        var config = _runtime.Snapshot.Config;
        if (_cache is not { } cache || !config.ContentCaching || !ContentCache.MayServe(context)
            || (_access?.Policy is { } policy && Access.AccessControl.IsOverLimit(policy, context))
            || (config.HttpsRedirect && !context.Request.IsHttps && config.SslTermination is { Enabled: true }))
        {
            return HandleAsync(context);
        }

        return cache.ServeAsync(context, this, config.Id);
    }

    /// <summary>Queues the connection log line of a request the content cache answered (no node, decision none).</summary>
    internal void LogCacheHit(HttpContext context, Access.AccessPolicy policy, Access.BodyCounter counter, long logStarted) =>
        LogRequest(context, policy, counter, null, Access.AccessLogDecision.None, Access.AccessLogTermination.Normal, 0, logStarted);

    /// <summary>Applies a timeout change: requests already sent finish on the old client, which is disposed after
    /// they had time to end.</summary>
    public void OnConfigApplied(LoadBalancerConfig config)
    {
        var current = _client;
        if (current.TimeoutSeconds == config.TimeoutSeconds)
        {
            return;
        }

        _client = new ForwardingClient(config.TimeoutSeconds, _options);
        _ = current.DisposeLaterAsync();
    }

    /// <summary>Serves one request. A request on a connection accepted over the connection throttle is answered 503
    /// with <c>Connection: close</c> before anything else; with connection logging on, one line is queued when the
    /// request ends (see <see cref="Access.AccessLogWriter"/>).</summary>
    public async Task HandleAsync(HttpContext context)
    {
        var policy = _access?.Policy;
        var logStarted = policy is { LoggingEnabled: true } ? _clock.GetTimestamp() : 0;
        var counter = logStarted != 0 ? Access.BodyCounter.Attach(context) : null;
        Selection selection = default;
        var decided = false;
        var rejected = false;
        var termination = Access.AccessLogTermination.Normal;
        NodeState? failedNode = null;
        long forwardStarted = 0;
        var nodeAnswered = false;
        try
        {
            if (policy is not null && Access.AccessControl.IsOverLimit(policy, context))
            {
                rejected = true;
                termination = Access.AccessLogTermination.ProxyRefused;
                context.Response.Headers.Connection = "close";
                Errors.Report(StatusCodes.Status503ServiceUnavailable, GatewayErrorReason.ConnectionThrottled, null);
                await WriteErrorAsync(context, StatusCodes.Status503ServiceUnavailable).ConfigureAwait(false);
                return;
            }

            if (IsNotImplemented(context))
            {
                termination = Access.AccessLogTermination.ProxyRefused;
                context.Response.StatusCode = StatusCodes.Status501NotImplemented;
                context.Response.Headers.Connection = "close";
                return;
            }

            var snapshot = _runtime.Snapshot;
            if (snapshot.Config.HttpsRedirect && !context.Request.IsHttps && snapshot.Config.SslTermination is { Enabled: true } ssl)
            {
                RedirectToHttps(context, ssl.SecurePort);
                return;
            }

            if (_runtime.ConsultsStore(snapshot)
                && _runtime.MissesSharedState(snapshot, PersistenceView.Read(snapshot, _runtime, context), out var stickKey))
            {
                // Cluster mode, a stick key the local table misses (the shared pin) or a cookie of an unknown key (the key set), a few ms at most.
                await _runtime.FetchSharedStateAsync(snapshot, stickKey, context.RequestAborted).ConfigureAwait(false);
            }

            selection = Select(context, snapshot);
            decided = true;
            var pipeline = AttemptPipeline.Begin(_runtime, snapshot, _options.PassiveFailureHoldSeconds, context.Request.IsHttps);
            while (true)
            {
                var node = selection.Node;
                if (pipeline.OnSelected(selection) == AttemptStep.Fail || node is null)
                {
                    // No node, persistence forbids fallback, or no other node after a failed attempt (502, not 503).
                    var reason = GatewayErrorLog.ReasonOf(pipeline.Failure);
                    failedNode = pipeline.FailedNode;
                    termination = GatewayErrorLog.TerminationOf(reason);
                    Errors.Report(pipeline.Status, reason, pipeline.FailedNode);
                    await WriteErrorAsync(context, pipeline.Status).ConfigureAwait(false);
                    return;
                }

                var client = _client;
                ForwarderError error;
                long started = 0;
                node.Counters.OnStart(context.Request.IsHttps);
                try
                {
                    if (selection.IssueCookie)
                    {
                        // Set before forwarding: YARP appends the node's own Set-Cookie lines to it; removed again on error.
                        // Through the content cache it is added when the answer starts, after the cache copied the head.
                        var setCookie = _runtime.BuildSetCookie(snapshot, node, selection.SessionId);
                        if (!ContentCache.TryDeferPersistenceCookie(context, setCookie))
                        {
                            context.Response.Headers.Append(HeaderNames.SetCookie, setCookie);
                        }
                    }

                    var transformer = snapshot.Persistence.LearnsFromAnswer
                        ? _appCookieTransformers.For(snapshot, node, _runtime)
                        : ForwardingTransformer.Instance;
                    started = _runtime.Time.GetTimestamp();
                    forwardStarted = counter is null ? 0 : _clock.GetTimestamp();
                    error = await _forwarder.SendAsync(context, node.DestinationPrefix, client.Invoker, client.RequestConfig, transformer).ConfigureAwait(false);
                }
                finally
                {
                    node.Counters.OnEnd(context.Request.IsHttps);
                }

                if (error == ForwarderError.None)
                {
                    nodeAnswered = true;
                    pipeline.OnSuccess(node);
                    CountAnswer(context, snapshot, node, started);
                    return;
                }

                var failure = FailureOf(context, error);
                var failedReason = GatewayErrorLog.ReasonOf(failure);
                failedNode = node;
                nodeAnswered = context.Response.HasStarted;
                termination = error switch
                {
                    ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled or ForwarderError.RequestBodyClient
                        or ForwarderError.ResponseBodyCanceled or ForwarderError.ResponseBodyClient => Access.AccessLogTermination.ClientAborted,
                    _ when context.Response.HasStarted => error == ForwarderError.RequestTimedOut
                        ? Access.AccessLogTermination.NodeDataTimeout : Access.AccessLogTermination.NodeData,
                    _ => GatewayErrorLog.TerminationOf(failedReason),
                };
                if (!context.Response.HasStarted)
                {
                    // Tether's own 502/504 answer must not pin the client to the node that just failed.
                    context.Response.Headers.Remove(HeaderNames.SetCookie);
                    ContentCache.CancelPersistenceCookie(context);
                }

                // A request that failed to connect is retried once on another node, when persistence allows it
                // (fallback enabled), the client has not seen a byte of the answer, and no request body was sent.
                if (pipeline.OnFailure(node, failure, mayRetry: !context.Response.HasStarted && !HasBody(context.Request)) == AttemptStep.SelectAgain)
                {
                    context.Response.Clear();
                    context.Features.Set<IForwarderErrorFeature>(null);
                    selection = Select(context, snapshot);
                    continue;
                }

                CountAnswer(context, snapshot, node, started);
                if (!context.Response.HasStarted && context.Response.StatusCode is >= 502 and <= 504)
                {
                    Errors.Report(context.Response.StatusCode, failedReason, node);
                }

                if (_access is not null && !context.Response.HasStarted && context.Response.StatusCode >= 500)
                {
                    // The forwarder set 502/504 without a body: Tether's own answer carries the error page.
                    await WriteErrorAsync(context, context.Response.StatusCode).ConfigureAwait(false);
                }

                return;
            }
        }
        finally
        {
            if (logStarted != 0)
            {
                LogRequest(context, policy!, counter!, decided ? selection.Node ?? failedNode : null,
                    rejected ? Access.AccessLogDecision.Rejected
                        : decided ? Access.AccessControl.DecisionOf(selection.Outcome, _runtime.Snapshot.PersistenceType is not null) : Access.AccessLogDecision.None,
                    termination, nodeAnswered ? forwardStarted : 0, logStarted);
            }
        }
    }

    /// <summary>Queues the connection log line of a request served on this path. Th and Tc are not measured here
    /// (Kestrel reads the head, the socket handler connects): -1.</summary>
    private void LogRequest(HttpContext context, Access.AccessPolicy policy, Access.BodyCounter counter, NodeState? node,
        Access.AccessLogDecision decision, Access.AccessLogTermination termination, long forwardStarted, long logStarted)
    {
        var target = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.Value ?? "";
        var query = target.IndexOf('?', StringComparison.Ordinal);
        var responseMs = forwardStarted != 0 && counter.HeadSent >= forwardStarted
            ? _clock.ElapsedMilliseconds(forwardStarted, counter.HeadSent)
            : -1;
        var connection = context.Connection;
        var client = connection.RemoteIpAddress is { } address ? new System.Net.IPEndPoint(address, connection.RemotePort) : null;
        _access!.LogHttp(policy, client, node, context.Request.Method, query < 0 ? target : target[..query],
            context.Response.StatusCode, counter.BytesIn, counter.BytesOut, new Access.AccessLogTimers(-1, -1, responseMs, 0),
            decision, context.RequestAborted.IsCancellationRequested && termination == Access.AccessLogTermination.Normal
                ? Access.AccessLogTermination.ClientAborted : termination, logStarted);
    }

    /// <summary>What a reverse proxy answers 501 to itself (RFC 9110 section 15.6.2), as the fast path does: CONNECT
    /// (Tether is no forward proxy), a request transfer coding other than chunked alone (RFC 9112 section 6.1; Kestrel
    /// decodes chunked and the coding before it would be lost on the way to the node), and <c>OPTIONS *</c>, which
    /// <see cref="System.Net.Http.HttpClient"/> cannot send in asterisk-form (the fast path forwards it as it came).</summary>
    private static bool IsNotImplemented(HttpContext context)
    {
        var request = context.Request;
        if (HttpMethods.IsConnect(request.Method))
        {
            return true;
        }

        var codings = request.Headers.TransferEncoding;
        if (codings.Count > 1 || (codings.Count == 1 && !string.Equals(codings[0]?.Trim(), "chunked", StringComparison.OrdinalIgnoreCase)))
        {
            return true;
        }

        return HttpMethods.IsOptions(request.Method)
            && context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()?.RawTarget == "*";
    }

    /// <summary>httpsRedirect (Rackspace): a plain HTTP request gets a 301 to the same host, path and query on the
    /// SSL termination's port.</summary>
    private static void RedirectToHttps(HttpContext context, int securePort)
    {
        var request = context.Request;
        // An HTTP/1.0 request may carry no Host: the listener's own address stands in.
        var host = request.Host.HasValue ? request.Host.Host : context.Connection.LocalIpAddress?.ToString() ?? "localhost";
        var authority = securePort == 443 ? host : string.Concat(host, ":", securePort.ToString(System.Globalization.CultureInfo.InvariantCulture));
        context.Response.StatusCode = StatusCodes.Status301MovedPermanently;
        context.Response.Headers.Location = string.Concat("https://", authority, request.PathBase.ToUriComponent(), request.Path.ToUriComponent(), request.QueryString.ToUriComponent());
    }

    /// <summary>Persistence lookup and pick: reads the request's persistence inputs for the snapshot's policy.</summary>
    private Selection Select(HttpContext context, LoadBalancerSnapshot snapshot) =>
        _runtime.Select(snapshot, PersistenceView.Read(snapshot, _runtime, context));

    private readonly AppCookieTransformers _appCookieTransformers = new();

    /// <summary>Counts the answer the client got from (or because of) <paramref name="node"/>: its status code and
    /// its latency. A connect failure that is retried elsewhere is not an answer and is not counted here.</summary>
    private void CountAnswer(HttpContext context, LoadBalancerSnapshot snapshot, NodeState node, long started) =>
        Answers.Count(snapshot, node, context.Response.StatusCode, started);

    /// <summary>APP_COOKIE: the key of the application cookie that decides (<see cref="AppCookieKey.Of"/>).</summary>
    private UInt128 AppCookieKeyOf(Microsoft.Extensions.Primitives.StringValues headers, string cookieName) =>
        AppCookieKey.Of(_runtime, new CookieHeader.PairEnumerator(headers), cookieName);

    private static bool HasBody(HttpRequest request) =>
        request.ContentLength > 0 || (request.ContentLength is null && request.Headers.ContainsKey(HeaderNames.TransferEncoding));

    /// <summary>What YARP's <paramref name="error"/> says about the node, for the <see cref="AttemptPipeline"/>: a
    /// failed connect (refused, timed out, or otherwise), a data timeout (<see cref="ForwarderError.RequestTimedOut"/>,
    /// 504), else a broken exchange (502; client-side aborts too, which the pipeline holds nothing against).</summary>
    private static AttemptFailure FailureOf(HttpContext context, ForwarderError error)
    {
        var exception = context.Features.Get<IForwarderErrorFeature>()?.Exception;
        // Only a failed connect holds the node out: one slow answer (a data timeout, 504) says the request was slow,
        // not that the node is gone, and holding the node out for it would turn one slow report into 503s for all.
        if (error == ForwarderError.Request && IsConnectFailure(exception))
        {
            return IsTimeout(exception) ? AttemptFailure.ConnectTimeout : IsRefused(exception) ? AttemptFailure.ConnectRefused : AttemptFailure.ConnectFailed;
        }

        return error == ForwarderError.RequestTimedOut ? AttemptFailure.NodeTimeout : AttemptFailure.NodeBroken;
    }

    private static bool IsTimeout(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is TimeoutException or OperationCanceledException || e is SocketException { SocketErrorCode: SocketError.TimedOut })
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsRefused(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is SocketException { SocketErrorCode: SocketError.ConnectionRefused })
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether the node could not be connected to. A socket error on an open connection (the node reset or
    /// closed it while the request was sent or before its answer) is not: that is a broken answer (502) and does not
    /// hold the node out, as on the fast path.</summary>
    private static bool IsConnectFailure(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError }
                || e is SocketException { SocketErrorCode: not (SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown or SocketError.Disconnecting or SocketError.NotConnected) })
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Tether's own 502/503/504 answer: the load balancer's error page (text/html; the default page that names
    /// the status unless a custom one is set), or plain text when the handler has no access control (unit tests).</summary>
    private Task WriteErrorAsync(HttpContext context, int status)
    {
        if (_access is { } access)
        {
            return Access.AccessControl.WriteErrorPageAsync(access.Policy, context, status);
        }

        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        return context.Response.WriteAsync(status switch
        {
            StatusCodes.Status502BadGateway => "502 Bad Gateway\n",
            StatusCodes.Status504GatewayTimeout => "504 Gateway Timeout\n",
            _ => "503 Service Unavailable\n",
        });
    }
}

/// <summary>A pooled <see cref="SocketsHttpHandler"/> per load balancer and the per-request forwarding settings.</summary>
internal sealed class ForwardingClient
{
    public ForwardingClient(int timeoutSeconds, ProxyOptions options)
    {
        TimeoutSeconds = timeoutSeconds;
        var timeout = TimeSpan.FromSeconds(timeoutSeconds);
        Invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = System.Net.DecompressionMethods.None,
            UseCookies = false,
            ActivityHeadersPropagator = null,
            ConnectTimeout = TimeSpan.FromSeconds(Math.Min(timeoutSeconds, options.ConnectTimeoutSeconds)),
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(options.PooledConnectionIdleTimeoutSeconds),
            EnableMultipleHttp2Connections = true,
            MaxConnectionsPerServer = options.MaxConnectionsPerNode > 0 ? options.MaxConnectionsPerNode : int.MaxValue,
        }, disposeHandler: true);
        // Plain-text nodes speak HTTP/1.1: ask for it, so that no request tries HTTP/2 first.
        RequestConfig = new ForwarderRequestConfig
        {
            ActivityTimeout = timeout,
            Version = System.Net.HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };
    }

    public int TimeoutSeconds { get; }

    public HttpMessageInvoker Invoker { get; }

    public ForwarderRequestConfig RequestConfig { get; }

    public async Task DisposeLaterAsync()
    {
        await Task.Delay(TimeSpan.FromSeconds(TimeoutSeconds + 5)).ConfigureAwait(false);
        Invoker.Dispose();
    }
}
