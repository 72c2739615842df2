using Tether.Core.Model;
using Tether.Core.SessionPersistence;
using Tether.Management.Requests;

namespace Tether.Management.Validation;

/// <summary>
/// Validates session persistence (docs/session-persistence.md and docs/api.md; seed 000). Rules, each error collected:
/// <list type="bullet">
/// <item><c>persistenceType</c> required: HTTP_COOKIE, APP_COOKIE, SOURCE_IP or HEADER.</item>
/// <item>HTTP_COOKIE and APP_COOKIE only on HTTP load balancers (seed 000: HTTPS gets cookie persistence through SSL
/// termination on an HTTP load balancer); HEADER too (issue 13: it reads a request header); SOURCE_IP on every
/// protocol.</item>
/// <item><c>hashBalanceFactor</c> (percent): 0 (off) or 101 to 1000, only for the types that hash new clients
/// (SOURCE_IP, HEADER); HAProxy's <c>hash-balance-factor</c> range.</item>
/// <item><c>headerName</c>: required for HEADER, an RFC 9110 field-name token (section 5.1) of at most
/// <see cref="MaxHeaderNameLength"/> characters, not a hop-by-hop field (section 7.6.1); rejected for other
/// types.</item>
/// <item><c>cookieName</c>: required for APP_COOKIE (an RFC 6265 cookie-name token or <c>*</c>), optional for
/// HTTP_COOKIE (a token), rejected for SOURCE_IP.</item>
/// <item><c>persistenceTimeout</c> in seconds: 60..86400 on HTTP, 60..3600 on layer 4 (seed 003 via docs/architecture.md).</item>
/// <item>Cookie attributes (<c>cookiePath</c>, <c>cookieDomain</c>, <c>cookieSecure</c>, <c>cookieHttpOnly</c>,
/// <c>cookieSameSite</c>) only for HTTP_COOKIE; SameSite is Lax, Strict or None, and None requires
/// <c>cookieSecure: true</c>.</item>
/// </list>
/// </summary>
internal static class SessionPersistenceValidator
{
    public const int MinTimeoutSeconds = 60;
    public const int MaxHttpTimeoutSeconds = 86400;
    public const int MaxLayer4TimeoutSeconds = 3600;

    /// <summary>The longest <c>headerName</c> accepted (64 characters: longer field names are not in use; HAProxy
    /// and nginx set no lower limit).</summary>
    public const int MaxHeaderNameLength = 64;

    private static readonly string[] SameSiteValues = ["Lax", "Strict", "None"];

    /// <summary>Hop-by-hop fields (RFC 9110 section 7.6.1, RFC 9112 section 9.6): they describe one connection, not the
    /// client's session, and the node never sees them.</summary>
    private static readonly string[] HopByHopFields = ["Connection", "Keep-Alive", "Proxy-Connection", "TE", "Trailer", "Transfer-Encoding", "Upgrade"];

