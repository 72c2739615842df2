using Microsoft.Extensions.Time.Testing;
using Tether.Core.LoadBalancing;
using Tether.Core.Model;
using Tether.Core.Runtime;
using Tether.Core.SessionPersistence;
using static Tether.Core.Tests.TestConfigs;

namespace Tether.Core.Tests.Runtime;

/// <summary>Slow start (issue 13; <see cref="SlowStart"/>): a node that starts taking new traffic ramps its effective
/// weight from 1/20 to 20/20 over <c>slowStartSeconds</c>, recomputed on a timer, never per request.</summary>
public sealed class SlowStartTests
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
    public void Apply_NodeEnabled_StepGrowsByATwentiethPerSecondAndEndsAfterSlowStartSeconds()
    {
        var config = LoadBalancer(Node(1), Node(2), Node(3, condition: NodeCondition.Disabled))
            .WithAlgorithm(AlgorithmNames.RoundRobin) with
        { SlowStartSeconds = 20 };
        var runtime = Create(config);

        runtime.Apply(Enable(config, 3));

        var steps = new List<int>();
        for (var second = 0; second <= 20; second++)
        {
            steps.Add(runtime.SlowStart.StepOf(3));
            _clock.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 20], steps);
        Assert.Equal(20, runtime.SlowStart.StepOf(1));
        Assert.False(runtime.SlowStart.IsRamping);
        Assert.Null(runtime.Snapshot.Primary.SlowStart);
    }

    [Theory]
    [InlineData(AlgorithmNames.RoundRobin)]
    [InlineData(AlgorithmNames.WeightedRoundRobin)]
    public void Select_DuringTheRamp_NewNodeShareFollowsItsEffectiveWeight(string algorithm)
    {
        var config = LoadBalancer(Node(1), Node(2), Node(3, condition: NodeCondition.Disabled))
            .WithAlgorithm(algorithm) with
        { SlowStartSeconds = 20 };
        var runtime = Create(config);
        runtime.Apply(Enable(config, 3));

        for (var second = 0; second < 20; second++)
        {
            // Any window of one schedule period holds each node's slots once: exact shares.
            var period = runtime.Snapshot.Primary.SlowStart!.Schedule.Length;
            var toNew = Enumerable.Range(0, period * 7).Count(_ => runtime.Select([], default).Node!.Id == 3);
            var k = second + 1;
            Assert.Equal((double)k / (40 + k), (double)toNew / (period * 7), 9);
            _clock.Advance(TimeSpan.FromSeconds(1));
        }

        // Ramp over: one third each, as before slow start.
        var after = Enumerable.Range(0, 300).Count(_ => runtime.Select([], default).Node!.Id == 3);
        Assert.Equal(100, after);
    }

    [Fact]
    public void Apply_WeightedAlgorithm_EffectiveWeightIsTheNodesWeightTimesTheStep()
    {
        var config = LoadBalancer(Node(1, weight: 3), Node(2, weight: 5, condition: NodeCondition.Draining))
            .WithAlgorithm(AlgorithmNames.WeightedLeastConnections) with
        { SlowStartSeconds = 40 };
        var runtime = Create(config);

        runtime.Apply(Enable(config, 2));
        var atStart = runtime.Snapshot.Primary.SlowStart!.Weights;
        _clock.Advance(TimeSpan.FromSeconds(10));
        var after10 = runtime.Snapshot.Primary.SlowStart!.Weights;

        Assert.Equal([60, 5], atStart);
        Assert.Equal([60, 30], after10);
    }

    [Fact]
    public void Select_LeastConnectionsDuringTheRamp_NewNodeLoadCountsByItsEffectiveWeight()
    {
        var config = LoadBalancer(Node(1), Node(2, condition: NodeCondition.Disabled))
            .WithAlgorithm(AlgorithmNames.LeastConnections) with
        { SlowStartSeconds = 20 };
        var runtime = Create(config);
        runtime.Apply(Enable(config, 2));
        var old = runtime.Snapshot.FindNode(1)!;
        for (var i = 0; i < 10; i++)
        {
            old.Counters.OnStart();
        }

        // Step 1: the new node weighs 1/20 of the old one: (0+1)/1 > (10+1)/20, so the old node still wins.
        Assert.Equal(1, runtime.Select([], default).Node!.Id);

        // Step 11: (0+1)/11 < (10+1)/20.
        _clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(2, runtime.Select([], default).Node!.Id);
    }

    [Fact]
    public void SetNodeStatus_BackOnline_RampsAndOfflineStopsTheRamp()
    {
        var config = LoadBalancer(Node(1), Node(2)) with { HealthMonitor = Monitor, SlowStartSeconds = 10, Algorithm = AlgorithmNames.RoundRobin };
        var runtime = Create(config);
        runtime.SetNodeStatus(2, NodeStatus.Offline, "Connection refused");
        Assert.False(runtime.SlowStart.IsRamping);

        runtime.SetNodeStatus(2, NodeStatus.Online, "Node is working");
        Assert.Equal(1, runtime.SlowStart.StepOf(2));
        _clock.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(11, runtime.SlowStart.StepOf(2));

        runtime.SetNodeStatus(2, NodeStatus.Offline, "Connection refused");
        Assert.False(runtime.SlowStart.IsRamping);
        Assert.Null(runtime.Snapshot.Primary.SlowStart);
    }

    [Fact]
    public void Apply_NodeAdded_RampsButTheNodesOfANewLoadBalancerDoNot()
    {
        var config = LoadBalancer(Node(1), Node(2)) with { SlowStartSeconds = 30 };
        var runtime = Create(config);
        Assert.False(runtime.SlowStart.IsRamping);

        runtime.Apply(config with { Nodes = [.. config.Nodes, Node(3)] });

        Assert.True(runtime.SlowStart.IsRamping);
        Assert.Equal(1, runtime.SlowStart.StepOf(3));
        Assert.Equal(20, runtime.SlowStart.StepOf(1));
        Assert.Equal(Start.AddSeconds(30), runtime.SlowStart.RampEnd(3));
    }

    [Fact]
    public void Apply_SlowStartOff_NodeEnabledTakesItsFullShareAtOnce()
    {
        var config = LoadBalancer(Node(1), Node(2, condition: NodeCondition.Disabled)).WithAlgorithm(AlgorithmNames.RoundRobin);
        var runtime = Create(config);

        runtime.Apply(Enable(config, 2));

        Assert.False(runtime.SlowStart.IsRamping);
        Assert.Null(runtime.Snapshot.Primary.SlowStart);
        Assert.Equal(50, Enumerable.Range(0, 100).Count(_ => runtime.Select([], default).Node!.Id == 2));
    }

    [Fact]
    public void Apply_SlowStartTurnedOffMidRamp_RampStops()
    {
        var config = LoadBalancer(Node(1), Node(2, condition: NodeCondition.Disabled)) with { SlowStartSeconds = 60 };
        var runtime = Create(config);
        runtime.Apply(Enable(config, 2));
        Assert.True(runtime.SlowStart.IsRamping);

        runtime.Apply(Enable(config, 2) with { SlowStartSeconds = 0 });

        Assert.False(runtime.SlowStart.IsRamping);
        Assert.Null(runtime.Snapshot.Primary.SlowStart);
    }

    [Fact]
    public void Select_RandomDuringTheRamp_NewNodeShareIsNearItsEffectiveWeight()
    {
        var config = LoadBalancer(Node(1), Node(2, condition: NodeCondition.Disabled)) with { SlowStartSeconds = 20 };
        var runtime = Create(config);
        runtime.Apply(Enable(config, 2));
        _clock.Advance(TimeSpan.FromSeconds(4)); // step 5: 5 / (20 + 5) = 20 %

        var toNew = Enumerable.Range(0, 10_000).Count(_ => runtime.Select([], default).Node!.Id == 2);

        Assert.InRange(toNew, 1_800, 2_200);
    }

    [Fact]
    public void Select_SourceIpDuringTheRamp_MaglevEntriesAndNewClientsFollowTheStepAndPinsStay()
    {
        var config = LoadBalancer(Node(1), Node(2)).WithSourceIp(timeoutSeconds: 3600) with { SlowStartSeconds = 20 };
        var runtime = Create(config);
        var pinned = Enumerable.Range(0, 300).ToDictionary(i => i, i => runtime.Select([], ClientKey(i)).Node!.Id);

        runtime.Apply(config with { Nodes = [.. config.Nodes, Node(3)] });
        var atStart = runtime.Snapshot.Maglev!.CountEntries().GetValueOrDefault(3);
        var newAtStart = Enumerable.Range(1000, 4000).Count(i => runtime.Select([], ClientKey(i)).Node!.Id == 3);
        _clock.Advance(TimeSpan.FromSeconds(9)); // step 10: 10 / (40 + 10) = 20 %
        var midway = runtime.Snapshot.Maglev!.CountEntries().GetValueOrDefault(3);
        var newMidway = Enumerable.Range(10_000, 4000).Count(i => runtime.Select([], ClientKey(i)).Node!.Id == 3);
        _clock.Advance(TimeSpan.FromSeconds(11));
        var after = runtime.Snapshot.Maglev!.CountEntries().GetValueOrDefault(3);

        Assert.InRange(atStart / (double)MaglevTable.DefaultSize, 0.02, 0.03);   // 1/41
        Assert.InRange(newAtStart / 4000.0, 0.01, 0.04);
        Assert.InRange(midway / (double)MaglevTable.DefaultSize, 0.19, 0.21);
        Assert.InRange(newMidway / 4000.0, 0.17, 0.23);
        Assert.InRange(after / (double)MaglevTable.DefaultSize, 0.32, 0.34);
        Assert.All(pinned, p => Assert.Equal(p.Value, runtime.Select([], ClientKey(p.Key)).Node!.Id));
    }

    [Fact]
    public void StopTimers_MidRamp_NoMoreSteps()
    {
        var config = LoadBalancer(Node(1), Node(2, condition: NodeCondition.Disabled)) with { SlowStartSeconds = 20 };
        var runtime = Create(config);
        runtime.Apply(Enable(config, 2));

        runtime.StopTimers();
        _clock.Advance(TimeSpan.FromSeconds(5));

        Assert.Equal([20, 1], runtime.Snapshot.Primary.SlowStart!.Weights);
    }

    private static LoadBalancerConfig Enable(LoadBalancerConfig config, int nodeId) =>
        config with { Nodes = [.. config.Nodes.Select(n => n.Id == nodeId ? n with { Condition = NodeCondition.Enabled } : n)] };

    private LoadBalancerRuntime Create(LoadBalancerConfig config) =>
        new(config, Ring(1), _clock, new SeededRandomSource(20250101));
}
