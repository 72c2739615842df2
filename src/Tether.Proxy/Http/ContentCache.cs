using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.ResponseCaching;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.ObjectPool;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Tether.Proxy.Http;

/// <summary>
/// Content caching (Rackspace v1.0 <c>contentCaching</c>; issue 12): one in-memory shared cache for every load balancer
/// with content caching on, in front of <see cref="HttpProxyHandler.HandleAsync"/> on the Kestrel path (a load balancer
/// with caching on hands every request over from the HTTP/1.1 fast path). The HTTP semantics are ASP.NET Core's
/// response caching middleware (<see cref="ResponseCachingMiddleware"/>, a shared cache after RFC 9111): GET and HEAD
/// only; requests with <c>Authorization</c> are neither served from nor stored in the cache; request
/// <c>Cache-Control: no-cache</c> (or <c>Pragma: no-cache</c>) skips the lookup, <c>no-store</c> the storing,
/// <c>max-age</c>/<c>min-fresh</c>/<c>max-stale</c>/<c>only-if-cached</c> are honoured; only 200 answers are stored,
/// never with <c>Set-Cookie</c>, <c>Vary: *</c>, <c>no-store</c>, <c>no-cache</c> or <c>private</c>; freshness from
/// <c>s-maxage</c>, then <c>max-age</c>, then <c>Expires</c>; <c>must-revalidate</c>/<c>proxy-revalidate</c> answers are
/// never served stale; one stored answer per <c>Vary</c> variant; hits carry <c>Age</c> and answer conditional requests
/// (<c>If-None-Match</c>, <c>If-Modified-Since</c>) with 304.
/// </summary>
/// <remarks>
/// <para>What Tether adds around the middleware:</para>
/// <list type="bullet">
/// <item>The key. The middleware keys on method, scheme, Host and path only (the query string is ignored unless a
/// feature names query keys, and then by case-insensitive, re-ordered names). Tether gives it the path
/// <c>/{loadBalancerId}|{raw request target}</c> for the lookup (the path and query exactly as the client sent them),
/// so that answers of two load balancers, or of two targets a node may tell apart, never share an entry. The key stays
/// in the path while the middleware runs (it may compute the key again when it stores the answer); the node's request
/// URI is built from the real path (<see cref="TryGetRealPath"/>), which is back when the middleware is done.</item>
/// <item>RFC 9111 storability. The middleware stores only answers marked <c>public</c>; RFC 9111 section 3 lets a shared
/// cache store any answer with an explicit lifetime (<c>max-age</c>, <c>s-maxage</c> or <c>Expires</c>) too. For such
/// an answer (200, no <c>private</c>/<c>no-store</c>/<c>no-cache</c>/<c>Set-Cookie</c>) Tether appends the
/// <c>Cache-Control</c> value <see cref="StorableMarker"/> before the middleware sees the head, and removes it again
/// from every answer the client gets (miss, hit or 304), so clients see the node's header unchanged.</item>
/// <item>Persistence cookies: the HTTP_COOKIE cookie of a request that came through the cache is added when the answer
/// starts, after the middleware has copied the node's head (<see cref="TryDeferPersistenceCookie"/>), so a cacheable
/// answer is stored without it and the client that caused the miss still gets it; answers with a node's own
/// <c>Set-Cookie</c> (which APP_COOKIE learns from) are never stored. No client gets another client's cookie from the
/// cache; a hit carries no Set-Cookie (no node was chosen).</item>
/// <item>Bounds: <see cref="ProxyOptions.ContentCacheSizeMegabytes"/> for the whole cache (a
/// <see cref="Microsoft.Extensions.Caching.Memory.MemoryCache"/> size limit, least recently used evicted first) and
/// <see cref="ProxyOptions.ContentCacheMaxAnswerKilobytes"/> per answer.</item>
/// </list>
/// <para>The connection throttle and the HTTPS redirect are decided before the cache (<see cref="HttpProxyHandler"/>);
/// the access list closes refused connections before any request is read.</para>
/// </remarks>
internal sealed class ContentCache
{
    /// <summary>The <c>Cache-Control</c> value Tether adds for the middleware to an answer RFC 9111 lets a shared cache
    /// store; never sent to a client.</summary>
    internal const string StorableMarker = "public, x-tether-storable";

    private static readonly Func<object, Task> RemoveMarkerCallback = static state =>
    {
        RemoveMarker(((HttpContext)state).Response.Headers);
        return Task.CompletedTask;
    };