    /// <summary>Validates <paramref name="request"/> for a load balancer of <paramref name="protocol"/> (null when the
    /// protocol itself is invalid: the protocol-dependent rules are then skipped). Returns the configuration, or null
    /// when any error was added.</summary>
    public static SessionPersistenceConfig? Validate(SessionPersistenceRequest request, string? protocol, List<string> errors)
    {
        var before = errors.Count;
        PersistenceType? type = null;
        if (request.PersistenceType is null)
        {
            if (!request.Issues.IsInvalid(request.PathOf("persistenceType")))
            {
                errors.Add($"{request.PathOf("persistenceType")}: is required (HTTP_COOKIE, APP_COOKIE, SOURCE_IP or HEADER)");
            }
        }
        else if (PersistenceTypeNames.TryParse(request.PersistenceType, out var parsed))
        {
            type = parsed;
        }
        else
        {
            errors.Add($"{request.PathOf("persistenceType")}: must be one of HTTP_COOKIE, APP_COOKIE, SOURCE_IP, HEADER (got '{request.PersistenceType}')");
        }

        var policy = PersistencePolicies.For(type);
        if (policy.HttpOnly && protocol is not null && protocol != Protocols.Http)
        {
            var name = policy.Name;
            errors.Add(protocol == Protocols.Https
                ? $"{request.PathOf("persistenceType")}: {name} is supported on HTTP load balancers only; an HTTPS load balancer passes TLS through and cannot see cookies or headers: use SOURCE_IP, or an HTTP load balancer with SSL termination"
                : $"{request.PathOf("persistenceType")}: {name} is supported on HTTP load balancers only (this one is {protocol}); use SOURCE_IP");
        }

        ValidateCookieName(request, type, errors);
        ValidateHeaderName(request, policy, errors);
        ValidateHashBalanceFactor(request, policy, errors);
        ValidateTimeout(request, protocol, errors);
        ValidateCookieAttributes(request, type, errors);

        if (errors.Count != before || type is null)
        {
            return null;
        }

        return new SessionPersistenceConfig
        {
            Type = type.Value,
            CookieName = request.CookieName,
            PersistenceTimeoutSeconds = request.PersistenceTimeout,
            DisableFallback = request.DisableFallback,
            CookiePath = request.CookiePath,
            CookieDomain = request.CookieDomain,
            CookieSecure = request.CookieSecure,
            CookieHttpOnly = request.CookieHttpOnly,
            CookieSameSite = request.CookieSameSite is null
                ? null
                : SameSiteValues.First(v => string.Equals(v, request.CookieSameSite, StringComparison.OrdinalIgnoreCase)),
            HeaderName = request.HeaderName,
            HashBalanceFactor = request.HashBalanceFactor,
        };
    }

    private static void ValidateCookieName(SessionPersistenceRequest request, PersistenceType? type, List<string> errors)
    {
        var path = request.PathOf("cookieName");
        var name = request.CookieName;
        switch (type)
        {
            case PersistenceType.AppCookie when name is null:
                if (!request.Issues.IsInvalid(path))
                {
                    errors.Add($"{path}: is required for APP_COOKIE (the application's cookie name, or \"*\" for any cookie the node sets)");
                }

                break;
            case PersistenceType.AppCookie when name != "*" && !ValidationRules.IsCookieToken(name):
                errors.Add($"{path}: must be a cookie name token (RFC 6265: visible ASCII without separators, at most {ValidationRules.MaxCookieAttributeLength} characters) or \"*\" (got '{name}')");
                break;
            case PersistenceType.HttpCookie when name is not null && !ValidationRules.IsCookieToken(name):
                errors.Add($"{path}: must be a cookie name token (RFC 6265: visible ASCII without separators, at most {ValidationRules.MaxCookieAttributeLength} characters) (got '{name}')");
                break;
            case { } other when name is not null && PersistencePolicies.For(other).DefaultCookieName(0) is null:
                errors.Add($"{path}: is not allowed for {PersistenceTypeNames.ToName(other)} (only for HTTP_COOKIE and APP_COOKIE)");
                break;
        }
    }

    private static void ValidateHeaderName(SessionPersistenceRequest request, IPersistencePolicy policy, List<string> errors)
    {
        var path = request.PathOf("headerName");
        var name = request.HeaderName;
        if ((policy.Inputs & PersistenceInputs.Header) == 0)
        {
            if (name is not null && policy.Type is not null)
            {
                errors.Add($"{path}: is allowed only for HEADER (not for {policy.Name})");
            }

            return;
        }

        if (name is null)
        {
            if (!request.Issues.IsInvalid(path))
            {
                errors.Add($"{path}: is required for {policy.Name} (the request header whose value pins the client, e.g. X-Session-Id)");
            }
        }
        else if (!IsFieldNameToken(name))
        {
            errors.Add($"{path}: must be a field name token (RFC 9110 section 5.1: letters, digits and !#$%&'*+-.^_`|~), 1 to {MaxHeaderNameLength} characters (got '{name}')");
        }
        else if (HopByHopFields.Contains(name, StringComparer.OrdinalIgnoreCase))
        {
            errors.Add($"{path}: must not be a hop-by-hop field ({string.Join(", ", HopByHopFields)}): it describes the connection, not the client's session (got '{name}')");
        }
    }

    /// <summary>The smallest factor other than 0 (101 %: HAProxy's lower bound; 100 % would admit no imbalance).</summary>
    public const int MinHashBalanceFactor = 101;

