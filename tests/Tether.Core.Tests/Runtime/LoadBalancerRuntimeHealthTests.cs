using Microsoft.Extensions.Time.Testing;
using Tether.Core.LoadBalancing;
using Tether.Core.Model;
using Tether.Core.Runtime;
using Tether.Core.SessionPersistence;
using static Tether.Core.Tests.TestConfigs;

namespace Tether.Core.Tests.Runtime;

/// <summary>The health overlay of <see cref="LoadBalancerRuntime"/>: status set by monitoring over the configured one.</summary>
public sealed class LoadBalancerRuntimeHealthTests
{
    private static readonly HealthMonitorConfig Monitor = new()
    {
        Type = HealthMonitorType.Connect,
        DelaySeconds = 1,
        TimeoutSeconds = 1,
        AttemptsBeforeDeactivation = 2,
    };

    private readonly FakeTimeProvider _clock = Clock();

    [Fact]
    public void SetNodeStatus_Offline_NodeGetsNoNewTrafficAndSnapshotShowsIt()
    {
        var runtime = Create(Monitored(Node(1), Node(2), Node(3)).WithAlgorithm(AlgorithmNames.RoundRobin));

        var change = runtime.SetNodeStatus(2, NodeStatus.Offline, "Connection refused");

        Assert.NotNull(change);
        Assert.Equal(2, change.NodeId);
        Assert.Equal(NodeStatus.Offline, change.Status);
        Assert.Equal("Connection refused", change.DetailedMessage);
        Assert.Equal(Start, change.Created);
        Assert.False(runtime.Snapshot.FindNode(2)!.IsOnline);
        Assert.Equal(NodeStatus.Offline, runtime.Snapshot.Config.Nodes[1].Status);
        var ids = Enumerable.Range(0, 30).Select(_ => runtime.Select([], default).Node!.Id).ToList();
        Assert.DoesNotContain(2, ids);
        Assert.Contains(1, ids);
        Assert.Contains(3, ids);
        Assert.Equal([change], runtime.NodeEvents.Snapshot());
    }

    [Fact]
    public void SetNodeStatus_BackOnline_NodeRejoinsRotation()
    {
        var runtime = Create(Monitored(Node(1), Node(2)).WithAlgorithm(AlgorithmNames.RoundRobin));
        runtime.SetNodeStatus(2, NodeStatus.Offline, "Connection refused");

        var change = runtime.SetNodeStatus(2, NodeStatus.Online, "Node is working");

        Assert.NotNull(change);
        Assert.True(runtime.Snapshot.FindNode(2)!.IsOnline);
        Assert.Contains(2, Enumerable.Range(0, 4).Select(_ => runtime.Select([], default).Node!.Id));
        Assert.Equal([NodeStatus.Offline, NodeStatus.Online], runtime.NodeEvents.Snapshot().Select(e => e.Status));
    }

    [Fact]
    public void SetNodeStatus_Unchanged_ReturnsNullAndKeepsTheSnapshot()
    {
        var runtime = Create(Monitored(Node(1), Node(2)));
        var before = runtime.Snapshot;

        Assert.Null(runtime.SetNodeStatus(1, NodeStatus.Online, "Node is working"));
        runtime.SetNodeStatus(2, NodeStatus.Offline, "x");
        var offline = runtime.Snapshot;
        Assert.Null(runtime.SetNodeStatus(2, NodeStatus.Offline, "x"));

        Assert.NotSame(before, offline);
        Assert.Same(offline, runtime.Snapshot);
        Assert.Single(runtime.NodeEvents.Snapshot());
    }

    [Fact]
    public void SetNodeStatus_WithoutMonitor_IsIgnored()
    {
        var runtime = Create(LoadBalancer(Node(1), Node(2)));

        Assert.Null(runtime.SetNodeStatus(2, NodeStatus.Offline, "x"));

        Assert.True(runtime.Snapshot.FindNode(2)!.IsOnline);
        Assert.Empty(runtime.NodeEvents.Snapshot());
    }

