using Microsoft.Extensions.Time.Testing;
using Tether.Core.LoadBalancing;
using Tether.Core.Model;
using Tether.Core.Runtime;
using static Tether.Core.Tests.TestConfigs;

namespace Tether.Core.Tests.Runtime;

/// <summary><see cref="AttemptPipeline"/>: availability, passive health hold-out, retry once, and Tether's own status —
/// the decisions all four data paths (HTTP fast path, Kestrel/YARP, TCP, UDP) take from it.</summary>
public sealed class AttemptPipelineTests
{
    private const int HoldSeconds = 30;

    private readonly FakeTimeProvider _clock = Clock();

    [Fact]
    public void OnSelected_WithNode_Tries()
    {
        var (runtime, pipeline) = Begin(LoadBalancer(Node(1)));

        Assert.Equal(AttemptStep.Try, pipeline.OnSelected(runtime.Select([], default)));
        Assert.Equal(AttemptFailure.None, pipeline.Failure);
        Assert.False(pipeline.Retrying);
    }

    [Fact]
    public void OnSelected_NoNodeAvailable_Fails503()
    {
        var (runtime, pipeline) = Begin(LoadBalancer(Node(1, condition: NodeCondition.Disabled)));

        var step = pipeline.OnSelected(runtime.Select([], default));

        Assert.Equal(AttemptStep.Fail, step);
        Assert.Equal(AttemptFailure.NoNodeAvailable, pipeline.Failure);
        Assert.Equal(503, pipeline.Status);
        Assert.Null(pipeline.FailedNode);
        Assert.Equal(0, runtime.Statistics.FailedRetries);
    }

    [Fact]
    public void OnSelected_PersistenceRejectedNoFallback_Fails502()
    {
        var (_, pipeline) = Begin(LoadBalancer(Node(1)).WithCookie(disableFallback: true));

        var step = pipeline.OnSelected(new Selection(null, SelectionOutcome.RejectedNoFallback, false));

        Assert.Equal(AttemptStep.Fail, step);
        Assert.Equal(AttemptFailure.PersistenceRejected, pipeline.Failure);
        Assert.Equal(502, pipeline.Status);
    }

    [Theory]
    [InlineData(AttemptFailure.ConnectRefused)]
    [InlineData(AttemptFailure.ConnectFailed)]
    [InlineData(AttemptFailure.ConnectTimeout)]
    public void OnFailure_FirstConnectFailure_HoldsTheNodeOutAndSelectsAgain(AttemptFailure failure)
    {
        var (runtime, pipeline) = Begin(LoadBalancer(Node(1), Node(2)));
        var node = runtime.Snapshot.FindNode(1)!;

        var step = pipeline.OnFailure(node, failure, mayRetry: true);

        Assert.Equal(AttemptStep.SelectAgain, step);
        Assert.True(pipeline.Retrying);
        Assert.Same(node, pipeline.FailedNode);
        Assert.False(node.IsAvailable(_clock.GetTimestamp()));
        Assert.Equal(1, node.Counters.Failures);
        Assert.Equal(failure == AttemptFailure.ConnectTimeout ? 1 : 0, node.Counters.ConnectTimeouts);
        Assert.Equal(failure == AttemptFailure.ConnectTimeout ? 0 : 1, node.Counters.ConnectErrors);
    }

    [Fact]
    public void OnFailure_HoldOut_EndsAfterTheHoldTime()
    {
        var (runtime, pipeline) = Begin(LoadBalancer(Node(1), Node(2)));
        var node = runtime.Snapshot.FindNode(1)!;

        pipeline.OnFailure(node, AttemptFailure.ConnectRefused, mayRetry: true);
        _clock.Advance(TimeSpan.FromSeconds(HoldSeconds - 1));
        var heldOut = !node.IsAvailable(_clock.GetTimestamp());
        _clock.Advance(TimeSpan.FromSeconds(1));

        Assert.True(heldOut);
        Assert.True(node.IsAvailable(_clock.GetTimestamp()));
    }