    private readonly ResponseCachingMiddleware _middleware;
    private readonly TimeProvider _clock;

    /// <summary>Creates the cache with the bounds of <paramref name="options"/>; <paramref name="clock"/> times the
    /// connection log (default <see cref="TimeProvider.System"/>).</summary>
    public ContentCache(ProxyOptions options, ILoggerFactory loggerFactory, TimeProvider? clock = null)
    {
        _clock = clock ?? TimeProvider.System;
        var cachingOptions = new ResponseCachingOptions
        {
            SizeLimit = options.ContentCacheSizeMegabytes * 1024L * 1024L,
            MaximumBodySize = options.ContentCacheMaxAnswerKilobytes * 1024L,
            UseCaseSensitivePaths = true,
        };
        _middleware = new ResponseCachingMiddleware(ForwardAsync, Microsoft.Extensions.Options.Options.Create(cachingOptions),
            loggerFactory, new DefaultObjectPoolProvider());
    }

    /// <summary>Whether the cache may look at <paramref name="context"/>: GET or HEAD in origin form without
    /// <c>Authorization</c> (the others go straight to the node).</summary>
    public static bool MayServe(HttpContext context)
    {
        var request = context.Request;
        return (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method))
            && StringValues.IsNullOrEmpty(request.Headers.Authorization)
            && context.Features.Get<IHttpRequestFeature>()?.RawTarget is { Length: > 0 } target && target[0] == '/';
    }

    /// <summary>Answers <paramref name="context"/> from the cache, or sends it on to <paramref name="handler"/> and stores
    /// the answer when it may be stored. Counts a hit or a miss on the load balancer; a hit is written to the
    /// connection log (no node) when connection logging is on.</summary>
    public async Task ServeAsync(HttpContext context, HttpProxyHandler handler, int loadBalancerId)
    {
        var request = context.Request;
        var state = new CachedRequest(context, handler, request.Path);
        var policy = handler.LoggingPolicy;
        var logStarted = policy is not null ? _clock.GetTimestamp() : 0;
        var counter = policy is not null ? Access.BodyCounter.Attach(context) : null;
        context.Features.Set(state);
        context.Response.OnStarting(RemoveMarkerCallback, context);
        request.Path = new PathString(string.Concat("/", loadBalancerId.ToString(CultureInfo.InvariantCulture), "|",
            context.Features.Get<IHttpRequestFeature>()!.RawTarget));
        try
        {
            await _middleware.Invoke(context).ConfigureAwait(false);
        }
        finally
        {
            request.Path = state.Path;
            context.Features.Set<CachedRequest?>(null);
        }

        if (state.Forwarded)
        {
            handler.Runtime.CountContentCacheMiss();
            return;
        }

        if (context.Response.StatusCode == StatusCodes.Status504GatewayTimeout)
        {
            // only-if-cached and nothing stored: the middleware's own 504, neither a hit nor a node's answer.
            return;
        }

        handler.Runtime.CountContentCacheHit();
        if (policy is not null)
        {
            handler.LogCacheHit(context, policy, counter!, logStarted);
        }
    }

    /// <summary>Called by the forwarder with the node's answer head, before the body is copied: appends
    /// <see cref="StorableMarker"/> when the request came through the cache and RFC 9111 lets a shared cache store the
    /// answer by its explicit lifetime, but the node did not mark it <c>public</c>.</summary>
    public static void OnNodeAnswer(HttpContext context)
    {
        if (context.Features.Get<CachedRequest>() is null)
        {
            return;
        }

        var response = context.Response;
        var headers = response.Headers;
        var cacheControl = headers.CacheControl;
        if (response.StatusCode != StatusCodes.Status200OK
            || !StringValues.IsNullOrEmpty(headers.SetCookie)
            || HeaderUtilities.ContainsCacheDirective(cacheControl, CacheControlHeaderValue.PublicString)
            || HeaderUtilities.ContainsCacheDirective(cacheControl, CacheControlHeaderValue.PrivateString)
            || HeaderUtilities.ContainsCacheDirective(cacheControl, CacheControlHeaderValue.NoStoreString)
            || HeaderUtilities.ContainsCacheDirective(cacheControl, CacheControlHeaderValue.NoCacheString))
        {
            return;
        }

        var explicitLifetime = HeaderUtilities.TryParseSeconds(cacheControl, CacheControlHeaderValue.SharedMaxAgeString, out _)
            || HeaderUtilities.TryParseSeconds(cacheControl, CacheControlHeaderValue.MaxAgeString, out _)
            || HeaderUtilities.TryParseDate(headers.Expires.ToString(), out _);
        if (explicitLifetime)
        {
            headers.CacheControl = StringValues.Concat(cacheControl, StorableMarker);
        }
    }

    /// <summary>Removes <see cref="StorableMarker"/> from <paramref name="headers"/>' Cache-Control values.</summary>
    internal static void RemoveMarker(IHeaderDictionary headers)
    {
        var values = headers.CacheControl;
        if (values.Count < 2)
        {
            if (values.Count == 1 && values[0] == StorableMarker)
            {
                headers.Remove(HeaderNames.CacheControl);
            }

            return;
        }

        var kept = new List<string?>(values.Count);
        foreach (var value in values)
        {
            if (value != StorableMarker)
            {
                kept.Add(value);
            }
        }

        if (kept.Count != values.Count)
        {
            headers.CacheControl = new StringValues([.. kept]);
        }
    }

    /// <summary>The path of a request that came through the cache, whose <see cref="HttpRequest.Path"/> holds the cache
    /// key while the middleware runs: the forwarder builds the node's request URI from it
    /// (<see cref="ForwardingTransformer"/>).</summary>
    public static bool TryGetRealPath(HttpContext context, out PathString path)
    {
        if (context.Features.Get<CachedRequest>() is { } state)
        {
            path = state.Path;
            return true;
        }

        path = default;
        return false;
    }

    /// <summary>The middleware's next step, on a miss: the handler forwards to a node. The key stays in
    /// <see cref="HttpRequest.Path"/> until the middleware is done (it computes the key again when it stores an answer
    /// it did not look up, for a request with <c>no-cache</c>), and the forwarder takes the real path from
    /// <see cref="TryGetRealPath"/>.</summary>
    /// <summary>Defers the HTTP_COOKIE persistence cookie <paramref name="setCookie"/> (a <c>Set-Cookie</c> value) of a
    /// request that came through the cache until the answer starts, after the middleware has decided on and copied the
    /// node's answer head: so an answer the node lets a shared cache store is stored without this client's cookie, and
    /// this client still gets it. Returns false (nothing deferred) for a request that did not come through the cache.
    /// </summary>
    public static bool TryDeferPersistenceCookie(HttpContext context, string setCookie)
    {
        if (context.Features.Get<CachedRequest>() is not { } state)
        {
            return false;
        }

        if (!state.CookieCallbackRegistered)
        {
            // once per request: a retry on another node replaces the cookie, it does not add a second one
            state.CookieCallbackRegistered = true;
            context.Response.OnStarting(AppendCookieCallback, state);
        }

        state.PersistenceCookie = setCookie;
        return true;
    }

    /// <summary>Drops a cookie deferred by <see cref="TryDeferPersistenceCookie"/>: Tether's own 502/503/504 answer must
    /// not pin the client to the node that just failed.</summary>
    public static void CancelPersistenceCookie(HttpContext context)
    {
        if (context.Features.Get<CachedRequest>() is { } state)
        {
            state.PersistenceCookie = null;
        }
    }

    private static readonly Func<object, Task> AppendCookieCallback = static value =>
    {
        var state = (CachedRequest)value;
        if (state.PersistenceCookie is { } cookie)
        {
            state.Context.Response.Headers.Append(HeaderNames.SetCookie, cookie);
        }

        return Task.CompletedTask;
    };

    private static Task ForwardAsync(HttpContext context)
    {
        var state = context.Features.Get<CachedRequest>()!;
        state.Forwarded = true;
        return state.Handler.HandleAsync(context);
    }

    /// <summary>The per-request state of a request that came through the cache (an HTTP feature).</summary>
    private sealed class CachedRequest(HttpContext context, HttpProxyHandler handler, PathString path)
    {
        public HttpContext Context { get; } = context;

        public HttpProxyHandler Handler { get; } = handler;

        /// <summary>The persistence cookie to add when the answer starts (<see cref="TryDeferPersistenceCookie"/>).</summary>
        public string? PersistenceCookie { get; set; }

        public bool CookieCallbackRegistered { get; set; }

        public PathString Path { get; } = path;

        public bool Forwarded { get; set; }
    }
}
