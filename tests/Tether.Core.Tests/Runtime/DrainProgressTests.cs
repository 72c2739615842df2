using Microsoft.Extensions.Time.Testing;
using Tether.Core.Health;
using Tether.Core.Model;
using Tether.Core.Runtime;
using static Tether.Core.Tests.TestConfigs;

namespace Tether.Core.Tests.Runtime;

/// <summary>Drain progress (issue 13; <see cref="DrainProgress"/>): a DRAINING node gets one <c>drained</c> node event
/// when it has no persisted session and no active connection left, checked every second on a timer.</summary>
public sealed class DrainProgressTests
{
    private readonly FakeTimeProvider _clock = Clock();

    [Fact]
    public void Drain_SessionAndConnectionLeft_DrainedEventOnlyAfterBothEnd()
    {
        var config = LoadBalancer(Node(1), Node(2)).WithSourceIp(timeoutSeconds: 60);
        var runtime = Create(config);
        var client = ClientKey(1);
        var pinned = runtime.Select([], client).Node!;
        var other = pinned.Id == 1 ? 2 : 1;
        pinned.Counters.OnStart();

        runtime.Apply(Condition(config, pinned.Id, NodeCondition.Draining, Start));
        _clock.Advance(TimeSpan.FromSeconds(5));
        Assert.Empty(Drained(runtime));
        Assert.False(runtime.Drain.IsDrained(pinned.Id));

        pinned.Counters.OnEnd();
        _clock.Advance(TimeSpan.FromSeconds(5));
        Assert.Empty(Drained(runtime)); // the session remains

        _clock.Advance(TimeSpan.FromSeconds(61)); // the session expires
        var drained = Assert.Single(Drained(runtime));
        Assert.Equal(pinned.Id, drained.NodeId);
        Assert.Equal(NodeStatus.Online, drained.Status);
        Assert.Equal(Start.AddSeconds(71), drained.Created);
        Assert.Equal("Node drained: no persisted session and no active connection left, 71 s after it became DRAINING", drained.DetailedMessage);
        Assert.True(runtime.Drain.IsDrained(pinned.Id));
        Assert.False(runtime.Drain.IsDrained(other));

        _clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Single(Drained(runtime)); // once per drain
    }

    [Fact]
    public void Drain_NothingLeft_DrainedWithinOneCheck()
    {
        var config = LoadBalancer(Node(1), Node(2));
        var runtime = Create(config);

        runtime.Apply(Condition(config, 2, NodeCondition.Draining, Start));
        Assert.Empty(Drained(runtime));
        _clock.Advance(DrainProgress.CheckInterval);

        Assert.Equal(2, Assert.Single(Drained(runtime)).NodeId);
    }

    [Fact]
    public void Drain_EnabledAgainThenDrainedAgain_ReportedAgain()
    {
        var config = LoadBalancer(Node(1), Node(2));
        var runtime = Create(config);
        runtime.Apply(Condition(config, 2, NodeCondition.Draining, Start));
        _clock.Advance(TimeSpan.FromSeconds(1));

        runtime.Apply(Condition(config, 2, NodeCondition.Enabled, null));
        Assert.False(runtime.Drain.IsDrained(2));
        runtime.Apply(Condition(config, 2, NodeCondition.Draining, Start.AddSeconds(1)));
        _clock.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(2, Drained(runtime).Count);
    }

    [Fact]
    public void Check_NoDrainingNode_WalksNothingAndRecordsNothing()
    {
        var runtime = Create(LoadBalancer(Node(1)));

        Assert.Empty(runtime.Drain.Check());
        Assert.Empty(runtime.NodeEvents.Snapshot());
    }

    [Fact]
    public void StopTimers_ThenDraining_NoCheckRuns()
    {
        var config = LoadBalancer(Node(1), Node(2));
        var runtime = Create(config);

        runtime.StopTimers();
        runtime.Apply(Condition(config, 2, NodeCondition.Draining, Start));
        _clock.Advance(TimeSpan.FromSeconds(5));

        Assert.Empty(Drained(runtime));
    }

    private static List<NodeStatusEvent> Drained(LoadBalancerRuntime runtime) =>
        [.. runtime.NodeEvents.Snapshot().Where(e => e.Kind == NodeEventKind.Drained)];

    private static LoadBalancerConfig Condition(LoadBalancerConfig config, int nodeId, NodeCondition condition, DateTimeOffset? since) =>
        config with
        {
            Nodes = [.. config.Nodes.Select(n => n.Id == nodeId ? n with { Condition = condition, DrainingSince = since } : n)],
        };

    private LoadBalancerRuntime Create(LoadBalancerConfig config) =>
        new(config, Ring(1), _clock, new SeededRandomSource(20250101));
}