    [Fact]
    public void OnFailure_Retry_SelectsTheOtherNodeAndSucceeds()
    {
        var (runtime, pipeline) = Begin(LoadBalancer(Node(1), Node(2)).WithAlgorithm(AlgorithmNames.RoundRobin));
        var first = runtime.Select([], default);
        Assert.Equal(AttemptStep.Try, pipeline.OnSelected(first));

        Assert.Equal(AttemptStep.SelectAgain, pipeline.OnFailure(first.Node!, AttemptFailure.ConnectRefused, mayRetry: true));
        var second = runtime.Select([], default);

        Assert.Equal(AttemptStep.Try, pipeline.OnSelected(second));
        Assert.NotSame(first.Node, second.Node);
    }

    [Fact]
    public void OnFailure_SecondConnectFailure_Fails502WithoutAnotherRetry()
    {
        var (runtime, pipeline) = Begin(LoadBalancer(Node(1), Node(2), Node(3)));
        pipeline.OnFailure(runtime.Snapshot.FindNode(1)!, AttemptFailure.ConnectRefused, mayRetry: true);

        var step = pipeline.OnFailure(runtime.Snapshot.FindNode(2)!, AttemptFailure.ConnectTimeout, mayRetry: true);

        Assert.Equal(AttemptStep.Fail, step);
        Assert.Equal(AttemptFailure.ConnectTimeout, pipeline.Failure);
        Assert.Equal(502, pipeline.Status);
        Assert.False(runtime.Snapshot.FindNode(2)!.IsAvailable(_clock.GetTimestamp()));
    }

    [Fact]
    public void OnSelected_NoNodeAfterAFailedAttempt_Fails502WithTheAttemptsFailureAndCountsAFailedRetry()
    {
        var (runtime, pipeline) = Begin(LoadBalancer(Node(1)));
        var node = runtime.Snapshot.FindNode(1)!;
        pipeline.OnFailure(node, AttemptFailure.ConnectRefused, mayRetry: true);

        var step = pipeline.OnSelected(runtime.Select([], default));

        Assert.Equal(AttemptStep.Fail, step);
        Assert.Equal(AttemptFailure.ConnectRefused, pipeline.Failure);
        Assert.Equal(502, pipeline.Status);
        Assert.Same(node, pipeline.FailedNode);
        Assert.Equal(1, runtime.Statistics.FailedRetries);
    }

    [Fact]
    public void OnFailure_FallbackDisabled_Fails502ButStillHoldsTheNodeOut()
    {
        var (runtime, pipeline) = Begin(LoadBalancer(Node(1), Node(2)).WithSourceIp(disableFallback: true));
        var node = runtime.Snapshot.FindNode(1)!;

        var step = pipeline.OnFailure(node, AttemptFailure.ConnectRefused, mayRetry: true);

        Assert.Equal(AttemptStep.Fail, step);
        Assert.Equal(502, pipeline.Status);
        Assert.False(node.IsAvailable(_clock.GetTimestamp()));
    }

    [Fact]
    public void OnFailure_MayNotRetry_Fails502()
    {
        var (runtime, pipeline) = Begin(LoadBalancer(Node(1), Node(2)));

        var step = pipeline.OnFailure(runtime.Snapshot.FindNode(1)!, AttemptFailure.ConnectFailed, mayRetry: false);

        Assert.Equal(AttemptStep.Fail, step);
        Assert.Equal(502, pipeline.Status);
        Assert.False(pipeline.Retrying);
    }

    [Fact]
    public void OnFailure_NodeTimeout_Fails504CountsADataTimeoutAndKeepsTheNodeInRotation()
    {
        var (runtime, pipeline) = Begin(LoadBalancer(Node(1), Node(2)));
        var node = runtime.Snapshot.FindNode(1)!;

        var step = pipeline.OnFailure(node, AttemptFailure.NodeTimeout, mayRetry: true);

        Assert.Equal(AttemptStep.Fail, step);
        Assert.Equal(504, pipeline.Status);
        Assert.Equal(1, node.Counters.DataTimeouts);
        Assert.Equal(0, node.Counters.Failures);
        Assert.True(node.IsAvailable(_clock.GetTimestamp()));
    }

