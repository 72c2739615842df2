namespace Tether.Management.Usage;

/// <summary>
/// One usage record of a load balancer (Rackspace v1.0 "Usage reports": <c>loadBalancerUsageRecord</c>): the traffic
/// and connections of one stretch of time within one clock hour (UTC). A record ends at the end of its hour, at an
/// event (SSL termination mode change, deletion), or is still open (the current hour: its end is the last poll).
/// </summary>
internal sealed class UsageRecord
{
    /// <summary>The record's id (0 until stored).</summary>
    public long Id { get; set; }

    public int AccountId { get; init; }

    public int LoadBalancerId { get; init; }

    /// <summary>When the record starts (whole seconds, UTC).</summary>
    public DateTimeOffset Start { get; init; }

    /// <summary>When the record ends: the end of its hour, its event, or the last poll while it is open.</summary>
    public DateTimeOffset End { get; set; }

    /// <summary>Bytes received from clients on the plain port(s).</summary>
    public long Incoming { get; set; }

    /// <summary>Bytes sent to clients on the plain port(s).</summary>
    public long Outgoing { get; set; }

    /// <summary>Bytes received from clients on the SSL termination port.</summary>
    public long IncomingSsl { get; set; }

    /// <summary>Bytes sent to clients on the SSL termination port.</summary>
    public long OutgoingSsl { get; set; }

    /// <summary>The sum of the plain connection counts polled (average = this / <see cref="Polls"/>).</summary>
    public long Connections { get; set; }

    /// <summary>The sum of the SSL connection counts polled.</summary>
    public long ConnectionsSsl { get; set; }

    /// <summary>How many polls the record holds (Rackspace's <c>numPolls</c>).</summary>
    public int Polls { get; set; }

    /// <summary>The load balancer's virtual IPs (Rackspace's <c>numVips</c>).</summary>
    public int Vips { get; set; }

    /// <summary><c>PUBLIC</c> or <c>SERVICENET</c>.</summary>
    public string VipType { get; set; } = UsageNames.Public;

    /// <summary><c>OFF</c>, <c>ON</c> (secure traffic only) or <c>MIXED</c>.</summary>
    public string SslMode { get; set; } = UsageNames.SslOff;

    /// <summary>The event that started the record (<see cref="UsageNames"/>), or null.</summary>
    public string? EventType { get; set; }

    /// <summary>Plain connections on average over the polls (0 without polls).</summary>
    public double AverageConnections => Polls == 0 ? 0 : Math.Round((double)Connections / Polls, 3);

    /// <summary>SSL connections on average over the polls (0 without polls).</summary>
    public double AverageConnectionsSsl => Polls == 0 ? 0 : Math.Round((double)ConnectionsSsl / Polls, 3);
}

/// <summary>A load balancer as the billable listing shows it (<paramref name="Json"/>: the summary object), stored so
/// that it stays listed after it is deleted (<paramref name="Deleted"/>: when; null while it lives).</summary>
internal sealed record UsageLoadBalancer(int Id, int AccountId, string Json, DateTimeOffset? Deleted);

/// <summary>The names of the usage records' enumerations, as Rackspace spells them (the v1.0 reference's examples and
/// the service's own enums, lbrackspace/atlas-lb <c>UsageEvent</c> and <c>SslMode</c>).</summary>
internal static class UsageNames
{
    public const string Public = "PUBLIC";
    public const string ServiceNet = "SERVICENET";

    public const string SslOff = "OFF";
    public const string SslOn = "ON";
    public const string SslMixed = "MIXED";

    public const string CreateLoadBalancer = "CREATE_LOADBALANCER";
    public const string DeleteLoadBalancer = "DELETE_LOADBALANCER";
    public const string SslOffEvent = "SSL_OFF";
    public const string SslOnlyOnEvent = "SSL_ONLY_ON";
    public const string SslMixedOnEvent = "SSL_MIXED_ON";

    /// <summary>The event of a change to <paramref name="sslMode"/>.</summary>
    public static string SslEvent(string sslMode) => sslMode switch
    {
        SslOn => SslOnlyOnEvent,
        SslMixed => SslMixedOnEvent,
        _ => SslOffEvent,
    };
}
