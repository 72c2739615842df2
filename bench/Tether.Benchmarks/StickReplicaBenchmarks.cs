using BenchmarkDotNet.Attributes;
using Tether.Core.LoadBalancing;
using Tether.Core.Model;
using Tether.Core.Runtime;
using Tether.Core.SessionPersistence;

namespace Tether.Benchmarks;

/// <summary>
/// Cluster mode's cost on a local hit (issue 14): what a data path does per request when the stick table has a
/// shared copy (<see cref="LoadBalancerRuntime.MissesSharedState"/>, then the selection), against the same selection
/// in single-instance mode. The replica is a counting stand-in: on a local hit the table calls it only for the
/// refresh, once per quarter of the timeout per entry, so no store is involved.
/// </summary>
public class StickReplicaBenchmarks
{
    private LoadBalancerRuntime _runtime = null!;
    private UInt128 _client;
    private string _header = string.Empty;

    [Params("SOURCE_IP", "APP_COOKIE", "HEADER")]
    public string Persistence { get; set; } = "SOURCE_IP";

    [Params(false, true)]
    public bool Replica { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var persistence = Persistence switch
        {
            "APP_COOKIE" => new SessionPersistenceConfig { Type = PersistenceType.AppCookie, CookieName = "JSESSIONID" },
            "HEADER" => new SessionPersistenceConfig { Type = PersistenceType.Header, HeaderName = "X-Session-Id" },
            _ => new SessionPersistenceConfig { Type = PersistenceType.SourceIp },
        };
        _runtime = new LoadBalancerRuntime(Fixtures.LoadBalancer(3, AlgorithmNames.RoundRobin, persistence), Fixtures.Keys,
            TimeProvider.System, SharedRandomSource.Instance, Replica ? new CountingReplication() : null);
        _client = ClientAddress.ToKey(System.Net.IPAddress.Parse("198.51.100.7"));
        if (Persistence == "APP_COOKIE")
        {
            _client = StableHash.OfCookie("JSESSIONID", "abc123");
            _runtime.LearnAppCookie(_client, 2);
        }

        if (Persistence == "HEADER")
        {
            _header = "user-4242";
        }

        _runtime.Select(new PersistenceRequest(_client, default, _client, _header));
    }

    /// <summary>A returning client: the local-miss check (cluster mode only, as the data paths do it), then the
    /// selection.</summary>
    [Benchmark]
    public Selection SelectLocalHit()
    {
        var snapshot = _runtime.Snapshot;
        if (LoadBalancerRuntime.SharesPins(snapshot)
            && _runtime.MissesSharedState(snapshot, new PersistenceRequest(_client, default, _client, _header), out _))
        {
            throw new InvalidOperationException("a local hit was expected");
        }

        return _runtime.Select(snapshot, new PersistenceRequest(_client, default, _client, _header));
    }

    private sealed class CountingReplication : IStickTableReplication
    {
        public IStickTableReplica Create(LoadBalancerRuntime runtime, PersistenceType type, StickTable table) => new CountingReplica();
    }

    private sealed class CountingReplica : IStickTableReplica
    {
        private long _writes;

        public void Publish(UInt128 key, int nodeId) => Interlocked.Increment(ref _writes);

        public void Overwrite(UInt128 key, int nodeId) => Interlocked.Increment(ref _writes);

        public void Refresh(UInt128 key, int nodeId) => Interlocked.Increment(ref _writes);

        public void Remove(UInt128 key) => Interlocked.Increment(ref _writes);

        public void UnpinNode(int nodeId, long unixSeconds)
        {
        }

        public ValueTask<int> FetchAsync(UInt128 key, CancellationToken cancellationToken) => ValueTask.FromResult(0);

        public void Dispose()
        {
        }
    }
}
