using Microsoft.Extensions.Time.Testing;
using Tether.Core.Model;
using Tether.Core.Runtime;
using Tether.Core.SessionPersistence;
using static Tether.Core.Tests.TestConfigs;

namespace Tether.Core.Tests.SessionPersistence;

/// <summary>Cluster mode's seam in the stick table (issue 14): what the local table tells its shared copy, how often,
/// and what a local miss reads from it. The store itself is tested against Garnet in Tether.Cluster.Tests.</summary>
public sealed class StickReplicaTests
{
    private readonly FakeTimeProvider _clock = Clock();
    private readonly FakeReplication _replication = new();

    [Fact]
    public void Select_NewClient_PublishesOnePinNotOnePerRequest()
    {
        var runtime = Create(LoadBalancer(Node(1), Node(2), Node(3)).WithSourceIp());

        var node = runtime.Select(default, ClientKey(1)).Node!;
        for (var i = 0; i < 50; i++)
        {
            runtime.Select(default, ClientKey(1));
        }

        var replica = _replication.Last;
        Assert.Equal([(ClientKey(1), node.Id)], replica.Published);
        Assert.Empty(replica.Refreshed);
        Assert.Empty(replica.Overwritten);
    }

    [Fact]
    public void Select_UsedForTwiceTheTimeout_RefreshesAtMostOncePerQuarterOfTheTimeout()
    {
        var runtime = Create(LoadBalancer(Node(1), Node(2)).WithSourceIp(timeoutSeconds: 60));
        runtime.Select(default, ClientKey(1));

        // 100 requests every 10 s for 120 s: the shared entry is refreshed when its last write is 15 s old or more.
        for (var step = 0; step < 12; step++)
        {
            _clock.Advance(TimeSpan.FromSeconds(10));
            for (var i = 0; i < 100; i++)
            {
                runtime.Select(default, ClientKey(1));
            }
        }

        Assert.Equal(6, _replication.Last.Refreshed.Count);
    }

    [Fact]
    public async Task FetchSharedStateAsync_LocalMiss_TakesTheSharedNodeWithoutWritingItBack()
    {
        var runtime = Create(LoadBalancer(Node(1), Node(2), Node(3)).WithSourceIp());
        var hashed = runtime.Explain(default, ClientKey(1)).Node!.Id;
        var shared = hashed == 3 ? 1 : 3;
        _replication.Last.Store[ClientKey(1)] = shared;

        Assert.True(runtime.MissesSharedState(runtime.Snapshot, PersistenceRequest.ForClient(ClientKey(1)), out var key));
        await runtime.FetchSharedStateAsync(runtime.Snapshot, key, CancellationToken.None);
        var selection = runtime.Select(default, ClientKey(1));

        Assert.Equal(ClientKey(1), key);
        Assert.Equal(new Selection(selection.Node, SelectionOutcome.Persisted, false), selection);
        Assert.Equal(shared, selection.Node!.Id);
        Assert.Empty(_replication.Last.Published);
        Assert.False(runtime.MissesSharedState(runtime.Snapshot, PersistenceRequest.ForClient(ClientKey(1)), out _));
    }

    [Fact]
    public async Task FetchSharedStateAsync_StoreHasNothingOrIsAway_TheLocalDecisionStandsAndIsPublished()
    {
        var runtime = Create(LoadBalancer(Node(1), Node(2), Node(3)).WithSourceIp());
        _replication.Last.Away = true;

        Assert.True(runtime.MissesSharedState(runtime.Snapshot, PersistenceRequest.ForClient(ClientKey(2)), out var key));
        await runtime.FetchSharedStateAsync(runtime.Snapshot, key, CancellationToken.None);
        var selection = runtime.Select(default, ClientKey(2));

        Assert.Equal(SelectionOutcome.Hashed, selection.Outcome);
        Assert.Equal([(ClientKey(2), selection.Node!.Id)], _replication.Last.Published);
    }

