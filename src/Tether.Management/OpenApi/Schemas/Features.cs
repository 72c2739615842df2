namespace Tether.Management.OpenApi.Schemas;

/// <summary>Session persistence (docs/session-persistence.md): <c>persistenceType</c>, then only the fields that were
/// set. <c>{}</c> when disabled (GET).</summary>
internal sealed class SessionPersistence
{
    /// <summary><c>HTTP_COOKIE</c>, <c>APP_COOKIE</c>, <c>SOURCE_IP</c> or <c>HEADER</c> (required to enable).</summary>
    public string? PersistenceType { get; init; }

    /// <summary>The cookie name (HTTP_COOKIE: Tether's cookie; APP_COOKIE: the application's, or <c>*</c>).</summary>
    public string? CookieName { get; init; }

    /// <summary>Stickiness duration, seconds (range by protocol; docs/session-persistence.md).</summary>
    public int? PersistenceTimeout { get; init; }

    /// <summary>True: a client whose node is gone gets 503 instead of another node.</summary>
    public bool? DisableFallback { get; init; }

    /// <summary>HTTP_COOKIE: the cookie's Path.</summary>
    public string? CookiePath { get; init; }

    /// <summary>HTTP_COOKIE: the cookie's Domain.</summary>
    public string? CookieDomain { get; init; }

    /// <summary>HTTP_COOKIE: the Secure attribute.</summary>
    public bool? CookieSecure { get; init; }

    /// <summary>HTTP_COOKIE: the HttpOnly attribute.</summary>
    public bool? CookieHttpOnly { get; init; }

    /// <summary>HTTP_COOKIE: <c>Strict</c>, <c>Lax</c> or <c>None</c>.</summary>
    public string? CookieSameSite { get; init; }

    /// <summary>HEADER: the request header whose value pins the client.</summary>
    public string? HeaderName { get; init; }

    /// <summary>Bounded-load hashing factor (SOURCE_IP, HEADER).</summary>
    public double? HashBalanceFactor { get; init; }
}

/// <summary><c>{"sessionPersistence":{...}}</c> (<c>{}</c> inside when disabled).</summary>
internal sealed class SessionPersistenceEnvelope
{
    /// <summary>The settings.</summary>
    public required SessionPersistence SessionPersistence { get; init; }
}

/// <summary>The health monitor: <c>{"type","delay","timeout","attemptsBeforeDeactivation"}</c>, and for HTTP/HTTPS
/// <c>path</c> and the optional fields that were set. Delay and timeout in seconds. <c>{}</c> when none (GET).</summary>
internal sealed class HealthMonitor
{
    /// <summary><c>CONNECT</c>, <c>HTTP</c> or <c>HTTPS</c>.</summary>
    public string? Type { get; init; }

    /// <summary>Seconds between checks (1 to 3600).</summary>
    public int? Delay { get; init; }

    /// <summary>Seconds a check may take (1 to 300).</summary>
    public int? Timeout { get; init; }

    /// <summary>Failed checks before the node is OFFLINE (1 to 10).</summary>
    public int? AttemptsBeforeDeactivation { get; init; }

    /// <summary>HTTP/HTTPS: the path to request.</summary>
    public string? Path { get; init; }

    /// <summary>HTTP/HTTPS: a regular expression the status code must match.</summary>
    public string? StatusRegex { get; init; }

    /// <summary>HTTP/HTTPS: a regular expression the body must match.</summary>
    public string? BodyRegex { get; init; }

    /// <summary>HTTP/HTTPS: the Host header to send.</summary>
    public string? HostHeader { get; init; }
}

/// <summary><c>{"healthMonitor":{...}}</c>.</summary>
internal sealed class HealthMonitorEnvelope
{
    /// <summary>The monitor, <c>{}</c> when none.</summary>
    public required HealthMonitor HealthMonitor { get; init; }
}

/// <summary>An access list item: <c>{"address","id","type"}</c>.</summary>
internal sealed class NetworkItem
{
    /// <summary>An IP address or CIDR network.</summary>
    public required string Address { get; init; }

    /// <summary>Its id (absent in a request).</summary>
    public int? Id { get; init; }

    /// <summary><c>ALLOW</c> or <c>DENY</c>.</summary>
    public required string Type { get; init; }
}

/// <summary><c>{"accessList":[...],"links"?:[...]}</c> (GET: a page, by id; POST: the items to append, at most 100 in
/// all).</summary>
internal sealed class AccessListBody
{
    /// <summary>The items.</summary>
    public required IReadOnlyList<NetworkItem> AccessList { get; init; }

