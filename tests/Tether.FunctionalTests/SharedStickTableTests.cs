using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Tether.Core.Model;
using Tether.Core.Runtime;
using Tether.Core.SessionPersistence;
using Tether.FunctionalTests.Infrastructure;
using Tether.Proxy;

namespace Tether.FunctionalTests;

/// <summary>Cluster mode's data path (issue 14), on the fast path and on the Kestrel path: a request whose key the local
/// table misses waits for the shared pin and follows it, and the pin a request creates reaches the shared copy. The
/// shared copy is an in-memory stand-in here; the Redis one is tested against Garnet in Tether.Cluster.Tests.</summary>
public sealed class SharedStickTableTests : IAsyncLifetime
{
    private TestBackend[] _backends = null!;

    public async Task InitializeAsync() =>
        _backends = [await TestBackend.StartAsync("b1"), await TestBackend.StartAsync("b2"), await TestBackend.StartAsync("b3")];

    public async Task DisposeAsync()
    {
        foreach (var b in _backends)
        {
            await b.DisposeAsync();
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Request_LocalMiss_FollowsTheSharedPinInsteadOfTheHash(bool fastPath)
    {
        var shared = new InMemorySharedPins();
        await using var tether = await TetherInstance.StartAsync(proxyOptions: new ProxyOptions { Http1FastPath = fastPath, ShutdownTimeoutSeconds = 5 },
            services: s => s.AddSingleton<IStickTableReplication>(shared));
        var (id, port) = await tether.CreateLoadBalancerAsync("ROUND_ROBIN", _backends, """{"persistenceType":"SOURCE_IP"}""");
        var runtime = tether.Runtime(id);
        var client = ClientAddress.ToKey(System.Net.IPAddress.Loopback);
        var hashed = runtime.Explain(default, client).Node!;
        var pinned = runtime.Snapshot.Nodes.First(n => n.Id != hashed.Id);
        // Another instance pinned this client to a node the hash does not name.
        shared.Pins[(id, client)] = pinned.Id;
        using var http = Clients.WithoutCookies(port);

        var reached = await Clients.SpreadAsync(http, 5);

        var backend = _backends.Single(b => b.Port == pinned.EndPoint.Port).Name;
        Assert.Equal($"{backend}=5", string.Join(' ', reached.Select(r => $"{r.Key}={r.Value}")));
        Assert.Equal(1, shared.Fetches);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Request_NewClient_IsPlacedLocallyAndItsPinShared(bool fastPath)
    {
        var shared = new InMemorySharedPins();
        await using var tether = await TetherInstance.StartAsync(proxyOptions: new ProxyOptions { Http1FastPath = fastPath, ShutdownTimeoutSeconds = 5 },
            services: s => s.AddSingleton<IStickTableReplication>(shared));
        var (id, port) = await tether.CreateLoadBalancerAsync("ROUND_ROBIN", _backends, """{"persistenceType":"HEADER","headerName":"X-Session-Id"}""");
        using var http = Clients.WithoutCookies(port);

        for (var i = 0; i < 3; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/");
            request.Headers.Add("X-Session-Id", "alice");
            (await http.SendAsync(request)).EnsureSuccessStatusCode();
        }

        var pin = Assert.Single(shared.Pins);
        Assert.Equal((id, tether.Runtime(id).Explain(new PersistenceRequest(0, default, 0, "alice")).Node!.Id), (pin.Key.LoadBalancerId, pin.Value));
        Assert.Equal(pin.Key.Key, Assert.Single(tether.Runtime(id).StickTable.Snapshot(tether.Runtime(id).Time.GetTimestamp())).Key);
        Assert.Equal(1, shared.Fetches);
        Assert.Equal(1, shared.Publishes);
    }

    /// <summary>A shared copy in memory, with SET NX's rule: the first pin of a key stays.</summary>
    private sealed class InMemorySharedPins : IStickTableReplication
    {
        private int _fetches;
        private int _publishes;

        public ConcurrentDictionary<(int LoadBalancerId, UInt128 Key), int> Pins { get; } = new();

        public int Fetches => Volatile.Read(ref _fetches);

        public int Publishes => Volatile.Read(ref _publishes);

        public IStickTableReplica Create(LoadBalancerRuntime runtime, PersistenceType type, StickTable table) => new Replica(this, runtime.Snapshot.Id);

        private sealed class Replica(InMemorySharedPins owner, int loadBalancerId) : IStickTableReplica
        {
            public void Publish(UInt128 key, int nodeId)
            {
                Interlocked.Increment(ref owner._publishes);
                owner.Pins.TryAdd((loadBalancerId, key), nodeId);
            }

            public void Overwrite(UInt128 key, int nodeId) => owner.Pins[(loadBalancerId, key)] = nodeId;

            public void Refresh(UInt128 key, int nodeId)
            {
            }

            public void Remove(UInt128 key) => owner.Pins.TryRemove((loadBalancerId, key), out _);

            public void UnpinNode(int nodeId, long unixSeconds)
            {
            }

            public async ValueTask<int> FetchAsync(UInt128 key, CancellationToken cancellationToken)
            {
                Interlocked.Increment(ref owner._fetches);
                await Task.Yield();
                return owner.Pins.TryGetValue((loadBalancerId, key), out var node) ? node : 0;
            }

            public void Dispose()
            {
            }
        }
    }
}