    [Fact]
    public void SetNodeStatus_UnknownNode_IsIgnored()
    {
        var runtime = Create(Monitored(Node(1)));

        Assert.Null(runtime.SetNodeStatus(99, NodeStatus.Offline, "x"));
        Assert.Empty(runtime.NodeEvents.Snapshot());
    }

    [Fact]
    public void SetNodeStatus_KeepsNodeCounters()
    {
        var runtime = Create(Monitored(Node(1), Node(2)));
        var counters = runtime.Snapshot.FindNode(2)!.Counters;

        runtime.SetNodeStatus(2, NodeStatus.Offline, "x");

        Assert.Same(counters, runtime.Snapshot.FindNode(2)!.Counters);
    }

    [Fact]
    public void Apply_NodeRemains_OverlaySurvives()
    {
        var config = Monitored(Node(1), Node(2));
        var runtime = Create(config);
        runtime.SetNodeStatus(2, NodeStatus.Offline, "x");

        var changes = runtime.Apply(config with { Nodes = [Node(1, weight: 5), Node(2, weight: 7), Node(3)] });

        Assert.Empty(changes);
        Assert.False(runtime.Snapshot.FindNode(2)!.IsOnline);
        Assert.Equal(7, runtime.Snapshot.FindNode(2)!.Weight);
        Assert.True(runtime.Snapshot.FindNode(3)!.IsOnline);
    }

    [Fact]
    public void Apply_MonitorReplaced_OverlaySurvives()
    {
        var config = Monitored(Node(1), Node(2));
        var runtime = Create(config);
        runtime.SetNodeStatus(2, NodeStatus.Offline, "x");

        runtime.Apply(config with { HealthMonitor = Monitor with { DelaySeconds = 5 } });

        Assert.False(runtime.Snapshot.FindNode(2)!.IsOnline);
    }

    [Fact]
    public void Apply_NodeRemoved_OverlayIsForgotten()
    {
        var config = Monitored(Node(1), Node(2));
        var runtime = Create(config);
        runtime.SetNodeStatus(2, NodeStatus.Offline, "x");

        runtime.Apply(config with { Nodes = [Node(1)] });
        runtime.Apply(config);

        Assert.True(runtime.Snapshot.FindNode(2)!.IsOnline);
    }

    [Fact]
    public void Apply_MonitorRemoved_EveryNodeOnlineAgainAndRecorded()
    {
        var config = Monitored(Node(1), Node(2), Node(3));
        var runtime = Create(config);
        runtime.SetNodeStatus(1, NodeStatus.Offline, "x");
        runtime.SetNodeStatus(3, NodeStatus.Offline, "x");

        var changes = runtime.Apply(config with { HealthMonitor = null });

        Assert.Equal([1, 3], changes.Select(c => c.NodeId).Order());
        Assert.All(changes, c => Assert.Equal(NodeStatus.Online, c.Status));
        Assert.All(changes, c => Assert.Equal("Health monitor removed", c.DetailedMessage));
        Assert.All(runtime.Snapshot.Nodes, n => Assert.True(n.IsOnline));
        Assert.Equal(4, runtime.NodeEvents.Snapshot().Count);
        Assert.Null(runtime.SetNodeStatus(2, NodeStatus.Offline, "late probe"));
    }

    [Fact]
    public void Select_CookiePinnedToNodeThatGoesOffline_IsRepinned()
    {
        var runtime = Create(Monitored(Node(1), Node(2)).WithCookie());
        var first = runtime.Select([], default);
        var cookie = CookieValue(runtime.BuildSetCookie(runtime.Snapshot, first.Node!, first.SessionId));

        runtime.SetNodeStatus(first.Node!.Id, NodeStatus.Offline, "x");
        var next = runtime.Select(cookie, default);

        Assert.Equal(SelectionOutcome.Repinned, next.Outcome);
        Assert.NotEqual(first.Node.Id, next.Node!.Id);
        Assert.True(next.IssueCookie);
    }

