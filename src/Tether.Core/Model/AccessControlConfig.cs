namespace Tether.Core.Model;

/// <summary>The type of an access list item (Rackspace v1.0 <c>networkItem.type</c>).</summary>
public enum AccessListType
{
    /// <summary>Clients in the item's network are let in, whatever DENY items say (ALLOW always wins).</summary>
    Allow,
    /// <summary>Clients in the item's network are refused unless an ALLOW item also matches them.</summary>
    Deny,
}

/// <summary>
/// One item of a load balancer's access list (Rackspace v1.0 <c>/loadbalancers/{id}/accesslist</c>, a
/// <c>networkItem</c>): <c>{"address":"10.0.0.0/8","id":1,"type":"DENY"}</c>.
/// </summary>
/// <param name="Id">The item id, unique across load balancers.</param>
/// <param name="Address">An IPv4 or IPv6 address or CIDR network in canonical form (for example <c>10.0.0.0/8</c>,
/// <c>192.0.2.7</c>, <c>2001:db8::/32</c>).</param>
/// <param name="Type">ALLOW or DENY.</param>
public sealed record AccessListItem(int Id, string Address, AccessListType Type);

/// <summary>
/// Connection throttling of a load balancer (Rackspace v1.0 <c>/loadbalancers/{id}/connectionthrottle</c>).
/// Tether enforces <see cref="MaxConnections"/> only; the legacy fields are accepted and shown as Rackspace does.
/// </summary>
public sealed record ConnectionThrottleConfig
{
    /// <summary>The most concurrent connections one client IP address may hold (0..100000; 0 = no limit).</summary>
    public int MaxConnections { get; init; }

    /// <summary>Legacy (Rackspace still accepts it): connections allowed before throttling (0..1000); not enforced.</summary>
    public int? MinConnections { get; init; }

    /// <summary>Legacy: connections per <see cref="RateInterval"/> allowed from one address (0..100000); not enforced.</summary>
    public int? MaxConnectionRate { get; init; }

    /// <summary>Legacy: the period of <see cref="MaxConnectionRate"/>, in seconds (1..3600); not enforced.</summary>
    public int? RateInterval { get; init; }
}
