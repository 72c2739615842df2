using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;
using Tether.Core.LoadBalancing;
using Tether.Core.Runtime;
using Tether.Core.SessionPersistence;
using Yarp.ReverseProxy.Forwarder;

namespace Tether.Proxy.Http;

/// <summary>
/// APP_COOKIE (seed 002; Octavia, Huawei ELB): after the default response copy, reads the node's Set-Cookie lines.
/// A cookie named <c>cookieName</c> (or any cookie, for <c>*</c>) pins its value to the node that set it; a deletion
/// (Max-Age ≤ 0, or Expires in the past) ends that persistence, so the next request is balanced normally. Runs
/// before the response head is sent, so the client's next request already finds the pin. One instance per node,
/// built when the configuration changes.
/// </summary>
internal sealed class AppCookieTransformer(LoadBalancerRuntime runtime, int nodeId, string cookieName) : HttpTransformer
{
    public override ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken) =>
        ForwardingTransformer.Instance.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);

    public override async ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
    {
        var result = await ForwardingTransformer.Instance.TransformResponseAsync(httpContext, proxyResponse, cancellationToken).ConfigureAwait(false);
        if (proxyResponse is null || !proxyResponse.Headers.TryGetValues(HeaderNames.SetCookie, out var lines))
        {
            return result;
        }

        foreach (var line in lines)
        {
            Learn(runtime, nodeId, cookieName, line, new CookieHeader.PairEnumerator(httpContext.Request.Headers.Cookie));
        }

        return result;
    }

    /// <summary>Learns or forgets from one Set-Cookie value of node <paramref name="nodeId"/>'s answer: a cookie named
    /// <paramref name="cookieName"/> (or any, for <c>*</c>) pins its value to the node; a deletion ends the pins of
    /// the cookies of that name the request presented (<paramref name="presented"/>).</summary>
    public static void Learn(LoadBalancerRuntime runtime, int nodeId, string cookieName, string line, CookieHeader.PairEnumerator presented)
    {
        if (!SetCookieHeaderValue.TryParse(line, out var setCookie) || setCookie.Name.Length == 0)
        {
            return;
        }

        if (cookieName != "*" && !setCookie.Name.Equals(cookieName, StringComparison.Ordinal))
        {
            return;
        }

        var key = StableHash.OfCookie(setCookie.Name.AsSpan(), setCookie.Value.AsSpan());
        var deleted = setCookie.MaxAge <= TimeSpan.Zero || (setCookie.Expires is { } expires && expires <= runtime.Time.GetUtcNow());
        if (deleted)
        {
            // A deletion usually carries an empty or placeholder value: end every pin of this node's cookie of that
            // name that the request presented.
            var name = setCookie.Name.AsSpan();
            while (presented.MoveNext())
            {
                if (presented.Name.SequenceEqual(name))
                {
                    runtime.ForgetAppCookie(StableHash.OfCookie(presented.Name, presented.Value));
                }
            }

            runtime.ForgetAppCookie(key);
        }
        else
        {
            runtime.LearnAppCookie(key, nodeId);
        }
    }
}

/// <summary>The per-node <see cref="AppCookieTransformer"/>s of the current snapshot, rebuilt when it changes.</summary>
internal sealed class AppCookieTransformers
{
    private volatile Entry? _current;

    public HttpTransformer For(LoadBalancerSnapshot snapshot, NodeState node, LoadBalancerRuntime runtime)
    {
        var current = _current;
        if (current is null || !ReferenceEquals(current.Snapshot, snapshot))
        {
            // Built once per configuration change (the first request after it), never again until the next change.
            var map = new Dictionary<int, HttpTransformer>();
            foreach (var n in snapshot.Nodes)
            {
                map[n.Id] = new AppCookieTransformer(runtime, n.Id, snapshot.Config.SessionPersistence?.CookieName ?? "*");
            }

            current = new Entry(snapshot, map);
            _current = current;
        }

        return current.ByNode.TryGetValue(node.Id, out var transformer) ? transformer : ForwardingTransformer.Instance;
    }

    private sealed record Entry(LoadBalancerSnapshot Snapshot, Dictionary<int, HttpTransformer> ByNode);
}
