using System.Text.RegularExpressions;
using Tether.Core.Model;
using Tether.Management.Requests;

namespace Tether.Management.Validation;

/// <summary>
/// Validates a health monitor (Rackspace Cloud Load Balancers v1.0 <c>/healthmonitor</c>; docs/api.md).
/// Rules, each error collected:
/// <list type="bullet">
/// <item><c>type</c> required: CONNECT, HTTP or HTTPS.</item>
/// <item><c>delay</c> required, 1 to 3600 seconds; <c>timeout</c> required, 1 to 300 seconds;
/// <c>attemptsBeforeDeactivation</c> required, 1 to 10 (Rackspace ranges).</item>
/// <item>Not on UDP load balancers (DNS_UDP, UDP, UDP_STREAM: Rackspace rejects monitors there). An HTTP monitor only on
/// an HTTP load balancer and an HTTPS monitor only on an HTTPS one, as Rackspace; CONNECT on every other protocol.</item>
/// <item>CONNECT: <c>path</c>, <c>statusRegex</c>, <c>bodyRegex</c> and <c>hostHeader</c> are rejected (Rackspace:
/// "provide the required fields only").</item>
/// <item>HTTP/HTTPS: <c>path</c> required, starting with <c>/</c>, visible ASCII only, at most
/// <see cref="MaxPathLength"/> characters; <c>statusRegex</c> and <c>bodyRegex</c> optional, non-empty, at most
/// <see cref="MaxRegexLength"/> characters, and must compile as .NET regular expressions; <c>hostHeader</c> optional,
/// a host name or IP literal with an optional <c>:port</c>.</item>
/// </list>
/// </summary>
internal static class HealthMonitorValidator
{
    /// <summary>The longest <c>path</c> accepted, in characters.</summary>
    public const int MaxPathLength = 2048;

    /// <summary>The longest <c>statusRegex</c> or <c>bodyRegex</c> accepted, in characters.</summary>
    public const int MaxRegexLength = 1024;

    /// <summary>The longest <c>hostHeader</c> accepted, in characters (a DNS name is at most 253, plus a port).</summary>
    public const int MaxHostHeaderLength = 260;

    private static readonly string[] HttpOnlyFields = ["path", "statusRegex", "bodyRegex", "hostHeader"];

    /// <summary>Validates <paramref name="request"/> for a load balancer of <paramref name="protocol"/> (null when the
    /// protocol itself is invalid: the protocol rules are then skipped). Returns the configuration, or null when any
    /// error was added.</summary>
    public static HealthMonitorConfig? Validate(HealthMonitorRequest request, string? protocol, List<string> errors)
    {
        var before = errors.Count;
        HealthMonitorType? type = null;
        if (request.Type is null)
        {
            if (!request.Issues.IsInvalid(request.PathOf("type")))
            {
                errors.Add($"{request.PathOf("type")}: is required (CONNECT, HTTP or HTTPS)");
            }
        }
        else if (HealthMonitorTypeNames.TryParse(request.Type, out var parsed))
        {
            type = parsed;
        }
        else
        {
            errors.Add($"{request.PathOf("type")}: must be one of CONNECT, HTTP, HTTPS (got '{request.Type}')");
        }

        RequireRange(request, "delay", request.Delay, HealthMonitorConfig.MinDelaySeconds, HealthMonitorConfig.MaxDelaySeconds, " seconds", errors);
        RequireRange(request, "timeout", request.Timeout, HealthMonitorConfig.MinTimeoutSeconds, HealthMonitorConfig.MaxTimeoutSeconds, " seconds", errors);
        RequireRange(request, "attemptsBeforeDeactivation", request.AttemptsBeforeDeactivation,
            HealthMonitorConfig.MinAttempts, HealthMonitorConfig.MaxAttempts, "", errors);

        if (protocol is not null && ProtocolProblem(type, protocol) is { } problem)
        {
            var path = ValidationRules.IsUdp(protocol) ? (request.Prefix.Length == 0 ? "healthMonitor" : request.Prefix) : request.PathOf("type");
            errors.Add($"{path}: {problem} (this one is {protocol}){(ValidationRules.IsUdp(protocol) ? "" : "; use CONNECT")}");
        }

        if (type == HealthMonitorType.Connect)
        {
            foreach (var field in HttpOnlyFields.Where(f => FieldValue(request, f) is not null))
            {
                errors.Add($"{request.PathOf(field)}: is allowed only for HTTP and HTTPS monitors (a CONNECT monitor only opens a TCP connection)");
            }
        }
        else if (type is not null)
        {
            ValidatePath(request, errors);
            ValidateRegex(request, "statusRegex", request.StatusRegex, errors);
            ValidateRegex(request, "bodyRegex", request.BodyRegex, errors);
            ValidateHostHeader(request, errors);
        }

        if (errors.Count != before || type is null || request.Issues.Messages.Count > 0
            || request.Delay is null || request.Timeout is null || request.AttemptsBeforeDeactivation is null)
        {
            return null;
        }

        return new HealthMonitorConfig
        {
            Type = type.Value,
            DelaySeconds = request.Delay.Value,
            TimeoutSeconds = request.Timeout.Value,
            AttemptsBeforeDeactivation = request.AttemptsBeforeDeactivation.Value,
            Path = request.Path,
            StatusRegex = request.StatusRegex,
            BodyRegex = request.BodyRegex,
            HostHeader = request.HostHeader,
        };
    }

