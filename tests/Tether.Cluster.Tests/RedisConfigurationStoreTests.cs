using System.Collections.Concurrent;
using StackExchange.Redis;
using Tether.Management.Auth;
using Tether.Management.Storage;

namespace Tether.Cluster.Tests;

/// <summary>The contract of the shared configuration store (issue 14) against a real RESP server (Garnet).</summary>
public sealed class RedisConfigurationStoreTests(GarnetServerFixture garnet) : IClassFixture<GarnetServerFixture>, IAsyncLifetime, IDisposable
{
    private readonly string _prefix = ClusterTestData.NewPrefix();
    private readonly TempDirectory _dirA = new();
    private readonly TempDirectory _dirB = new();
    private ClusterStoreConnection _a = null!;
    private ClusterStoreConnection _b = null!;
    private TetherStore _localA = null!;
    private TetherStore _localB = null!;

    public async Task InitializeAsync()
    {
        _a = await ClusterStoreConnection.ConnectAsync(garnet.Configuration, "a", _prefix);
        _b = await ClusterStoreConnection.ConnectAsync(garnet.Configuration, "b", _prefix);
        _localA = TetherStore.Open(_dirA.Path);
        _localB = TetherStore.Open(_dirB.Path);
    }

    public async Task DisposeAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
        _localA.Dispose();
        _localB.Dispose();
    }

    public void Dispose()
    {
        _dirA.Dispose();
        _dirB.Dispose();
    }

    private IConfigurationStore StoreA() => new RedisConfigurationStore(_a, _localA);

    private IConfigurationStore StoreB() => new RedisConfigurationStore(_b, _localB);

    [Fact]
    public async Task Save_NewLoadBalancer_WritesItBumpsTheRevisionAndPublishesIt()
    {
        var a = StoreA();
        var b = new RedisConfigurationStore(_b, _localB);
        var published = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await _b.Multiplexer.GetSubscriber().SubscribeAsync(b.RevisionChannel, (_, message) => published.TrySetResult(message!));

        a.Save(ClusterTestData.Audit(5), ClusterTestData.LoadBalancer(5, "web"));

        Assert.Equal("1", await published.Task.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(1, b.ReadRevision());
        var loaded = Assert.Single(b.LoadAll());
        Assert.Equal((5, "web"), (loaded.Id, loaded.Name));
        var db = _a.Multiplexer.GetDatabase();
        Assert.Equal(1, await db.HashLengthAsync(_a.Key("audit")));
    }

    [Fact]
    public void Save_BasedOnACopyChangedMeanwhile_IsRefusedAndWritesNothing()
    {
        var a = StoreA();
        var b = new RedisConfigurationStore(_b, _localB);
        a.Save(null, ClusterTestData.LoadBalancer(7, "first"));
        Assert.Single(b.LoadAll());
        a.Save(null, ClusterTestData.LoadBalancer(7, "changed through a"));

        var conflict = Assert.Throws<ConfigurationConflictException>(() =>
            ((IConfigurationStore)b).Save(ClusterTestData.Audit(7, "update"), ClusterTestData.LoadBalancer(7, "changed through b")));

        Assert.Equal(7, conflict.LoadBalancerId);
        Assert.Equal(2, b.ReadRevision());
        Assert.Equal("changed through a", Assert.Single(b.LoadAll()).Name);
        // Re-read, the change is based on the current copy and goes through.
        ((IConfigurationStore)b).Save(null, ClusterTestData.LoadBalancer(7, "changed through b"));
        Assert.Equal("changed through b", Assert.Single(StoreA().LoadAll()).Name);
    }

    [Fact]
    public void Save_CreateOfAnIdAlreadyStored_IsRefused()
    {
        StoreA().Save(null, ClusterTestData.LoadBalancer(8));

        Assert.Throws<ConfigurationConflictException>(() => StoreB().Save(null, ClusterTestData.LoadBalancer(8, "again")));
    }

    [Fact]
    public async Task Save_StoreLostItsDataAfterARevisionWasSeen_IsRefusedUntilRefilledAndWritesNothing()
    {
        var a = new RedisConfigurationStore(_a, _localA);
        ((IConfigurationStore)a).Save(null, ClusterTestData.LoadBalancer(1), ClusterTestData.LoadBalancer(2, port: 8081));
        // A Redis restarted without persistence: every key of the cluster is gone.
        var server = _a.Multiplexer.GetServers()[0];
        await foreach (var key in server.KeysAsync(pattern: _prefix + "*"))
        {
            await _a.Multiplexer.GetDatabase().KeyDeleteAsync(key);
        }

        var refused = Assert.Throws<ConfigurationStoreUnavailableException>(() =>
            ((IConfigurationStore)a).Save(null, ClusterTestData.LoadBalancer(3, port: 8082)));
        var b = new RedisConfigurationStore(_b, _localB);
        var emptyWhileRefused = (b.ReadRevision(), b.LoadAll().Count);
        var refilled = a.Reseed([ClusterTestData.LoadBalancer(1), ClusterTestData.LoadBalancer(2, port: 8081)]);
        ((IConfigurationStore)a).Save(null, ClusterTestData.LoadBalancer(3, port: 8082));

        Assert.Contains("lost its data", refused.Message, StringComparison.Ordinal);
        Assert.Equal((0L, 0), emptyWhileRefused);
        Assert.True(refilled);
        Assert.Equal([1, 2, 3], b.LoadAll().Select(c => c.Id));
        Assert.Equal(2, b.ReadRevision());
    }

    [Fact]
    public void Delete_StoredLoadBalancers_RemovesThemAndBumpsTheRevision()
    {
        var a = new RedisConfigurationStore(_a, _localA);
        ((IConfigurationStore)a).Save(null, ClusterTestData.LoadBalancer(1), ClusterTestData.LoadBalancer(2, port: 8081));

        ((IConfigurationStore)a).Delete([ClusterTestData.Audit(1, "delete")], [1]);

        Assert.Equal(2, a.ReadRevision());
        Assert.Equal(2, Assert.Single(StoreB().LoadAll()).Id);
    }

    [Fact]
    public async Task NextIds_TwoInstancesAtOnce_NeverGiveTheSameId()
    {
        var a = StoreA();
        var b = StoreB();
        var ids = new ConcurrentBag<int>();
        await Task.WhenAll(
            Task.Run(() => Allocate(a)),
            Task.Run(() => Allocate(b)));

        Assert.Equal(2 * 100 * 3, ids.Count);
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.Equal(1, ids.Min());

        void Allocate(IConfigurationStore store)
        {
            for (var i = 0; i < 100; i++)
            {
                var first = store.NextIds(Sequences.Node, 3);
                ids.Add(first);
                ids.Add(first + 1);
                ids.Add(first + 2);
            }
        }
    }

    [Fact]
    public void AddToken_ThroughOneInstance_IsFoundThroughTheOther()
    {
        StoreA().AddToken("tok-1", 42, DateTimeOffset.UnixEpoch, TokenRole.Creator);

        Assert.Equal(new TokenGrant(42, TokenRole.Creator), StoreB().FindToken("tok-1"));
        Assert.Null(StoreB().FindToken("tok-2"));
        Assert.Equal(("tok-1", 42), Assert.Single(StoreB().ListTokens()));
    }

    [Fact]
    public async Task GetOrCreateCookieKeys_TwoInstancesAtOnce_AgreeOnOneKeyAndKeepACopyLocally()
    {
        var a = StoreA();
        var b = StoreB();

        var keys = await Task.WhenAll(Task.Run(a.GetOrCreateCookieKeys), Task.Run(b.GetOrCreateCookieKeys));

        var ka = Assert.Single(keys[0]);
        var kb = Assert.Single(keys[1]);
        Assert.Equal(1, ka.Id);
        Assert.Equal(ka.Secret, kb.Secret);
        Assert.Equal(ka.Secret, Assert.Single(_localB.GetOrCreateCookieKeys()).Secret);
    }

    [Fact]
    public void AddCookieKey_ThroughOneInstance_IsReadByTheOther()
    {
        var a = new RedisConfigurationStore(_a, _localA);
        a.GetOrCreateCookieKeys();

        a.AddCookieKey();

        Assert.Equal([1, 2], new RedisConfigurationStore(_b, _localB).ReadCookieKeys().Select(k => (int)k.Id));
    }
}
