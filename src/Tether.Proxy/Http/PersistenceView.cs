using System.Text;
using Microsoft.AspNetCore.Http;
using Tether.Core.Runtime;
using Tether.Core.SessionPersistence;
using Tether.Proxy.Http.FastPath;

namespace Tether.Proxy.Http;

/// <summary>
/// Builds the <see cref="PersistenceRequest"/> of an HTTP request, on the fast path and on the Kestrel path alike,
/// reading only what the load balancer's policy needs (<see cref="IPersistencePolicy.Inputs"/>). No allocation (except
/// joining several Cookie lines on the Kestrel path, which HTTP/1.1 clients do not send).
/// </summary>
internal static class PersistenceView
{
    /// <summary>The view of a fast-path request: its Cookie lines joined by <c>"; "</c> and the persistence header's
    /// value (<see cref="CopyHeader"/>).</summary>
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

    /// <summary>Fast path: copies the value of the first field named <paramref name="name"/> (ASCII case-insensitive,
    /// RFC 9110 section 5.1) into <paramref name="buffer"/> (grown when needed, kept by the connection so that a retry
    /// can read it after the head is gone).</summary>
    /// <returns>The value's length; 0 when absent.</returns>
    public static int CopyHeader(ReadOnlySpan<byte> head, ReadOnlySpan<HeaderField> fields, string name, ref char[] buffer)
    {
        foreach (ref readonly var field in fields)
        {
            if (field.NameLength != name.Length || !Ascii.EqualsIgnoreCase(head.Slice(field.NameStart, field.NameLength), name))
            {
                continue;
            }

            var value = head.Slice(field.ValueStart, field.ValueLength);
            if (value.Length > buffer.Length)
            {
                buffer = new char[Math.Max(value.Length, buffer.Length * 2)];
            }

            return Encoding.Latin1.GetChars(value, buffer);
        }

        return 0;
    }
}
