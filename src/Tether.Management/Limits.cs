namespace Tether.Management;

/// <summary>The absolute limits of <c>GET /loadbalancers/absolutelimits</c> (Rackspace v1.0 names and values;
/// docs/api.md).</summary>
internal static class Limits
{
    /// <summary>Nodes per load balancer; more is 413.</summary>
    public const int NodeLimit = 25;

    /// <summary>Load balancers per account; more is 413.</summary>
    public const int LoadBalancerLimit = 25;

    /// <summary>Characters in a load balancer name.</summary>
    public const int NameLimit = 128;

    /// <summary>Ids in one bulk delete (<c>?id=</c>), for load balancers and for nodes.</summary>
    public const int BatchDeleteLimit = 10;

    /// <summary>Metadata items per load balancer; more is 413 (Rackspace v1.0 Modify Metadata: "A load balancer and a
    /// node supports a maximum of 25 metadata items").</summary>
    public const int LoadBalancerMetaLimit = 25;

    /// <summary>Metadata items per node; more is 413 (Rackspace v1.0, as <see cref="LoadBalancerMetaLimit"/>).</summary>
    public const int NodeMetaLimit = 25;

    /// <summary>Characters in a metadata key or value (Rackspace v1.0 Add Metadata: "Must be 256 characters or
    /// less"); counted as UTF-16 code units, as Rackspace's Java service counts them.</summary>
    public const int MetaLengthLimit = 256;

    /// <summary>Every limit, in the order the API lists them.</summary>
    public static readonly IReadOnlyList<(string Name, int Value)> All =
    [
        ("NODE_LIMIT", NodeLimit),
        ("LOADBALANCER_LIMIT", LoadBalancerLimit),
        ("NAME_LIMIT", NameLimit),
        ("BATCH_DELETE_LIMIT", BatchDeleteLimit),
        ("LOADBALANCER_META_LIMIT", LoadBalancerMetaLimit),
        ("NODE_META_LIMIT", NodeMetaLimit),
        ("ACCESS_LIST_LIMIT", Validation.AccessControlValidator.AccessListLimit),
        ("IPV6_LIMIT", 0),
    ];
}
