namespace Tether.Core.LoadBalancing;

/// <summary>The algorithm names of the API (<c>GET /loadbalancers/algorithms</c>, Rackspace v1.0).</summary>
public static class AlgorithmNames
{
    /// <summary>A uniformly random available node (the default).</summary>
    public const string Random = "RANDOM";
    /// <summary>Each available node in turn.</summary>
    public const string RoundRobin = "ROUND_ROBIN";
    /// <summary>Smooth weighted round robin, as nginx does it.</summary>
    public const string WeightedRoundRobin = "WEIGHTED_ROUND_ROBIN";
    /// <summary>The node with the fewest active requests or connections.</summary>
    public const string LeastConnections = "LEAST_CONNECTIONS";
    /// <summary>The node with the fewest active requests or connections per unit of weight.</summary>
    public const string WeightedLeastConnections = "WEIGHTED_LEAST_CONNECTIONS";

    /// <summary>Every name, in the order the API lists them.</summary>
    public static readonly IReadOnlyList<string> All =
        [LeastConnections, Random, RoundRobin, WeightedLeastConnections, WeightedRoundRobin];

    /// <summary>True when <paramref name="name"/> is one of <see cref="All"/> (exact, upper case).</summary>
    public static bool IsKnown(string? name) =>
        name is Random or RoundRobin or WeightedRoundRobin or LeastConnections or WeightedLeastConnections;
}