    /// <summary>The next and previous pages, when there are any (GET).</summary>
    public IReadOnlyList<Link>? Links { get; init; }
}

/// <summary>The connection throttle: <c>{"maxConnections","minConnections"?,"maxConnectionRate"?,"rateInterval"?}</c>;
/// <c>{}</c> when none.</summary>
internal sealed class ConnectionThrottle
{
    /// <summary>Concurrent connections per client address (0 to 100000; 0 is no limit).</summary>
    public int? MaxConnections { get; init; }

    /// <summary>Rackspace's; accepted and kept.</summary>
    public int? MinConnections { get; init; }

    /// <summary>New connections per client address per <c>rateInterval</c>.</summary>
    public int? MaxConnectionRate { get; init; }

    /// <summary>Seconds of the rate window.</summary>
    public int? RateInterval { get; init; }
}

/// <summary><c>{"connectionThrottle":{...}}</c>.</summary>
internal sealed class ConnectionThrottleEnvelope
{
    /// <summary>The throttle, <c>{}</c> when none.</summary>
    public required ConnectionThrottle ConnectionThrottle { get; init; }
}

/// <summary><c>{"connectionLogging":{"enabled"}}</c>.</summary>
internal sealed class ConnectionLoggingEnvelope
{
    /// <summary>Whether connections are logged.</summary>
    public required EnabledFlag ConnectionLogging { get; init; }
}

/// <summary><c>{"contentCaching":{"enabled"}}</c> (HTTP load balancers).</summary>
internal sealed class ContentCachingEnvelope
{
    /// <summary>Whether responses are cached.</summary>
    public required EnabledFlag ContentCaching { get; init; }
}

/// <summary>The error page: <c>{"content":"&lt;html&gt;..."}</c> (at most 65536 characters).</summary>
internal sealed class ErrorPage
{
    /// <summary>The HTML served when no node can answer (the default page when none is set).</summary>
    public required string Content { get; init; }
}

/// <summary><c>{"errorpage":{"content"}}</c>.</summary>
internal sealed class ErrorPageEnvelope
{
    /// <summary>The page.</summary>
    public required ErrorPage Errorpage { get; init; }
}

/// <summary>SSL termination (docs/api.md). GET shows it without the private key, <c>{}</c> when none; PUT takes
/// <c>privateKey</c> and <c>certificate</c> to configure it, and any field to change it.</summary>
internal sealed class SslTermination
{
    /// <summary>The certificate, PEM.</summary>
    public string? Certificate { get; init; }

    /// <summary>The private key, PEM (PUT only; never shown).</summary>
    public string? PrivateKey { get; init; }

    /// <summary>The chain, PEM.</summary>
    public string? IntermediateCertificate { get; init; }

    /// <summary>Whether the TLS listener is on.</summary>
    public bool? Enabled { get; init; }

    /// <summary>The port of the TLS listener.</summary>
    public int? SecurePort { get; init; }

    /// <summary>Only the TLS listener serves.</summary>
    public bool? SecureTrafficOnly { get; init; }
}

/// <summary><c>{"sslTermination":{...}}</c>.</summary>
internal sealed class SslTerminationEnvelope
{
    /// <summary>The settings, <c>{}</c> when none.</summary>
    public required SslTermination SslTermination { get; init; }
}

/// <summary>A certificate mapping (SNI): <c>{"id","hostName","certificate"?,"privateKey"? (request only),
/// "intermediateCertificate"?}</c>.</summary>
internal sealed class CertificateMapping
{
    /// <summary>Its id (absent in a request).</summary>
    public int? Id { get; init; }

    /// <summary>The SNI host name.</summary>
    public string? HostName { get; init; }

    /// <summary>The certificate, PEM (absent in the list).</summary>
    public string? Certificate { get; init; }

    /// <summary>The private key, PEM (request only; never shown).</summary>
    public string? PrivateKey { get; init; }

    /// <summary>The chain, PEM.</summary>
    public string? IntermediateCertificate { get; init; }
}

/// <summary><c>{"certificateMapping":{...}}</c>.</summary>
internal sealed class CertificateMappingEnvelope
{
    /// <summary>The mapping.</summary>
    public required CertificateMapping CertificateMapping { get; init; }
}

/// <summary><c>{"certificateMappings":[{"certificateMapping":{"id","hostName"}}]}</c>.</summary>
internal sealed class CertificateMappingList
{
    /// <summary>The mappings, id and host name only.</summary>
    public required IReadOnlyList<CertificateMappingEnvelope> CertificateMappings { get; init; }
}