    [Fact]
    public async Task FetchSharedStateAsync_SharedPinNamesANodeThisLoadBalancerLacks_IsIgnored()
    {
        var runtime = Create(LoadBalancer(Node(1), Node(2)).WithSourceIp());
        _replication.Last.Store[ClientKey(3)] = 99;

        await runtime.FetchSharedStateAsync(runtime.Snapshot, ClientKey(3), CancellationToken.None);

        Assert.Equal(0, runtime.StickTable.Count);
        Assert.Equal(SelectionOutcome.Hashed, runtime.Select(default, ClientKey(3)).Outcome);
    }

    [Fact]
    public void Adopt_AnotherInstanceWonTheNewPin_LaterRequestsGoToItsNode()
    {
        var runtime = Create(LoadBalancer(Node(1), Node(2), Node(3)).WithSourceIp());
        var mine = runtime.Select(default, ClientKey(4)).Node!.Id;
        var winner = mine == 2 ? 3 : 2;

        Assert.True(((StickTable)runtime.StickTable).Adopt(ClientKey(4), winner));

        var selection = runtime.Select(default, ClientKey(4));
        Assert.Equal((winner, SelectionOutcome.Persisted), (selection.Node!.Id, selection.Outcome));
        Assert.Single(_replication.Last.Published);
        Assert.Empty(_replication.Last.Overwritten);
    }

    [Fact]
    public void Select_PinnedNodeDisabled_FallbackOverwritesTheSharedPin()
    {
        var config = LoadBalancer(Node(1), Node(2)).WithSourceIp();
        var runtime = Create(config);
        var first = runtime.Select(default, ClientKey(5)).Node!.Id;
        var other = first == 1 ? 2 : 1;
        runtime.Apply(config with { Nodes = [Node(first, condition: NodeCondition.Disabled), Node(other)] });

        var selection = runtime.Select(default, ClientKey(5));

        Assert.Equal(other, selection.Node!.Id);
        Assert.Equal([(ClientKey(5), other)], _replication.Last.Overwritten);
    }

    [Fact]
    public void MissesSharedState_HeaderAndAppCookie_UseTheKeysTheirPoliciesPin()
    {
        var header = Create(LoadBalancer(Node(1), Node(2)).WithHeader());
        Assert.True(header.MissesSharedState(header.Snapshot, new PersistenceRequest(ClientKey(1), default, UInt128.Zero, "alice"), out var headerKey));
        header.Select(new PersistenceRequest(ClientKey(1), default, UInt128.Zero, "alice"));
        Assert.Equal(headerKey, Assert.Single(header.StickTable.Snapshot(_clock.GetTimestamp())).Key);
        Assert.False(header.MissesSharedState(header.Snapshot, new PersistenceRequest(ClientKey(1), default, UInt128.Zero, ""), out _));

        var app = Create(LoadBalancer(Node(1), Node(2)).WithAppCookie());
        Assert.True(app.MissesSharedState(app.Snapshot, new PersistenceRequest(ClientKey(1), default, 42, default), out var appKey));
        Assert.Equal((UInt128)42, appKey);
        app.LearnAppCookie(42, 2);
        Assert.False(app.MissesSharedState(app.Snapshot, new PersistenceRequest(ClientKey(1), default, 42, default), out _));
        Assert.Equal([((UInt128)42, 2)], _replication.Last.Published);
    }

    [Fact]
    public void Create_HttpCookie_SessionsStayLocalAndOnlyUnpinMarksAreShared()
    {
        var runtime = Create(LoadBalancer(Node(1), Node(2)).WithCookie());

        Assert.Null(((StickTable)runtime.StickTable).Replica);
        Assert.False(runtime.MissesSharedState(runtime.Snapshot, PersistenceRequest.ForClient(ClientKey(1)), out _));

        runtime.UnpinNode(2);
        Assert.Equal([(2, Start.ToUnixTimeSeconds())], _replication.Last.Unpinned);
    }