    /// <summary>
    /// The protocol rules (also checked when PUT <c>/loadbalancers/{id}</c> changes the protocol of a load balancer
    /// that has a monitor): no monitor on UDP protocols; HTTP monitors on HTTP load balancers only, HTTPS monitors on
    /// HTTPS ones only (Rackspace). Returns the problem, or null when <paramref name="type"/> fits
    /// <paramref name="protocol"/>.
    /// </summary>
    /// <param name="type">The monitor type, or null when unknown (only the UDP rule is checked).</param>
    /// <param name="protocol">The load balancer's protocol.</param>
    public static string? ProtocolProblem(HealthMonitorType? type, string protocol)
    {
        if (ValidationRules.IsUdp(protocol))
        {
            return "health monitors are not supported on UDP load balancers (DNS_UDP, UDP, UDP_STREAM), as on Rackspace";
        }

        return type switch
        {
            HealthMonitorType.Http when protocol != Protocols.Http => "an HTTP monitor needs an HTTP load balancer",
            HealthMonitorType.Https when protocol != Protocols.Https => "an HTTPS monitor needs an HTTPS load balancer",
            _ => null,
        };
    }

    private static void RequireRange(HealthMonitorRequest request, string field, int? value, int min, int max, string unit, List<string> errors)
    {
        var path = request.PathOf(field);
        if (value is null)
        {
            if (!request.Issues.IsInvalid(path))
            {
                errors.Add($"{path}: is required ({min} to {max}{unit})");
            }
        }
        else if (value < min || value > max)
        {
            errors.Add($"{path}: must be from {min} to {max}{unit} (got {value})");
        }
    }

    private static void ValidatePath(HealthMonitorRequest request, List<string> errors)
    {
        var path = request.PathOf("path");
        if (request.Path is not { } value)
        {
            if (!request.Issues.IsInvalid(path))
            {
                errors.Add($"{path}: is required for HTTP and HTTPS monitors (the path to GET, starting with '/')");
            }

            return;
        }

        if (value.Length is 0 or > MaxPathLength || value[0] != '/' || !value.All(c => c is > ' ' and < '\x7f'))
        {
            errors.Add($"{path}: must start with '/' and hold only visible ASCII characters (percent-encode others), at most {MaxPathLength} characters (got '{value}')");
        }
    }

    private static void ValidateRegex(HealthMonitorRequest request, string field, string? pattern, List<string> errors)
    {
        if (pattern is null)
        {
            return;
        }

        var path = request.PathOf(field);
        if (pattern.Length is 0 or > MaxRegexLength)
        {
            errors.Add($"{path}: must be a regular expression of 1 to {MaxRegexLength} characters (got {pattern.Length})");
            return;
        }

        try
        {
            _ = new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        }
        catch (ArgumentException ex)
        {
            errors.Add($"{path}: is not a valid regular expression ({ex.Message})");
        }
    }

    private static void ValidateHostHeader(HealthMonitorRequest request, List<string> errors)
    {
        if (request.HostHeader is not { } value)
        {
            return;
        }

        if (!IsHostHeader(value))
        {
            errors.Add($"{request.PathOf("hostHeader")}: must be a host name or IP address with an optional ':port', at most {MaxHostHeaderLength} characters (got '{value}')");
        }
    }

    /// <summary>An RFC 9110 Host value: uri-host [":" port], with a DNS name, an IPv4 literal or a bracketed IPv6
    /// literal.</summary>
    private static bool IsHostHeader(string value)
    {
        if (value.Length is 0 or > MaxHostHeaderLength || !value.All(c => c is > ' ' and < '\x7f')
            || value.IndexOfAny(['/', '?', '#', '@', '\\']) >= 0)
        {
            return false;
        }

        if (!Uri.TryCreate("http://" + value + "/", UriKind.Absolute, out var uri) || uri.HostNameType == UriHostNameType.Unknown)
        {
            return false;
        }

        // Uri accepts a trailing ':' and reports the default port; require digits after any ':' outside brackets.
        var colon = value.LastIndexOf(':');
        var bracket = value.LastIndexOf(']');
        return colon <= bracket || (colon < value.Length - 1 && value[(colon + 1)..].All(char.IsAsciiDigit) && uri.Port is >= 1 and <= 65535);
    }

    private static string? FieldValue(HealthMonitorRequest request, string field) => field switch
    {
        "path" => request.Path,
        "statusRegex" => request.StatusRegex,
        "bodyRegex" => request.BodyRegex,
        _ => request.HostHeader,
    };
}
