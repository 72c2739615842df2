using System.Collections.Immutable;
using Tether.Core.LoadBalancing;
using Tether.Core.Model;
using Tether.Core.SessionPersistence;

namespace Tether.Benchmarks;

internal static class Fixtures
{
    public static readonly CookieKeyRing Keys = new([new CookieKey(1, Enumerable.Range(0, 32).Select(i => (byte)i).ToArray())]);

    public static LoadBalancerConfig LoadBalancer(int nodes, string algorithm, SessionPersistenceConfig? persistence) => new()
    {
        Id = 1,
        AccountId = 1,
        Name = "bench",
        Protocol = Protocols.Http,
        Port = 8000,
        Algorithm = algorithm,
        Created = DateTimeOffset.UnixEpoch,
        Updated = DateTimeOffset.UnixEpoch,
        VirtualIps = [new VirtualIpConfig { Id = 1, Address = "127.0.0.1", Type = VirtualIpType.ServiceNet }],
        Nodes = Enumerable.Range(1, nodes)
            .Select(i => new NodeConfig { Id = i, Address = $"10.0.{i / 250}.{i % 250 + 1}", Port = 80, Weight = 1 + (i % 5) })
            .ToImmutableArray(),
        SessionPersistence = persistence,
    };

    public static NodeState[] Nodes(int count) =>
        LoadBalancer(count, AlgorithmNames.Random, null).Nodes.Select(n => new NodeState(n, new NodeCounters())).ToArray();
}
