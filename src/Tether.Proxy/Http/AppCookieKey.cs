using Tether.Core.Runtime;
using Tether.Core.SessionPersistence;

namespace Tether.Proxy.Http;

/// <summary>
/// APP_COOKIE (seed 002): which of the request's cookies decides the node. Used by both HTTP data paths (the
/// HTTP/1.1 fast path and the Kestrel/YARP path), so that neither depends on the other.
/// </summary>
internal static class AppCookieKey
{
    /// <summary>The key of the application cookie among <paramref name="pairs"/> (the request's cookies) that decides:
    /// the first named <paramref name="cookieName"/>, or for <c>*</c> the first one pinned now in
    /// <paramref name="runtime"/>'s stick table; <see cref="UInt128.Zero"/> when none. No allocation.</summary>
    public static UInt128 Of(LoadBalancerRuntime runtime, CookieHeader.PairEnumerator pairs, string cookieName)
    {
        var any = cookieName == "*";
        while (pairs.MoveNext())
        {
            if (any)
            {
                var key = StableHash.OfCookie(pairs.Name, pairs.Value);
                if (runtime.IsPinned(key))
                {
                    return key;
                }
            }
            else if (pairs.Name.SequenceEqual(cookieName))
            {
                return StableHash.OfCookie(cookieName, pairs.Value);
            }
        }

        return UInt128.Zero;
    }
}
