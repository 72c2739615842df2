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
        ErrorPage = Encoding.UTF8.GetBytes(config.ErrorPage ?? ErrorPages.Default);
        LoggingEnabled = config.ConnectionLogging;
    }

    /// <summary>The load balancer id.</summary>
    public int LoadBalancerId { get; }

    /// <summary>The compiled access list.</summary>
    public AccessListMatcher Matcher { get; }

    /// <summary>The most concurrent connections per client address; 0 = no limit.</summary>
    public int MaxConnections { get; }

    /// <summary>The error page, UTF-8 (custom, or <see cref="ErrorPages.Default"/>).</summary>
    public byte[] ErrorPage { get; }

    /// <summary>Whether connection logging is on.</summary>
    public bool LoggingEnabled { get; }

    public static AccessPolicy From(LoadBalancerConfig config) => new(config);
}
