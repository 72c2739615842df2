namespace Tether.Core.Model;

/// <summary>The error page of HTTP load balancers (Rackspace v1.0 <c>/loadbalancers/{id}/errorpage</c>).</summary>
public static class ErrorPages
{
    /// <summary>The most characters a custom error page may hold (Rackspace: 65536).</summary>
    public const int MaxLength = 65536;

    /// <summary>The page every HTTP load balancer shows on Tether's own 502 and 503 answers until a custom one is set
    /// (and again after it is deleted).</summary>
    public const string Default =
        "<!DOCTYPE html>\n<html><head><title>Service Unavailable</title></head>"
        + "<body><h1>Service Unavailable</h1><p>The service is temporarily unable to answer. Please try again later.</p>"
        + "</body></html>\n";
}
