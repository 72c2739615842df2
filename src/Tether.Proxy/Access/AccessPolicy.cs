using System.Text;
using Tether.Core.Model;
using Tether.Core.Runtime;

namespace Tether.Proxy.Access;

/// <summary>
/// What the connection path of one load balancer reads about access, throttling, error page and logging: an immutable
/// object built from the configuration off the request path and published by one volatile reference swap
/// (<see cref="AccessControl.Policy"/>), like the runtime snapshot.
/// </summary>
internal sealed class AccessPolicy
{
    private AccessPolicy(LoadBalancerConfig config)
    {
        LoadBalancerId = config.Id;
        Matcher = AccessListMatcher.Build(config.AccessList);
        MaxConnections = config.ConnectionThrottle?.MaxConnections ?? 0;
        CustomErrorPage = config.ErrorPage is { } custom ? Encoding.UTF8.GetBytes(custom) : null;
        LoggingEnabled = config.ConnectionLogging;
    }

    /// <summary>The load balancer id.</summary>
    public int LoadBalancerId { get; }

    /// <summary>The compiled access list.</summary>
    public AccessListMatcher Matcher { get; }

    /// <summary>The most concurrent connections per client address; 0 = no limit.</summary>
    public int MaxConnections { get; }

    /// <summary>The custom error page set through the API, UTF-8, or null (the defaults apply).</summary>
    public byte[]? CustomErrorPage { get; }

    /// <summary>The page of Tether's own answer of <paramref name="status"/> (502, 503 or 504), UTF-8: the custom page
    /// when one is set (the same page for every status, as Rackspace), else the default that names the status
    /// (<see cref="ErrorPages.DefaultFor"/>). No allocation.</summary>
    public byte[] ErrorPageFor(int status) => CustomErrorPage ?? DefaultPage(status);

    /// <summary>The default page of <paramref name="status"/>, UTF-8 (built once).</summary>
    public static byte[] DefaultPage(int status) => status switch
    {
        502 => DefaultBadGateway,
        504 => DefaultGatewayTimeout,
        _ => DefaultServiceUnavailable,
    };

    private static readonly byte[] DefaultBadGateway = Encoding.UTF8.GetBytes(ErrorPages.BadGateway);
    private static readonly byte[] DefaultServiceUnavailable = Encoding.UTF8.GetBytes(ErrorPages.ServiceUnavailable);
    private static readonly byte[] DefaultGatewayTimeout = Encoding.UTF8.GetBytes(ErrorPages.GatewayTimeout);

    /// <summary>Whether connection logging is on.</summary>
    public bool LoggingEnabled { get; }

    public static AccessPolicy From(LoadBalancerConfig config) => new(config);
}
