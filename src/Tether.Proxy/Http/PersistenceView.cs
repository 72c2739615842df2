using Microsoft.AspNetCore.Http;
using Tether.Core.Runtime;
using Tether.Core.SessionPersistence;

namespace Tether.Proxy.Http;

/// <summary>
/// Builds the <see cref="PersistenceRequest"/> of an HTTP request, on the fast path and on the Kestrel path alike,
/// reading only what the load balancer's policy needs (<see cref="IPersistencePolicy.Inputs"/>). No allocation (except
/// joining several Cookie lines on the Kestrel path, which HTTP/1.1 clients do not send).
/// </summary>
internal static class PersistenceView
{
    /// <summary>The view of a fast-path request: its Cookie lines joined by <c>"; "</c> and the persistence header's
    /// value (read by the fast path's <c>Http1PersistenceHeader</c>).</summary>
    public static PersistenceRequest Read(LoadBalancerSnapshot snapshot, LoadBalancerRuntime runtime, UInt128 clientKey, ReadOnlySpan<char> cookies, ReadOnlySpan<char> header)
    {
        var inputs = snapshot.Persistence.Inputs;
        ReadOnlySpan<char> cookie = default;
        var appCookieKey = UInt128.Zero;
        if ((inputs & PersistenceInputs.PersistenceCookie) != 0)
        {
            CookieHeader.TryFind(cookies, snapshot.CookieName!, out cookie);
        }

        if ((inputs & PersistenceInputs.AppCookie) != 0)
        {
            appCookieKey = AppCookieKey.Of(runtime, new CookieHeader.PairEnumerator(cookies), snapshot.CookieName!);
        }

        return new PersistenceRequest(clientKey, cookie, appCookieKey, header);
    }

    /// <summary>The view of a Kestrel-path request.</summary>
    public static PersistenceRequest Read(LoadBalancerSnapshot snapshot, LoadBalancerRuntime runtime, HttpContext context)
    {
        var inputs = snapshot.Persistence.Inputs;
        var clientKey = (inputs & PersistenceInputs.ClientAddress) != 0 ? ClientAddress.ToKey(context.Connection.RemoteIpAddress) : UInt128.Zero;
        ReadOnlySpan<char> cookie = default;
        var appCookieKey = UInt128.Zero;
        ReadOnlySpan<char> header = default;
        if ((inputs & PersistenceInputs.PersistenceCookie) != 0)
        {
            CookieHeader.TryFind(context.Request.Headers.Cookie, snapshot.CookieName!, out cookie);
        }

        if ((inputs & PersistenceInputs.AppCookie) != 0)
        {
            appCookieKey = AppCookieKey.Of(runtime, new CookieHeader.PairEnumerator(context.Request.Headers.Cookie), snapshot.CookieName!);
        }

        if (snapshot.PersistenceHeaderName is { } name && context.Request.Headers.TryGetValue(name, out var values) && values.Count > 0)
        {
            // The first field line, as on the fast path.
            header = values[0].AsSpan();
        }

        return new PersistenceRequest(clientKey, cookie, appCookieKey, header);
    }
}