    [Fact]
    public void OnFailure_NodeBroken_Fails502WithoutCountingOrHoldingOut()
    {
        var (runtime, pipeline) = Begin(LoadBalancer(Node(1), Node(2)));
        var node = runtime.Snapshot.FindNode(1)!;

        var step = pipeline.OnFailure(node, AttemptFailure.NodeBroken, mayRetry: true);

        Assert.Equal(AttemptStep.Fail, step);
        Assert.Equal(502, pipeline.Status);
        Assert.Equal(0, node.Counters.DataTimeouts + node.Counters.ConnectErrors + node.Counters.ConnectTimeouts + node.Counters.Failures);
        Assert.True(node.IsAvailable(_clock.GetTimestamp()));
    }

    [Fact]
    public void OnFailure_NoConnection_Fails503AndKeepsTheNodeInRotation()
    {
        var (runtime, pipeline) = Begin(LoadBalancer(Node(1), Node(2)));
        var node = runtime.Snapshot.FindNode(1)!;

        var step = pipeline.OnFailure(node, AttemptFailure.NoConnection, mayRetry: true);

        Assert.Equal(AttemptStep.Fail, step);
        Assert.Equal(503, pipeline.Status);
        Assert.True(node.IsAvailable(_clock.GetTimestamp()));
    }

    [Fact]
    public void OnFailure_PortUnreachable_HoldsTheNodeOutWithoutRetryOrCount()
    {
        var (runtime, pipeline) = Begin(LoadBalancer(Node(1), Node(2)));
        var node = runtime.Snapshot.FindNode(1)!;

        var step = pipeline.OnFailure(node, AttemptFailure.PortUnreachable, mayRetry: true);

        Assert.Equal(AttemptStep.Fail, step);
        Assert.False(node.IsAvailable(_clock.GetTimestamp()));
        Assert.Equal(0, node.Counters.ConnectErrors + node.Counters.ConnectTimeouts);
    }

    [Fact]
    public void OnSuccess_EndsAHoldOutAtOnce()
    {
        var (runtime, pipeline) = Begin(LoadBalancer(Node(1), Node(2)));
        var node = runtime.Snapshot.FindNode(1)!;
        pipeline.OnFailure(node, AttemptFailure.ConnectRefused, mayRetry: false);

        pipeline.OnSuccess(node);

        Assert.True(node.IsAvailable(_clock.GetTimestamp()));
    }

    [Theory]
    [InlineData(AttemptFailure.NoNodeAvailable, 503)]
    [InlineData(AttemptFailure.NoConnection, 503)]
    [InlineData(AttemptFailure.NodeTimeout, 504)]
    [InlineData(AttemptFailure.PersistenceRejected, 502)]
    [InlineData(AttemptFailure.ConnectRefused, 502)]
    [InlineData(AttemptFailure.ConnectFailed, 502)]
    [InlineData(AttemptFailure.ConnectTimeout, 502)]
    [InlineData(AttemptFailure.NodeBroken, 502)]
    public void StatusOf_EachFailure_IsTethersStatus(AttemptFailure failure, int status) =>
        Assert.Equal(status, AttemptPipeline.StatusOf(failure));

    [Fact]
    public void Pipeline_FullRetryCycle_AllocatesNothing()
    {
        var (runtime, _) = Begin(LoadBalancer(Node(1), Node(2)));
        var snapshot = runtime.Snapshot;
        var node = snapshot.FindNode(1)!;
        var other = snapshot.FindNode(2)!;
        var chosen = new Selection(node, SelectionOutcome.Balanced, false);
        Cycle(runtime, snapshot, node, other, chosen); // JIT first

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            Cycle(runtime, snapshot, node, other, chosen);
        }

        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());

        static void Cycle(LoadBalancerRuntime runtime, LoadBalancerSnapshot snapshot, NodeState node, NodeState other, Selection chosen)
        {
            var pipeline = AttemptPipeline.Begin(runtime, snapshot, HoldSeconds);
            pipeline.OnSelected(chosen);
            pipeline.OnFailure(node, AttemptFailure.ConnectRefused, mayRetry: true);
            pipeline.OnSelected(chosen with { Node = other });
            pipeline.OnSuccess(other);
            pipeline.OnSuccess(node);
        }
    }

    private (LoadBalancerRuntime Runtime, AttemptPipeline Pipeline) Begin(LoadBalancerConfig config)
    {
        var runtime = new LoadBalancerRuntime(config, Ring(1), _clock, new SeededRandomSource(20261203));
        return (runtime, AttemptPipeline.Begin(runtime, runtime.Snapshot, HoldSeconds));
    }
}
