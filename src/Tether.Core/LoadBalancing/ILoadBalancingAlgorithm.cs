using System.Collections.Frozen;

namespace Tether.Core.LoadBalancing;

/// <summary>
/// Picks a node for a request or connection that session persistence did not decide. Implementations are stateless
/// singletons; per-pool state (cursor, schedule) lives in <see cref="NodePool"/>. A pick allocates nothing and takes
/// no lock.
/// </summary>
public interface ILoadBalancingAlgorithm
{
    /// <summary>The API name, one of <see cref="AlgorithmNames"/>.</summary>
    string Name { get; }

    /// <summary>Picks an available node of <paramref name="pool"/> (see <see cref="NodeState.IsAvailable"/>), or
    /// <c>null</c> when none is available.</summary>
    /// <param name="pool">The tier to pick from.</param>
    /// <param name="now">The current <see cref="TimeProvider.GetTimestamp"/> value.</param>
    NodeState? Pick(NodePool pool, long now);
}

/// <summary>Finds an algorithm by its API name.</summary>
public static class Algorithms
{
    private static readonly FrozenDictionary<string, ILoadBalancingAlgorithm> ByName = new ILoadBalancingAlgorithm[]
    {
        new RandomAlgorithm(),
        new RoundRobinAlgorithm(),
        new WeightedRoundRobinAlgorithm(),
        new LeastConnectionsAlgorithm(),
        new WeightedLeastConnectionsAlgorithm(),
    }.ToFrozenDictionary(a => a.Name, StringComparer.Ordinal);

    /// <summary>The algorithm named <paramref name="name"/>; RANDOM for an unknown name (the API rejects those).</summary>
    public static ILoadBalancingAlgorithm Get(string name) =>
        ByName.TryGetValue(name, out var algorithm) ? algorithm : ByName[AlgorithmNames.Random];
}
