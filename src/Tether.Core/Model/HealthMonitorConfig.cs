namespace Tether.Core.Model;

/// <summary>
/// The active health monitor of a load balancer (Rackspace Cloud Load Balancers v1.0, <c>/healthmonitor</c>;
/// docs/api.md). Every <see cref="DelaySeconds"/> each node is probed; a node that fails
/// <see cref="AttemptsBeforeDeactivation"/> probes in a row goes OFFLINE, and one passing probe brings it back ONLINE.
/// Optional fields are <c>null</c> when never set, so that the API can omit them.
/// </summary>
public sealed record HealthMonitorConfig
{
    /// <summary>Smallest <see cref="DelaySeconds"/> (Rackspace).</summary>
    public const int MinDelaySeconds = 1;

    /// <summary>Largest <see cref="DelaySeconds"/> (Rackspace: one hour).</summary>
    public const int MaxDelaySeconds = 3600;

    /// <summary>Smallest <see cref="TimeoutSeconds"/> (Rackspace).</summary>
    public const int MinTimeoutSeconds = 1;

    /// <summary>Largest <see cref="TimeoutSeconds"/> (Rackspace: five minutes).</summary>
    public const int MaxTimeoutSeconds = 300;

    /// <summary>Smallest <see cref="AttemptsBeforeDeactivation"/> (Rackspace).</summary>
    public const int MinAttempts = 1;

    /// <summary>Largest <see cref="AttemptsBeforeDeactivation"/> (Rackspace).</summary>
    public const int MaxAttempts = 10;

    /// <summary>The status regex used when an HTTP or HTTPS monitor sets none: any 2xx, 3xx or 4xx answer.</summary>
    public const string DefaultStatusRegex = "^[234][0-9][0-9]$";

    /// <summary>How many bytes of the response body <see cref="BodyRegex"/> is matched against (Rackspace:
    /// <c>max_response_len</c>, 2048 bytes).</summary>
    public const int MaxBodyBytes = 2048;

    /// <summary>CONNECT, HTTP or HTTPS.</summary>
    public required HealthMonitorType Type { get; init; }

    /// <summary>Seconds between two probes of the same node, 1 to 3600.</summary>
    public required int DelaySeconds { get; init; }

    /// <summary>Seconds one probe may take (connect, and for HTTP/HTTPS the answer and the body's first
    /// <see cref="MaxBodyBytes"/> bytes), 1 to 300.</summary>
    public required int TimeoutSeconds { get; init; }

    /// <summary>Probes that must fail in a row before the node goes OFFLINE, 1 to 10.</summary>
    public required int AttemptsBeforeDeactivation { get; init; }

    /// <summary>HTTP/HTTPS: the path requested with GET; starts with <c>/</c>.</summary>
    public string? Path { get; init; }

    /// <summary>HTTP/HTTPS: a .NET regular expression the three-digit status code must match
    /// (default <see cref="DefaultStatusRegex"/>).</summary>
    public string? StatusRegex { get; init; }

    /// <summary>HTTP/HTTPS: a .NET regular expression the first <see cref="MaxBodyBytes"/> bytes of the body (read as
    /// UTF-8) must match; no body check when null.</summary>
    public string? BodyRegex { get; init; }

    /// <summary>HTTP/HTTPS: the Host header sent with the probe; the node's <c>address:port</c> when null.</summary>
    public string? HostHeader { get; init; }

    /// <summary>The status regex with the default applied.</summary>
    public string EffectiveStatusRegex => StatusRegex ?? DefaultStatusRegex;

    /// <summary>True for the HTTP and HTTPS monitors.</summary>
    public bool IsHttp => Type is HealthMonitorType.Http or HealthMonitorType.Https;
}

/// <summary>Health monitor type (API names: CONNECT, HTTP, HTTPS).</summary>
public enum HealthMonitorType
{
    /// <summary>A TCP connect to the node's port.</summary>
    Connect,
    /// <summary>An HTTP GET of the monitor's path.</summary>
    Http,
    /// <summary>An HTTPS GET of the monitor's path (the node's certificate is not verified).</summary>
    Https,
}

/// <summary>Converts between <see cref="HealthMonitorType"/> and the API's names.</summary>
public static class HealthMonitorTypeNames
{
    /// <summary>API name of <see cref="HealthMonitorType.Connect"/>.</summary>
    public const string Connect = "CONNECT";
    /// <summary>API name of <see cref="HealthMonitorType.Http"/>.</summary>
    public const string Http = "HTTP";
    /// <summary>API name of <see cref="HealthMonitorType.Https"/>.</summary>
    public const string Https = "HTTPS";

    /// <summary>The API name of a type.</summary>
    public static string ToName(HealthMonitorType type) => type switch
    {
        HealthMonitorType.Http => Http,
        HealthMonitorType.Https => Https,
        _ => Connect,
    };

    /// <summary>Parses an API name (exact, upper case); false for an unknown name.</summary>
    public static bool TryParse(string? name, out HealthMonitorType type)
    {
        switch (name)
        {
            case Connect: type = HealthMonitorType.Connect; return true;
            case Http: type = HealthMonitorType.Http; return true;
            case Https: type = HealthMonitorType.Https; return true;
            default: type = default; return false;
        }
    }
}
