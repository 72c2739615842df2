using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;
using Tether.Core.Model;
using Tether.Core.Runtime;
using Tether.Core.SessionPersistence;

namespace Tether.Cluster.Tests;

/// <summary>Stick tables shared through the store (issue 14), against an in-process Garnet server: one
/// <see cref="Instance"/> per simulated Tether instance, each with its own connection, tables and clock.</summary>
public sealed class RedisStickTablesTests(GarnetServerFixture garnet) : IClassFixture<GarnetServerFixture>, IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2026, 12, 3, 12, 0, 0, TimeSpan.Zero);
    private readonly string _prefix = "t" + Guid.NewGuid().ToString("N")[..8] + ":";
    private readonly List<Instance> _instances = [];
    private IConnectionMultiplexer _probe = null!;

    public async Task InitializeAsync() => _probe = await ConnectionMultiplexer.ConnectAsync(garnet.Configuration);

    public async Task DisposeAsync()
    {
        foreach (var instance in _instances)
        {
            await instance.DisposeAsync();
        }

        await _probe.DisposeAsync();
    }

    [Fact]
    public async Task Publish_TwoInstancesPinOneNewClientAtOnce_BothEndOnTheSameNode()
    {
        var config = SourceIp(timeoutSeconds: 300);
        var a = await StartAsync("a", config);
        var b = await StartAsync("b", config);

        for (var client = 1; client <= 20; client++)
        {
            UInt128 key = (ulong)client;
            // Both instances see the new client at once and place it on different nodes.
            var both = new[] { Task.Run(() => a.Table.Set(key, 1, a.Clock.GetTimestamp())), Task.Run(() => b.Table.Set(key, 2, b.Clock.GetTimestamp())) };
            await Task.WhenAll(both);
        }

        for (var client = 1; client <= 20; client++)
        {
            UInt128 key = (ulong)client;
            await Until(() => _probe.GetDatabase().KeyExists(Key(key)));
            var shared = (int)await _probe.GetDatabase().StringGetAsync(Key(key));
            Assert.InRange(shared, 1, 2);
            await Until(() => Pinned(a, key) == shared && Pinned(b, key) == shared);
        }

        Assert.Equal(20, a.Tables.Published + b.Tables.Published);
        Assert.Equal(20, a.Tables.Adopted + b.Tables.Adopted);
    }

    [Fact]
    public async Task Publish_NewPin_SharedKeyHoldsTheNodeWithThePersistenceTimeoutAsTtl()
    {
        var a = await StartAsync("a", SourceIp(timeoutSeconds: 600));

        var node = a.Runtime.Select(default, 77).Node!.Id;

        var key = Key(77);
        await Until(() => _probe.GetDatabase().KeyExists(key));
        Assert.Equal(node, (int)_probe.GetDatabase().StringGet(key));
        var ttl = await _probe.GetDatabase().KeyTimeToLiveAsync(key);
        Assert.InRange(ttl!.Value.TotalSeconds, 590, 600);
        Assert.StartsWith(_prefix + "stick:7:SOURCE_IP:", (string)key!, StringComparison.Ordinal);
        Assert.Equal(32, ((string)key!).Length - (_prefix + "stick:7:SOURCE_IP:").Length);
    }

    [Fact]
    public async Task Refresh_ManyRequests_WritesTheSharedTtlAgainAtMostOncePerQuarterOfTheTimeout()
    {
        var a = await StartAsync("a", SourceIp(timeoutSeconds: 600));
        a.Runtime.Select(default, 5);
        var key = Key(5);
        await Until(() => _probe.GetDatabase().KeyExists(key));
        await _probe.GetDatabase().KeyExpireAsync(key, TimeSpan.FromSeconds(30));

        // A quarter of the timeout later, 1,000 requests: one refresh.
        a.Clock.Advance(TimeSpan.FromSeconds(150));
        for (var i = 0; i < 1000; i++)
        {
            Assert.Equal(SelectionOutcome.Persisted, a.Runtime.Select(default, 5).Outcome);
        }

        await Until(() => _probe.GetDatabase().KeyTimeToLive(key) > TimeSpan.FromSeconds(500));
        await Until(() => a.Tables.Queued == 0);
        Assert.Equal(1, a.Tables.Refreshed);
    }

    [Fact]
    public async Task FetchSharedStateAsync_ClientPinnedThroughA_KeepsItsNodeThroughB()
    {
        var config = SourceIp(timeoutSeconds: 300);
        var a = await StartAsync("a", config);
        var b = await StartAsync("b", config);
        UInt128 client = 1234;
        var hashed = b.Runtime.Explain(default, client).Node!.Id;
        var pinned = hashed == 3 ? 1 : 3;
        a.Table.Set(client, pinned, a.Clock.GetTimestamp());
        await Until(() => _probe.GetDatabase().KeyExists(Key(client)));

        Assert.True(b.Runtime.MissesSharedState(b.Runtime.Snapshot, PersistenceRequest.ForClient(client), out var key));
        await b.Runtime.FetchSharedStateAsync(b.Runtime.Snapshot, key, CancellationToken.None);
        var selection = b.Runtime.Select(default, client);

        Assert.Equal((pinned, SelectionOutcome.Persisted), (selection.Node!.Id, selection.Outcome));
        Assert.Equal(1, b.Tables.Fetched);
    }

    [Fact]
    public async Task FetchSharedStateAsync_StoreDown_TheRequestIsPlacedByTheLocalDecision()
    {
        // Nothing listens on this port: the connection stays down (abortConnect=false).
        var down = await StartAsync("down", SourceIp(timeoutSeconds: 300), $"127.0.0.1:{FreePort()},connectTimeout=200");

        for (UInt128 client = 1; client <= 50; client++)
        {
            Assert.True(down.Runtime.MissesSharedState(down.Runtime.Snapshot, PersistenceRequest.ForClient(client), out var key));
            await down.Runtime.FetchSharedStateAsync(down.Runtime.Snapshot, key, CancellationToken.None);
            var selection = down.Runtime.Select(default, client);
            Assert.Equal(SelectionOutcome.Hashed, selection.Outcome);
            Assert.Same(down.Runtime.Explain(default, client).Node, selection.Node);
        }

        Assert.Equal(50, down.Tables.FetchFailures);
        await Until(() => down.Tables.Dropped == 50);
    }

    [Fact]
    public async Task UnpinNode_HttpCookie_TheMarkReachesEveryInstanceAndALaterOne()
    {
        var config = Cookie(timeoutSeconds: 300);
        var a = await StartAsync("a", config);
        var b = await StartAsync("b", config);
        await Until(() => SubscriberCount() >= 1);
        a.Clock.Advance(TimeSpan.FromSeconds(10));
        var mark = a.Clock.GetUtcNow().ToUnixTimeSeconds();

        a.Runtime.UnpinNode(2);

        await Until(() => b.Runtime.Snapshot.FindNode(2)!.Counters.UnpinnedBefore == mark);
        var c = await StartAsync("c", config);
        await Until(() => c.Runtime.Snapshot.FindNode(2)!.Counters.UnpinnedBefore == mark);
        Assert.NotEqual(mark, b.Runtime.Snapshot.FindNode(1)!.Counters.UnpinnedBefore);
    }

    [Fact]
    public async Task UnpinNode_SourceIp_DeletesTheNodesSharedPinsOnly()
    {
        var config = SourceIp(timeoutSeconds: 300);
        var a = await StartAsync("a", config);
        var b = await StartAsync("b", config);
        a.Table.Set(1, 2, a.Clock.GetTimestamp());
        a.Table.Set(2, 1, a.Clock.GetTimestamp());
        await Until(() => _probe.GetDatabase().KeyExists(Key(1)) && _probe.GetDatabase().KeyExists(Key(2)));
        b.Table.Learn(1, 2, b.Clock.GetTimestamp());
        await Until(() => SubscriberCount() >= 1);

        a.Clock.Advance(TimeSpan.FromSeconds(5));
        a.Runtime.UnpinNode(2);

        await Until(() => !_probe.GetDatabase().KeyExists(Key(1)));
        await Until(() => b.Table.Count == 0);
        Assert.True(_probe.GetDatabase().KeyExists(Key(2)));
    }

    [Fact]
    public async Task AddClusterStickTables_WithTheStoreConnection_GivesTheDataPlaneTheRedisReplication()
    {
        await using var store = await ClusterStoreConnection.ConnectAsync(garnet.Configuration, "a", _prefix);
        var services = new ServiceCollection().AddLogging().AddSingleton(store);

        services.AddClusterStickTables(o => o.FetchTimeoutMilliseconds = 50);
        await using var provider = services.BuildServiceProvider();

        var replication = provider.GetRequiredService<IStickTableReplication>();
        Assert.Same(provider.GetRequiredService<RedisStickTables>(), replication);
        Assert.Equal(50, provider.GetRequiredService<StickTableSharingOptions>().FetchTimeoutMilliseconds);
    }

    private RedisKey Key(UInt128 key) => $"{_prefix}stick:7:SOURCE_IP:{key:x32}";

    private long SubscriberCount()
    {
        var result = _probe.GetDatabase().Execute("PUBSUB", "NUMSUB", _prefix + "stick:unpin");
        return (long)((RedisResult[])result!)[1];
    }

    private static int Pinned(Instance instance, UInt128 key) =>
        instance.Table.TryPeek(key, instance.Clock.GetTimestamp(), out var node) ? node : 0;

    private async Task<Instance> StartAsync(string name, LoadBalancerConfig config, string? configuration = null)
    {
        var store = await ClusterStoreConnection.ConnectAsync(configuration ?? garnet.Configuration, name, _prefix);
        // A generous fetch timeout: these tests check what is fetched, on a loaded machine; the store-down test checks
        // that a request does not wait for an answer that cannot come.
        var tables = new RedisStickTables(store, new StickTableSharingOptions { FetchTimeoutMilliseconds = 10_000 }, TimeProvider.System, NullLogger<RedisStickTables>.Instance);
        var clock = new FakeTimeProvider(Start);
        var runtime = new LoadBalancerRuntime(config, new CookieKeyRing([new CookieKey(1, new byte[32])]), clock, new SeededRandomSource(7), tables);
        var instance = new Instance(store, tables, runtime, clock);
        _instances.Add(instance);
        return instance;
    }

    private static LoadBalancerConfig SourceIp(int timeoutSeconds) => LoadBalancer() with
    {
        SessionPersistence = new SessionPersistenceConfig { Type = PersistenceType.SourceIp, PersistenceTimeoutSeconds = timeoutSeconds },
    };

    private static LoadBalancerConfig Cookie(int timeoutSeconds) => LoadBalancer() with
    {
        SessionPersistence = new SessionPersistenceConfig { Type = PersistenceType.HttpCookie, PersistenceTimeoutSeconds = timeoutSeconds },
    };

    private static LoadBalancerConfig LoadBalancer() => new()
    {
        Id = 7,
        AccountId = 1,
        Name = "lb",
        Protocol = Protocols.Http,
        Port = 80,
        Created = Start,
        Updated = Start,
        VirtualIps = [new VirtualIpConfig { Id = 1, Address = "127.0.0.1", Type = VirtualIpType.Public }],
        Nodes = [Node(1), Node(2), Node(3)],
    };

    private static NodeConfig Node(int id) => new()
    {
        Id = id,
        Address = $"10.0.0.{id}",
        Port = 8080,
        Weight = 1,
        Condition = NodeCondition.Enabled,
        Type = NodeType.Primary,
        Status = NodeStatus.Online,
    };

    /// <summary>Polls <paramref name="condition"/> until it holds, for at most 20 seconds (no timed assertion).</summary>
    private static async Task Until(Func<bool> condition)
    {
        var deadline = TimeProvider.System.GetTimestamp() + 20 * TimeProvider.System.TimestampFrequency;
        while (!condition())
        {
            Assert.True(TimeProvider.System.GetTimestamp() < deadline, "the condition did not hold within 20 s");
            await Task.Delay(20);
        }
    }

    private static int FreePort()
    {
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        socket.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        return ((System.Net.IPEndPoint)socket.LocalEndPoint!).Port;
    }

    private sealed record Instance(ClusterStoreConnection Store, RedisStickTables Tables, LoadBalancerRuntime Runtime, FakeTimeProvider Clock)
    {
        public StickTable Table => (StickTable)Runtime.StickTable;

        public async ValueTask DisposeAsync()
        {
            Runtime.StopTimers();
            Tables.Dispose();
            await Store.DisposeAsync();
        }
    }
}
