namespace Tether.Core.Model;

/// <summary>
/// Session persistence of a load balancer (docs/session-persistence.md; seeds 000, 002, 003). Optional fields are
/// <c>null</c> when never set, so that the API can omit them; the <c>Effective*</c> members give the defaults.
/// </summary>
public sealed record SessionPersistenceConfig
{
    /// <summary>Default stickiness duration: 1200 seconds (20 minutes, seed 003).</summary>
    public const int DefaultTimeoutSeconds = 1200;

    /// <summary>The persistence type.</summary>
    public required PersistenceType Type { get; init; }

    /// <summary>HTTP_COOKIE: the inserted cookie's name (default <c>tether-{loadBalancerId}</c>); APP_COOKIE: the
    /// application's cookie name or <c>*</c>.</summary>
    public string? CookieName { get; init; }

    /// <summary>The request header whose value a policy reads (<see cref="SessionPersistence.PersistenceInputs.Header"/>),
    /// or <c>null</c>. HTTP only.</summary>
    public string? HeaderName { get; init; }

    /// <summary>Bounded-load consistent hashing for the policies that hash new clients (SOURCE_IP, HEADER), in
    /// percent: 0 or <c>null</c> off, else 101 to 1000 (HAProxy's <c>hash-balance-factor</c>). See
    /// <see cref="SessionPersistence.MaglevTable.Lookup(ulong, int)"/>.</summary>
    public int? HashBalanceFactor { get; init; }

    /// <summary>Stickiness duration in seconds: an idle timeout that each request refreshes.</summary>
    public int? PersistenceTimeoutSeconds { get; init; }

    /// <summary>When true, a request pinned to an unavailable node fails with 502 instead of re-routing (seed 002).</summary>
    public bool? DisableFallback { get; init; }

    /// <summary>Cookie Path attribute (default <c>/</c>).</summary>
    public string? CookiePath { get; init; }

    /// <summary>Cookie Domain attribute (default: none, host-only cookie).</summary>
    public string? CookieDomain { get; init; }

    /// <summary>Cookie Secure attribute (default false).</summary>
    public bool? CookieSecure { get; init; }

    /// <summary>Cookie HttpOnly attribute (default true).</summary>
    public bool? CookieHttpOnly { get; init; }

    /// <summary>Cookie SameSite attribute: Lax (default), Strict or None (None requires Secure).</summary>
    public string? CookieSameSite { get; init; }

    /// <summary>The stickiness duration in seconds, with the default applied.</summary>
    public int EffectiveTimeoutSeconds => PersistenceTimeoutSeconds ?? DefaultTimeoutSeconds;

    /// <summary>Whether fallback to another node is allowed, with the default (allowed) applied.</summary>
    public bool FallbackEnabled => DisableFallback != true;
}

/// <summary>Session persistence type (API names: HTTP_COOKIE, APP_COOKIE, SOURCE_IP, HEADER).</summary>
public enum PersistenceType
{
    /// <summary>Tether inserts a signed cookie naming the node (HTTP load balancers only).</summary>
    HttpCookie,
    /// <summary>Follows the application's own cookie (HTTP load balancers only).</summary>
    AppCookie,
    /// <summary>Consistent hashing of the client address plus a stick table (every protocol).</summary>
    SourceIp,
    /// <summary>Consistent hashing of one request header's value plus a stick table (HTTP load balancers only).</summary>
    Header,
}

/// <summary>Converts between <see cref="PersistenceType"/> and the API's names (through the policy registry,
/// <see cref="SessionPersistence.PersistencePolicies"/>).</summary>
public static class PersistenceTypeNames
{
    /// <summary>API name of the inserted-cookie type.</summary>
    public const string HttpCookie = "HTTP_COOKIE";
    /// <summary>API name of the application-cookie type.</summary>
    public const string AppCookie = "APP_COOKIE";
    /// <summary>API name of the client-address type.</summary>
    public const string SourceIp = "SOURCE_IP";
    /// <summary>API name of the request-header type.</summary>
    public const string Header = "HEADER";

    /// <summary>The API name of a type.</summary>
    public static string ToName(PersistenceType type) => SessionPersistence.PersistencePolicies.For(type).Name;

    /// <summary>Parses an API name (exact, upper case); false for an unknown name.</summary>
    public static bool TryParse(string? name, out PersistenceType type)
    {
        var found = SessionPersistence.PersistencePolicies.TryFind(name, out var policy);
        type = found ? policy.Type!.Value : default;
        return found;
    }
}
