using System.Text.Json.Serialization;

namespace Tether.Management.OpenApi.Schemas;

/// <summary>A load balancer as <c>GET /loadbalancers/{id}</c> and the 202 of <c>POST /loadbalancers</c> show it
/// (<c>Endpoints/Representations.cs</c>; Rackspace v1.0 "Show load balancer details").</summary>
internal sealed class LoadBalancer
{
    /// <summary>The load balancer's id.</summary>
    public required int Id { get; init; }

    /// <summary>Its name (1 to 128 characters).</summary>
    public required string Name { get; init; }

    /// <summary>A protocol of <c>GET /loadbalancers/protocols</c>, e.g. <c>HTTP</c>.</summary>
    public required string Protocol { get; init; }

    /// <summary>The port it listens on.</summary>
    public required int Port { get; init; }

    /// <summary>An algorithm of <c>GET /loadbalancers/algorithms</c>, e.g. <c>ROUND_ROBIN</c>.</summary>
    public required string Algorithm { get; init; }

    /// <summary><c>ACTIVE</c>, <c>BUILD</c>, <c>PENDING_UPDATE</c>, <c>PENDING_DELETE</c>, <c>SUSPENDED</c>, <c>ERROR</c> or
    /// <c>DELETED</c>.</summary>
    public required string Status { get; init; }

    /// <summary>Idle timeout towards the nodes, seconds (1 to 120).</summary>
    public required int Timeout { get; init; }

    /// <summary>Half-closed TCP connections are kept.</summary>
    public required bool HalfClosed { get; init; }

    /// <summary>HTTP is redirected to HTTPS.</summary>
    public required bool HttpsRedirect { get; init; }

    /// <summary>Tether's (issue 13): a node that comes back ramps its share up over this many seconds; absent when off.</summary>
    public int? SlowStartSeconds { get; init; }

    /// <summary>The cluster: <c>{"name":"tether"}</c>.</summary>
    public required NameOnly Cluster { get; init; }

    /// <summary>The addresses the load balancer connects to nodes from, when known.</summary>
    public SourceAddresses? SourceAddresses { get; init; }

    /// <summary>Its virtual IPs.</summary>
    public required IReadOnlyList<VirtualIp> VirtualIps { get; init; }

    /// <summary>Its nodes.</summary>
    public required IReadOnlyList<Node> Nodes { get; init; }

    /// <summary>How many nodes it has.</summary>
    public required int NodeCount { get; init; }

    /// <summary>Session persistence; absent when disabled.</summary>
    public SessionPersistence? SessionPersistence { get; init; }

    /// <summary>The health monitor; absent when none.</summary>
    public HealthMonitor? HealthMonitor { get; init; }

    /// <summary>The access list; absent when empty.</summary>
    public IReadOnlyList<NetworkItem>? AccessList { get; init; }

    /// <summary>The connection throttle; absent when none.</summary>
    public ConnectionThrottle? ConnectionThrottle { get; init; }

    /// <summary>Connection logging.</summary>
    public required EnabledFlag ConnectionLogging { get; init; }

    /// <summary>Content caching.</summary>
    public required EnabledFlag ContentCaching { get; init; }

    /// <summary>Its metadata.</summary>
    public required IReadOnlyList<MetadataItem> Metadata { get; init; }

    /// <summary>When it was created.</summary>
    public required TimeStamp Created { get; init; }

    /// <summary>When it last changed.</summary>
    public required TimeStamp Updated { get; init; }
}

/// <summary>A load balancer in <c>GET /loadbalancers</c>. With <c>?nodeaddress=</c> only <c>id</c>, <c>name</c> and
/// <c>status</c> (Rackspace's reduced shape).</summary>
internal sealed class LoadBalancerSummary
{
    /// <summary>The load balancer's id.</summary>
    public required int Id { get; init; }

    /// <summary>Its name.</summary>
    public required string Name { get; init; }

    /// <summary>Its protocol (absent with <c>?nodeaddress=</c>).</summary>
    public string? Protocol { get; init; }

