namespace Tether.Core.Model;

/// <summary>The error page of HTTP load balancers (Rackspace v1.0 <c>/loadbalancers/{id}/errorpage</c>).</summary>
public static class ErrorPages
{
    /// <summary>The most characters a custom error page may hold (Rackspace: 65536).</summary>
    public const int MaxLength = 65536;

    /// <summary>The default page of Tether's own 503 answers, and what <c>GET /errorpage</c> shows until a custom page
    /// is set (and again after it is deleted).</summary>
    public const string Default = ServiceUnavailable;

    /// <summary>The default page of Tether's own 502 answers (a node refused, reset or broke the answer; persistence
    /// without fallback pinned the client to an unavailable node).</summary>
    public const string BadGateway =
        "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>"
        + "<body><h1>502 Bad Gateway</h1><p>The server behind this load balancer did not give a valid answer. Please try again later.</p>"
        + "</body></html>\n";

    /// <summary>The default page of Tether's own 503 answers (no node available, the connection throttle, Tether's own
    /// connection limits).</summary>
    public const string ServiceUnavailable =
        "<!DOCTYPE html>\n<html><head><title>503 Service Unavailable</title></head>"
        + "<body><h1>503 Service Unavailable</h1><p>The service is temporarily unable to answer. Please try again later.</p>"
        + "</body></html>\n";

    /// <summary>The default page of Tether's own 504 answers (the node did not answer within the load balancer's
    /// <c>timeout</c>, in seconds).</summary>
    public const string GatewayTimeout =
        "<!DOCTYPE html>\n<html><head><title>504 Gateway Timeout</title></head>"
        + "<body><h1>504 Gateway Timeout</h1><p>The server behind this load balancer did not answer in time. Please try again later.</p>"
        + "</body></html>\n";

    /// <summary>The default page for <paramref name="status"/>: 502 and 504 have their own, any other status gets the
    /// 503 page.</summary>
    public static string DefaultFor(int status) => status switch
    {
        502 => BadGateway,
        504 => GatewayTimeout,
        _ => ServiceUnavailable,
    };
}
