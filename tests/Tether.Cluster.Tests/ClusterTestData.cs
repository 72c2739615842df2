using Tether.Core.Model;
using Tether.Management.Audit;

namespace Tether.Cluster.Tests;

/// <summary>Load balancers and audit entries for the store tests, and a key prefix of their own per test.</summary>
internal static class ClusterTestData
{
    public static string NewPrefix() => "t" + Guid.NewGuid().ToString("N")[..12] + ":";

    public static LoadBalancerConfig LoadBalancer(int id, string name = "lb", int port = 8080, params int[] nodeIds) => new()
    {
        Id = id,
        AccountId = 1,
        Name = name,
        Protocol = "HTTP",
        Port = port,
        Status = LoadBalancerStatus.Active,
        Created = new DateTimeOffset(2026, 12, 3, 17, 0, 0, TimeSpan.Zero),
        Updated = new DateTimeOffset(2026, 12, 3, 17, 0, 0, TimeSpan.Zero),
        VirtualIps = [new VirtualIpConfig { Id = 1, Address = "127.0.0.1", Type = VirtualIpType.Public }],
        Nodes = [.. (nodeIds.Length == 0 ? [10] : nodeIds).Select(n => new NodeConfig { Id = n, Address = "127.0.0.1", Port = 9000 + n })],
    };

    public static AuditEntry Audit(int loadBalancerId, string action = "create") =>
        new(0, 1, new DateTimeOffset(2026, 12, 3, 17, 0, 0, TimeSpan.Zero), "-", "POST", "/loadbalancers", action, loadBalancerId, [], [], "applied");
}