    /// <summary>Its port (absent with <c>?nodeaddress=</c>).</summary>
    public int? Port { get; init; }

    /// <summary>Its algorithm (absent with <c>?nodeaddress=</c>).</summary>
    public string? Algorithm { get; init; }

    /// <summary>Its status.</summary>
    public required string Status { get; init; }

    /// <summary>How many nodes it has (absent with <c>?nodeaddress=</c>).</summary>
    public int? NodeCount { get; init; }

    /// <summary>Its virtual IPs (absent with <c>?nodeaddress=</c>).</summary>
    public IReadOnlyList<VirtualIp>? VirtualIps { get; init; }

    /// <summary>When it was created (absent with <c>?nodeaddress=</c>).</summary>
    public TimeStamp? Created { get; init; }

    /// <summary>When it last changed (absent with <c>?nodeaddress=</c>).</summary>
    public TimeStamp? Updated { get; init; }
}

/// <summary><c>{"loadBalancer":{...}}</c>.</summary>
internal sealed class LoadBalancerEnvelope
{
    /// <summary>The load balancer.</summary>
    public required LoadBalancer LoadBalancer { get; init; }
}

/// <summary><c>{"loadBalancers":[...],"links"?:[...]}</c>.</summary>
internal sealed class LoadBalancerList
{
    /// <summary>A page of the account's load balancers, by id.</summary>
    public required IReadOnlyList<LoadBalancerSummary> LoadBalancers { get; init; }

    /// <summary>The next and previous pages, when there are any.</summary>
    public IReadOnlyList<Link>? Links { get; init; }
}

/// <summary>A virtual IP: <c>{"id","address","type","ipVersion"}</c>.</summary>
internal sealed class VirtualIp
{
    /// <summary>Its id.</summary>
    public required int Id { get; init; }

    /// <summary>The address.</summary>
    public required string Address { get; init; }

    /// <summary><c>PUBLIC</c> or <c>SERVICENET</c>.</summary>
    public required string Type { get; init; }

    /// <summary><c>IPV4</c> or <c>IPV6</c>.</summary>
    public required string IpVersion { get; init; }
}

/// <summary><c>{"virtualIps":[...],"links"?:[...]}</c>.</summary>
internal sealed class VirtualIpList
{
    /// <summary>A page of the virtual IPs, by id.</summary>
    public required IReadOnlyList<VirtualIp> VirtualIps { get; init; }

    /// <summary>The next and previous pages, when there are any.</summary>
    public IReadOnlyList<Link>? Links { get; init; }
}

/// <summary>The addresses a load balancer connects to nodes from (<c>Management:SourceAddresses</c>); each only when
/// known.</summary>
internal sealed class SourceAddresses
{
    /// <summary>Public IPv6 address.</summary>
    public string? Ipv6Public { get; init; }

    /// <summary>ServiceNet (private) IPv4 address.</summary>
    public string? Ipv4Servicenet { get; init; }

    /// <summary>Public IPv4 address.</summary>
    public string? Ipv4Public { get; init; }
}

/// <summary><c>{"name"}</c>.</summary>
internal sealed class NameOnly
{
    /// <summary>The name.</summary>
    public required string Name { get; init; }
}

/// <summary><c>{"time":"2026-01-01T00:00:00Z"}</c> (UTC, whole seconds).</summary>
internal sealed class TimeStamp
{
    /// <summary>ISO 8601 UTC.</summary>
    public required string Time { get; init; }
}

/// <summary>A page link: <c>{"href","rel":"next"|"previous"}</c> (absolute URL).</summary>
internal sealed class Link
{
    /// <summary>The URL of the page.</summary>
    public required string Href { get; init; }

    /// <summary><c>next</c> or <c>previous</c>.</summary>
    public required string Rel { get; init; }
}

/// <summary><c>{"enabled":true|false}</c>.</summary>
internal sealed class EnabledFlag
{
    /// <summary>Whether the feature is on.</summary>
    [JsonRequired]
    public required bool Enabled { get; init; }
}