    /// <summary>The largest factor (1000 %), as HAProxy.</summary>
    public const int MaxHashBalanceFactor = 1000;

    private static void ValidateHashBalanceFactor(SessionPersistenceRequest request, IPersistencePolicy policy, List<string> errors)
    {
        if (request.HashBalanceFactor is not { } factor || policy.Type is null)
        {
            return;
        }

        var path = request.PathOf("hashBalanceFactor");
        if (!policy.HashesNewClients)
        {
            errors.Add($"{path}: is allowed only for SOURCE_IP and HEADER, the types that hash new clients (not for {policy.Name})");
        }
        else if (factor != 0 && factor is < MinHashBalanceFactor or > MaxHashBalanceFactor)
        {
            errors.Add($"{path}: must be 0 (off) or from {MinHashBalanceFactor} to {MaxHashBalanceFactor} percent (got {factor})");
        }
    }

    /// <summary>An RFC 9110 token (section 5.6.2): one or more tchar.</summary>
    private static bool IsFieldNameToken(string value) =>
        value.Length is > 0 and <= MaxHeaderNameLength && value.All(c => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal));

    private static void ValidateTimeout(SessionPersistenceRequest request, string? protocol, List<string> errors)
    {
        if (request.PersistenceTimeout is not { } timeout || protocol is null)
        {
            return;
        }

        if (Protocols.IsLayer4(protocol))
        {
            if (timeout is < MinTimeoutSeconds or > MaxLayer4TimeoutSeconds)
            {
                errors.Add($"{request.PathOf("persistenceTimeout")}: must be from {MinTimeoutSeconds} to {MaxLayer4TimeoutSeconds} seconds (1 to 60 minutes) on a layer 4 ({protocol}) load balancer (got {timeout})");
            }
        }
        else if (timeout is < MinTimeoutSeconds or > MaxHttpTimeoutSeconds)
        {
            errors.Add($"{request.PathOf("persistenceTimeout")}: must be from {MinTimeoutSeconds} to {MaxHttpTimeoutSeconds} seconds (1 to 1440 minutes) on an HTTP load balancer (got {timeout})");
        }
    }

    private static void ValidateCookieAttributes(SessionPersistenceRequest request, PersistenceType? type, List<string> errors)
    {
        var present = new List<string>();
        if (request.CookiePath is not null) present.Add("cookiePath");
        if (request.CookieDomain is not null) present.Add("cookieDomain");
        if (request.CookieSecure is not null) present.Add("cookieSecure");
        if (request.CookieHttpOnly is not null) present.Add("cookieHttpOnly");
        if (request.CookieSameSite is not null) present.Add("cookieSameSite");

        if (type is not null && (PersistencePolicies.For(type).Inputs & PersistenceInputs.PersistenceCookie) == 0)
        {
            foreach (var field in present)
            {
                errors.Add($"{request.PathOf(field)}: is allowed only for HTTP_COOKIE (Tether sets no cookie attributes for {PersistenceTypeNames.ToName(type.Value)})");
            }

            return;
        }

        if (request.CookiePath is { } cookiePath && !ValidationRules.IsCookiePath(cookiePath))
        {
            errors.Add($"{request.PathOf("cookiePath")}: must start with '/' and contain no ';' or control characters, at most {ValidationRules.MaxCookieAttributeLength} characters (got '{cookiePath}')");
        }

        if (request.CookieDomain is { } domain && !ValidationRules.IsCookieDomain(domain))
        {
            errors.Add($"{request.PathOf("cookieDomain")}: must be a host name (letters, digits, '-' and '.', optionally a leading '.') (got '{domain}')");
        }

        if (request.CookieSameSite is { } sameSite)
        {
            if (!SameSiteValues.Contains(sameSite, StringComparer.OrdinalIgnoreCase))
            {
                errors.Add($"{request.PathOf("cookieSameSite")}: must be Lax, Strict or None (got '{sameSite}')");
            }
            else if (string.Equals(sameSite, "None", StringComparison.OrdinalIgnoreCase) && request.CookieSecure != true)
            {
                errors.Add($"{request.PathOf("cookieSameSite")}: None requires cookieSecure: true (browsers reject SameSite=None cookies without Secure)");
            }
        }
    }
}