    [Fact]
    public void ApplySharedUnpin_NewerMark_UnpinsLocallyOnceAndOlderOnesChangeNothing()
    {
        var runtime = Create(LoadBalancer(Node(1), Node(2)).WithSourceIp());
        runtime.StickTable.Set(ClientKey(1), 2, _clock.GetTimestamp());
        var mark = Start.ToUnixTimeSeconds() + 5;

        Assert.True(runtime.ApplySharedUnpin(2, mark));
        Assert.False(runtime.ApplySharedUnpin(2, mark));
        Assert.False(runtime.ApplySharedUnpin(2, mark - 1));

        Assert.Equal(0, runtime.StickTable.Count);
        Assert.Equal(mark, runtime.Snapshot.FindNode(2)!.Counters.UnpinnedBefore);
        Assert.Empty(_replication.Last.Unpinned);
    }

    [Fact]
    public void Apply_PersistenceTypeChanges_TheOldReplicaIsDisposedAndANewOneAttached()
    {
        var config = LoadBalancer(Node(1), Node(2)).WithSourceIp();
        var runtime = Create(config);
        var first = _replication.Last;

        runtime.Apply(config.WithHeader());

        Assert.True(first.Disposed);
        Assert.Equal([PersistenceType.SourceIp, PersistenceType.Header], _replication.Created.Select(r => r.Type));
        Assert.Same(_replication.Last, ((StickTable)runtime.StickTable).Replica);
    }

    [Fact]
    public void MissesSharedState_SingleInstance_IsAlwaysFalse()
    {
        var runtime = new LoadBalancerRuntime(LoadBalancer(Node(1)).WithSourceIp(), Ring(1), _clock, new SeededRandomSource(7));

        Assert.False(runtime.MissesSharedState(runtime.Snapshot, PersistenceRequest.ForClient(ClientKey(1)), out _));
        Assert.False(LoadBalancerRuntime.SharesPins(runtime.Snapshot));
    }

    private LoadBalancerRuntime Create(LoadBalancerConfig config) =>
        new(config, Ring(1), _clock, new SeededRandomSource(7), _replication);

    private sealed class FakeReplication : IStickTableReplication
    {
        public List<FakeReplica> Created { get; } = [];

        public FakeReplica Last => Created[^1];

        public IStickTableReplica Create(LoadBalancerRuntime runtime, PersistenceType type, StickTable table)
        {
            var replica = new FakeReplica(type);
            Created.Add(replica);
            return replica;
        }
    }

    private sealed class FakeReplica(PersistenceType type) : IStickTableReplica
    {
        public PersistenceType Type { get; } = type;

        public Dictionary<UInt128, int> Store { get; } = [];

        public bool Away { get; set; }

        public bool Disposed { get; private set; }

        public List<(UInt128, int)> Published { get; } = [];

        public List<(UInt128, int)> Overwritten { get; } = [];

        public List<(UInt128, int)> Refreshed { get; } = [];

        public List<UInt128> Removed { get; } = [];

        public List<(int, long)> Unpinned { get; } = [];

        public void Publish(UInt128 key, int nodeId) => Published.Add((key, nodeId));

        public void Overwrite(UInt128 key, int nodeId) => Overwritten.Add((key, nodeId));

        public void Refresh(UInt128 key, int nodeId) => Refreshed.Add((key, nodeId));

        public void Remove(UInt128 key) => Removed.Add(key);

        public void UnpinNode(int nodeId, long unixSeconds) => Unpinned.Add((nodeId, unixSeconds));

        public ValueTask<int> FetchAsync(UInt128 key, CancellationToken cancellationToken) =>
            ValueTask.FromResult(!Away && Store.TryGetValue(key, out var node) ? node : 0);

        public void Dispose() => Disposed = true;
    }
}
