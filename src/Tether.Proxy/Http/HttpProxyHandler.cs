using System.Net.Http;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;
using Tether.Core.LoadBalancing;
using Tether.Core.Model;
using Tether.Core.Runtime;
using Tether.Core.SessionPersistence;
using Yarp.ReverseProxy.Forwarder;

namespace Tether.Proxy.Http;

/// <summary>
/// The L7 request pipeline of one HTTP load balancer (DESIGN.md section 1): read the current snapshot → persistence
/// lookup → algorithm pick → forward with <see cref="IHttpForwarder"/> → persist the answer (Set-Cookie) and report
/// passive health. 503 when no node can take the request, 502 when persistence forbids fallback or the node fails.
/// </summary>
internal sealed class HttpProxyHandler
{
    private readonly LoadBalancerRuntime _runtime;
    private readonly IHttpForwarder _forwarder;
    private readonly ProxyOptions _options;
    private volatile ForwardingClient _client;

    public HttpProxyHandler(LoadBalancerRuntime runtime, IHttpForwarder forwarder, ProxyOptions options)
    {
        _runtime = runtime;
        _forwarder = forwarder;
        _options = options;
        _client = new ForwardingClient(runtime.Snapshot.Config.TimeoutSeconds, options);
    }

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

    public async Task HandleAsync(HttpContext context)
    {
        var snapshot = _runtime.Snapshot;
        ReadOnlySpan<char> cookie = default;
        var clientKey = UInt128.Zero;
        if (snapshot.PersistenceType == PersistenceType.HttpCookie)
        {
            CookieHeader.TryFind(context.Request.Headers.Cookie, snapshot.CookieName!, out cookie);
        }
        else if (snapshot.PersistenceType == PersistenceType.SourceIp)
        {
            clientKey = ClientAddress.ToKey(context.Connection.RemoteIpAddress);
        }

        var selection = _runtime.Select(cookie, clientKey);
        var node = selection.Node;
        if (node is null)
        {
            await WriteErrorAsync(context, selection.Outcome == SelectionOutcome.RejectedNoFallback
                ? StatusCodes.Status502BadGateway
                : StatusCodes.Status503ServiceUnavailable).ConfigureAwait(false);
            return;
        }

        var client = _client;
        node.Counters.OnStart();
        try
        {
            if (selection.IssueCookie)
            {
                // Set before forwarding: YARP appends the node's own Set-Cookie lines to it, and clears it on error.
                context.Response.Headers.Append(HeaderNames.SetCookie, _runtime.BuildSetCookie(snapshot, node));
            }

            var error = await _forwarder.SendAsync(context, node.DestinationPrefix, client.Invoker, client.RequestConfig, ForwardingTransformer.Instance).ConfigureAwait(false);
            if (error == ForwarderError.None)
            {
                node.Counters.MarkAvailable();
            }
            else
            {
                OnForwardError(context, node, error);
            }
        }
        finally
        {
            node.Counters.OnEnd();
        }
    }

    private void OnForwardError(HttpContext context, NodeState node, ForwarderError error)
    {
        // Passive health (issue 3): a node that refuses connections or times out is held out of rotation for a while,
        // so that persistence falls back on a real failure. Client-side aborts say nothing about the node.
        var exception = context.Features.Get<IForwarderErrorFeature>()?.Exception;
        var nodeFailed = error switch
        {
            ForwarderError.RequestTimedOut => true,
            ForwarderError.Request => IsConnectFailure(exception),
            _ => false,
        };
        if (nodeFailed)
        {
            node.Counters.MarkUnavailable(_runtime.Time.GetTimestamp() + (_options.PassiveFailureHoldSeconds * _runtime.Time.TimestampFrequency));
        }
    }

    private static bool IsConnectFailure(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError } || e is SocketException)
            {
                return true;
            }
        }

        return false;
    }

    private static Task WriteErrorAsync(HttpContext context, int status)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        return context.Response.WriteAsync(status == StatusCodes.Status502BadGateway ? "502 Bad Gateway\n" : "503 Service Unavailable\n");
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
