using Microsoft.Extensions.Time.Testing;
using Tether.Core.LoadBalancing;
using Tether.Core.Model;
using Tether.Core.Runtime;
using Tether.Core.SessionPersistence;
using static Tether.Core.Tests.TestConfigs;

namespace Tether.Core.Tests.SessionPersistence;

/// <summary>Bounded-load consistent hashing (issue 13; Mirrokni, Thorup, Zadimoghaddam 2016; HAProxy
/// hash-balance-factor): a new client is not placed on a node whose in-flight load is above
/// ceil(factor / 100 × (in flight + 1) / nodes); the next node in Maglev order takes it. Pinned clients never move.</summary>
public sealed class BoundedLoadTests
{
    private readonly FakeTimeProvider _clock = Clock();

    [Theory]
    [InlineData("SOURCE_IP", 125)]
    [InlineData("SOURCE_IP", 150)]
    [InlineData("HEADER", 125)]
    [InlineData("HEADER", 200)]
    public void Select_OneHotClientManyCold_HottestNodeStaysWithinTheFactor(string type, int factor)
    {
        var runtime = Create(type, factor);
        // The hot client: pinned, and holding 40 requests in flight on its node.
        var hot = runtime.Select(View(type, 0)).Node!;
        for (var i = 0; i < 40; i++)
        {
            hot.Counters.OnStart();
        }

        // 300 cold clients arrive one by one, each keeping one request in flight.
        var violations = new List<string>();
        for (var i = 1; i <= 300; i++)
        {
            var nodes = runtime.Snapshot.Nodes;
            var bound = Bound(factor, nodes);
            var node = runtime.Select(View(type, i)).Node!;
            if (node.Counters.Active > bound)
            {
                violations.Add($"client {i} placed on node {node.Id} with {node.Counters.Active} in flight (bound {bound})");
            }

            node.Counters.OnStart();
        }

        var total = runtime.Snapshot.Nodes.Sum(n => n.Counters.Active);
        var hottest = runtime.Snapshot.Nodes.Max(n => n.Counters.Active);
        Assert.Empty(violations);
        // The hottest node's share stays within the factor of the average (+1: the request that tipped it).
        Assert.True(hottest <= Math.Ceiling(factor / 100.0 * total / 3) + 1, $"hottest {hottest} of {total} (factor {factor})");
        Assert.Equal(hot, runtime.Select(View(type, 0)).Node); // the hot client stays where it is
    }

    [Theory]
    [InlineData("SOURCE_IP")]
    [InlineData("HEADER")]
    public void Select_FactorOff_PlacesExactlyAsTheMaglevTable(string type)
    {
        var runtime = Create(type, 0);
        var first = runtime.Select(View(type, 0)).Node!;
        for (var i = 0; i < 40; i++)
        {
            first.Counters.OnStart();
        }

        for (var i = 1; i <= 200; i++)
        {
            var key = type == "SOURCE_IP" ? ClientKey(i) : HeaderPolicy.KeyOf($"v-{i}");
            Assert.Same(runtime.Snapshot.Maglev!.Lookup(StableHash.Of(key)), runtime.Select(View(type, i)).Node);
        }
    }

    [Fact]
    public void Lookup_NoLoad_IsThePlainLookup()
    {
        var nodes = States(Node(1), Node(2), Node(3));
        var table = MaglevTable.Build(nodes)!;

        for (ulong hash = 0; hash < 1000; hash++)
        {
            Assert.Same(table.Lookup(hash), table.Lookup(hash, 125));
        }
    }

    [Fact]
    public void Lookup_HashedNodeOverTheBound_TakesTheNextNodeInTableOrder()
    {
        var nodes = States(Node(1), Node(2), Node(3));
        var table = MaglevTable.Build(nodes)!;
        var hashed = table.Lookup(7);
        for (var i = 0; i < 10; i++)
        {
            hashed.Counters.OnStart();
        }

        // In flight 10 (+1) over 3 nodes at 150 %: bound ceil(5.5) = 6, the hashed node has 10.
        var placed = table.Lookup(7, 150);

        Assert.NotSame(hashed, placed);
        var next = 8UL;
        while (table.Lookup(next) == hashed)
        {
            next++;
        }

        Assert.Same(table.Lookup(next), placed);
    }

    private static long Bound(int factor, NodeState[] nodes)
    {
        long inFlight = 1 + nodes.Sum(n => (long)n.Counters.Active);
        return ((factor * inFlight) + (100L * nodes.Length) - 1) / (100L * nodes.Length);
    }

    private static PersistenceRequest View(string type, int client) => type == "SOURCE_IP"
        ? PersistenceRequest.ForClient(ClientKey(client))
        : new PersistenceRequest(UInt128.Zero, default, UInt128.Zero, $"v-{client}");

    private LoadBalancerRuntime Create(string type, int factor)
    {
        var config = LoadBalancer(Node(1), Node(2), Node(3)) with
        {
            SessionPersistence = new SessionPersistenceConfig
            {
                Type = type == "SOURCE_IP" ? PersistenceType.SourceIp : PersistenceType.Header,
                HeaderName = type == "SOURCE_IP" ? null : "X-Session-Id",
                HashBalanceFactor = factor,
            },
        };
        return new LoadBalancerRuntime(config, Ring(1), _clock, new SeededRandomSource(7));
    }
}