    [Fact]
    public void Select_CookiePinnedToOfflineNodeWithoutFallback_IsRejectedUntilOnline()
    {
        var runtime = Create(Monitored(Node(1), Node(2)).WithCookie(disableFallback: true));
        var first = runtime.Select([], default);
        var cookie = CookieValue(runtime.BuildSetCookie(runtime.Snapshot, first.Node!, first.SessionId));

        runtime.SetNodeStatus(first.Node!.Id, NodeStatus.Offline, "x");
        var rejected = runtime.Select(cookie, default);
        runtime.SetNodeStatus(first.Node.Id, NodeStatus.Online, "Node is working");
        var back = runtime.Select(cookie, default);

        Assert.Equal(SelectionOutcome.RejectedNoFallback, rejected.Outcome);
        Assert.Equal(SelectionOutcome.Persisted, back.Outcome);
        Assert.Equal(first.Node.Id, back.Node!.Id);
    }

    [Fact]
    public void Select_SourceIp_OfflineNodeLeavesTheMaglevTable()
    {
        var runtime = Create(Monitored(Node(1), Node(2), Node(3)).WithSourceIp());

        runtime.SetNodeStatus(2, NodeStatus.Offline, "x");

        for (var i = 0; i < 200; i++)
        {
            Assert.NotEqual(2, runtime.Snapshot.Maglev!.Lookup(StableHash.Of(ClientKey(i)))!.Id);
            Assert.NotEqual(2, runtime.Select([], ClientKey(i)).Node!.Id);
        }
    }

    [Fact]
    public void Select_OnlyPrimaryOffline_SecondaryTakesOverAndGivesBack()
    {
        var runtime = Create(Monitored(Node(1), Node(2, type: NodeType.Secondary)));

        runtime.SetNodeStatus(1, NodeStatus.Offline, "x");
        var during = Enumerable.Range(0, 10).Select(_ => runtime.Select([], default).Node!.Id).Distinct().ToList();
        runtime.SetNodeStatus(1, NodeStatus.Online, "Node is working");
        var after = Enumerable.Range(0, 10).Select(_ => runtime.Select([], default).Node!.Id).Distinct().ToList();

        Assert.Equal([2], during);
        Assert.Equal([1], after);
    }

    [Fact]
    public void Select_EveryNodeOffline_NoNodeAvailable()
    {
        var runtime = Create(Monitored(Node(1), Node(2, type: NodeType.Secondary)));

        runtime.SetNodeStatus(1, NodeStatus.Offline, "x");
        runtime.SetNodeStatus(2, NodeStatus.Offline, "x");

        Assert.Equal(SelectionOutcome.NoNodeAvailable, runtime.Select([], default).Outcome);
    }

    [Fact]
    public async Task SetNodeStatus_ConcurrentWithApply_EndsConsistent()
    {
        var config = Monitored(Node(1), Node(2), Node(3));
        var runtime = Create(config);

        var flips = Task.Run(() =>
        {
            for (var i = 0; i < 500; i++)
            {
                runtime.SetNodeStatus(2, i % 2 == 0 ? NodeStatus.Offline : NodeStatus.Online, "x");
            }
        });
        var applies = Task.Run(() =>
        {
            for (var i = 0; i < 500; i++)
            {
                runtime.Apply(config with { Nodes = [Node(1), Node(2, weight: 1 + (i % 5)), Node(3)] });
            }
        });
        await Task.WhenAll(flips, applies);

        // The last flip (i = 499) set ONLINE; every event alternates.
        Assert.True(runtime.Snapshot.FindNode(2)!.IsOnline);
        var events = runtime.NodeEvents.Snapshot();
        Assert.Equal(500, events.Count);
        Assert.All(events.Select((e, i) => (e, i)), x => Assert.Equal(x.i % 2 == 0 ? NodeStatus.Offline : NodeStatus.Online, x.e.Status));
    }

    private static LoadBalancerConfig Monitored(params NodeConfig[] nodes) =>
        LoadBalancer(nodes) with { HealthMonitor = Monitor };

    private LoadBalancerRuntime Create(LoadBalancerConfig config) =>
        new(config, Ring(1), _clock, new SeededRandomSource(20250101));
}
