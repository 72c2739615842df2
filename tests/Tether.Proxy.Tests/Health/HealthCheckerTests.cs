using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Tether.Core.LoadBalancing;
using Tether.Core.Model;
using Tether.Core.Runtime;
using Tether.Core.SessionPersistence;
using Tether.Proxy.Health;

namespace Tether.Proxy.Tests.Health;

/// <summary>The checker's rules on a fake clock with a scripted probe: attempts in a row, one success, spreading across
/// the delay, the shared bound on concurrent probes, timeouts, and stopping.</summary>
public sealed class HealthCheckerTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(T0);

    [Fact]
    public async Task Run_FailuresInARow_OfflineOnlyAtAttemptsThenOnlineAfterOneSuccess()
    {
        var runtime = Runtime(3, Monitor(delay: 1, attempts: 3));
        var probe = new ScriptedProbe(_time);
        probe.Fail(2);
        await using var checker = Start(runtime, probe, new SemaphoreSlim(8));

        await RoundAsync(probe, 1, 1);
        await RoundAsync(probe, 2, 1);
        Assert.True(runtime.Snapshot.FindNode(2)!.IsOnline);
        probe.Pass(2);
        await RoundAsync(probe, 3, 1);
        probe.Fail(2);
        await RoundAsync(probe, 4, 1);
        await RoundAsync(probe, 5, 1);
        Assert.True(runtime.Snapshot.FindNode(2)!.IsOnline);
        await RoundAsync(probe, 6, 1);

        await Eventually(() => !runtime.Snapshot.FindNode(2)!.IsOnline);
        Assert.True(runtime.Snapshot.FindNode(1)!.IsOnline);
        Assert.True(runtime.Snapshot.FindNode(3)!.IsOnline);

        probe.Pass(2);
        await RoundAsync(probe, 7, 1);
        await Eventually(() => runtime.Snapshot.FindNode(2)!.IsOnline);
        Assert.Equal([NodeStatus.Offline, NodeStatus.Online], runtime.NodeEvents.Snapshot().Select(e => e.Status));
        Assert.Equal("scripted failure", runtime.NodeEvents.Snapshot()[0].DetailedMessage);
    }

    [Fact]
    public async Task Run_FourNodes_ProbesAreSpreadEvenlyAcrossTheDelay()
    {
        var runtime = Runtime(4, Monitor(delay: 4, attempts: 1));
        var probe = new ScriptedProbe(_time);
        await using var checker = Start(runtime, probe, new SemaphoreSlim(8));

        await AdvanceUntilAsync(() => probe.Starts.Count >= 8, TimeSpan.FromSeconds(8));

        var offsets = probe.Starts.OrderBy(s => s.At).Take(8).Select(s => (s.At - T0).TotalSeconds).ToArray();
        Assert.Equal([0, 1, 2, 3, 4, 5, 6, 7], offsets.Select(o => Math.Round(o)));
        Assert.All(offsets, o => Assert.True(Math.Abs(o - Math.Round(o)) <= 0.2, $"offset {o}"));
        Assert.Equal([1, 2, 3, 4, 1, 2, 3, 4], probe.Starts.OrderBy(s => s.At).Take(8).Select(s => s.NodeId));
    }

    [Fact]
    public async Task Run_SharedSemaphore_BoundsConcurrentProbesAcrossCheckers()
    {
        var slots = new SemaphoreSlim(2);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var probe = new ScriptedProbe(_time) { Gate = gate.Task };
        var first = Runtime(3, Monitor(delay: 1, attempts: 1, timeout: 300));
        var second = Runtime(3, Monitor(delay: 1, attempts: 1, timeout: 300), id: 8);
        await using var a = Start(first, probe, slots);
        await using var b = Start(second, probe, slots);

        await AdvanceUntilAsync(() => probe.Starts.Count >= 2, TimeSpan.FromSeconds(1));
        await Task.Delay(100);

        Assert.Equal(2, probe.Starts.Count);
        Assert.Equal(2, probe.MaxConcurrent);
        gate.SetResult();
        await AdvanceUntilAsync(() => probe.Starts.Count >= 6, TimeSpan.FromSeconds(2));
        Assert.Equal(2, probe.MaxConcurrent);
    }

    [Fact]
    public async Task Run_ProbeLongerThanTimeout_FailsAsTimedOut()
    {
        var runtime = Runtime(1, Monitor(delay: 10, attempts: 1, timeout: 2));
        var hang = new TaskCompletionSource();
        var probe = new ScriptedProbe(_time) { Gate = hang.Task };
        await using var checker = Start(runtime, probe, new SemaphoreSlim(8));
        await Eventually(() => probe.Starts.Count == 1);

        _time.Advance(TimeSpan.FromSeconds(2));

        await Eventually(() => !runtime.Snapshot.FindNode(1)!.IsOnline);
        Assert.Equal("Timed out after 2 s", runtime.NodeEvents.Snapshot()[0].DetailedMessage);
    }

    [Fact]
    public async Task Run_NodeStillBeingProbed_IsSkippedInTheNextRound()
    {
        var runtime = Runtime(1, Monitor(delay: 1, attempts: 1, timeout: 300));
        var hang = new TaskCompletionSource();
        var probe = new ScriptedProbe(_time) { Gate = hang.Task };
        await using var checker = Start(runtime, probe, new SemaphoreSlim(8));
        await Eventually(() => probe.Starts.Count == 1);

        for (var i = 0; i < 5; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(20);
        }

        Assert.Single(probe.Starts);
        Assert.Equal(1, probe.MaxConcurrent);
    }

    [Fact]
    public async Task Dispose_ProbeInFlight_WaitsForItAndChangesNothingAfter()
    {
        var runtime = Runtime(1, Monitor(delay: 10, attempts: 1, timeout: 300));
        var probe = new ScriptedProbe(_time) { Gate = new TaskCompletionSource().Task };
        probe.Fail(1);
        var checker = Start(runtime, probe, new SemaphoreSlim(8));
        await Eventually(() => probe.Starts.Count == 1);

        await checker.DisposeAsync();

        Assert.True(probe.Cancelled);
        _time.Advance(TimeSpan.FromSeconds(30));
        await Task.Delay(50);
        Assert.True(runtime.Snapshot.FindNode(1)!.IsOnline);
        Assert.Single(probe.Starts);
    }

    [Fact]
    public async Task Run_NodeAddedAndRemoved_FollowsTheRuntime()
    {
        var config = Config(2, Monitor(delay: 2, attempts: 1));
        var runtime = new LoadBalancerRuntime(config, new CookieKeyRing([new CookieKey(1, new byte[32])]), _time, new SeededRandomSource(1));
        var probe = new ScriptedProbe(_time);
        await using var checker = Start(runtime, probe, new SemaphoreSlim(8));
        await AdvanceUntilAsync(() => probe.Starts.Count >= 2, TimeSpan.FromSeconds(2));

        runtime.Apply(config with { Nodes = [config.Nodes[1], Node(3)] });
        await AdvanceUntilAsync(() => probe.Starts.Count >= 4, TimeSpan.FromSeconds(4));

        Assert.Equal([2, 3], probe.Starts.Skip(2).Take(2).Select(s => s.NodeId).Order());
    }

    [Fact]
    public async Task Run_ProbeThrows_CountsAsAFailureWithItsMessage()
    {
        var runtime = Runtime(1, Monitor(delay: 10, attempts: 1));
        var probe = new ScriptedProbe(_time) { Throws = new InvalidOperationException("probe broke") };
        await using var checker = Start(runtime, probe, new SemaphoreSlim(8));

        await Eventually(() => !runtime.Snapshot.FindNode(1)!.IsOnline);

        Assert.Equal("probe broke", runtime.NodeEvents.Snapshot()[0].DetailedMessage);
    }

    [Fact]
    public async Task Run_NodeOfflineWhenTheCheckerStarts_StaysOfflineUntilOnePass()
    {
        var runtime = Runtime(1, Monitor(delay: 1, attempts: 3));
        runtime.SetNodeStatus(1, NodeStatus.Offline, "earlier monitor");
        var probe = new ScriptedProbe(_time);
        probe.Fail(1);
        await using var checker = Start(runtime, probe, new SemaphoreSlim(8));

        await AdvanceUntilAsync(() => probe.Completed >= 2, TimeSpan.FromSeconds(2));
        Assert.False(runtime.Snapshot.FindNode(1)!.IsOnline);
        Assert.Single(runtime.NodeEvents.Snapshot());

        probe.Pass(1);
        await AdvanceUntilAsync(() => runtime.Snapshot.FindNode(1)!.IsOnline, TimeSpan.FromSeconds(2));
        Assert.Equal([NodeStatus.Offline, NodeStatus.Online], runtime.NodeEvents.Snapshot().Select(e => e.Status));
    }

    [Fact]
    public async Task Run_DisabledAndDrainingNodes_AreProbedToo()
    {
        var config = Config(3, Monitor(delay: 3, attempts: 1));
        config = config with
        {
            Nodes = [config.Nodes[0], config.Nodes[1] with { Condition = NodeCondition.Disabled }, config.Nodes[2] with { Condition = NodeCondition.Draining }],
        };
        var runtime = new LoadBalancerRuntime(config, new CookieKeyRing([new CookieKey(1, new byte[32])]), _time, new SeededRandomSource(1));
        var probe = new ScriptedProbe(_time);
        await using var checker = Start(runtime, probe, new SemaphoreSlim(8));

        await AdvanceUntilAsync(() => probe.Starts.Count >= 3, TimeSpan.FromSeconds(3));

        Assert.Equal([1, 2, 3], probe.Starts.Take(3).Select(s => s.NodeId).Order());
    }

    private static HealthMonitorConfig Monitor(int delay, int attempts, int timeout = 1) => new()
    {
        Type = HealthMonitorType.Connect,
        DelaySeconds = delay,
        TimeoutSeconds = timeout,
        AttemptsBeforeDeactivation = attempts,
    };

    private static NodeConfig Node(int id) => new() { Id = id, Address = $"10.0.0.{id}", Port = 80 };

    private static LoadBalancerConfig Config(int nodes, HealthMonitorConfig monitor, int id = 7) => new()
    {
        Id = id,
        AccountId = 1,
        Name = "lb",
        Protocol = Protocols.Http,
        Port = 80,
        Created = T0,
        Updated = T0,
        Nodes = [.. Enumerable.Range(1, nodes).Select(Node)],
        HealthMonitor = monitor,
    };

    private LoadBalancerRuntime Runtime(int nodes, HealthMonitorConfig monitor, int id = 7) =>
        new(Config(nodes, monitor, id), new CookieKeyRing([new CookieKey(1, new byte[32])]), _time, new SeededRandomSource(1));

    private HealthChecker Start(LoadBalancerRuntime runtime, IHealthProbe probe, SemaphoreSlim slots) =>
        new(runtime, runtime.Snapshot.Config.HealthMonitor!, probe, slots, _time, NullLogger.Instance);

    /// <summary>Advances the fake clock to the end of round <paramref name="round"/> (rounds start every
    /// <paramref name="delay"/> seconds, the first at 0) once its probes ran.</summary>
    private async Task RoundAsync(ScriptedProbe probe, int round, int delay)
    {
        var nodes = 3;
        await AdvanceUntilAsync(() => probe.Completed >= round * nodes, TimeSpan.FromSeconds(delay));
        await Task.Delay(20);
    }

    /// <summary>Moves the fake clock forward in 50 ms steps, letting real work run between steps, until
    /// <paramref name="condition"/> holds; fails when it still does not after <paramref name="most"/> of fake time
    /// plus a margin.</summary>
    private async Task AdvanceUntilAsync(Func<bool> condition, TimeSpan most)
    {
        var step = TimeSpan.FromMilliseconds(50);
        var moved = TimeSpan.Zero;
        var real = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(moved <= most + TimeSpan.FromSeconds(1) && real.Elapsed < TimeSpan.FromSeconds(10), $"condition not met after {moved} of fake time");
            await Task.Delay(5);
            if (condition())
            {
                break;
            }

            _time.Advance(step);
            moved += step;
        }
    }

    private static async Task Eventually(Func<bool> condition)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), "condition not met within 5 s");
            await Task.Delay(5);
        }
    }

    /// <summary>A probe whose answer per node the test sets; it records starts (fake time) and concurrency, and can
    /// hold every probe on <see cref="Gate"/> until the token is cancelled.</summary>
    private sealed class ScriptedProbe(TimeProvider time) : IHealthProbe
    {
        private readonly ConcurrentDictionary<int, bool> _failing = new();
        private int _running;
        private int _maxConcurrent;
        private int _completed;

        public Task? Gate { get; init; }

        /// <summary>When set, every probe throws it (after the gate).</summary>
        public Exception? Throws { get; init; }

        public ConcurrentQueue<(int NodeId, DateTimeOffset At)> Starts { get; } = new();

        public int MaxConcurrent => Volatile.Read(ref _maxConcurrent);

        public int Completed => Volatile.Read(ref _completed);

        public bool Cancelled { get; private set; }

        public void Fail(int nodeId) => _failing[nodeId] = true;

        public void Pass(int nodeId) => _failing.TryRemove(nodeId, out _);

        public async ValueTask<ProbeResult> ProbeAsync(NodeState node, CancellationToken cancellationToken)
        {
            Starts.Enqueue((node.Id, time.GetUtcNow()));
            var running = Interlocked.Increment(ref _running);
            int max;
            while (running > (max = Volatile.Read(ref _maxConcurrent)) && Interlocked.CompareExchange(ref _maxConcurrent, running, max) != max)
            {
            }

            try
            {
                if (Gate is not null)
                {
                    try
                    {
                        await Gate.WaitAsync(cancellationToken);
                    }
                    catch (OperationCanceledException)
                    {
                        Cancelled = true;
                        throw;
                    }
                }

                if (Throws is not null)
                {
                    throw Throws;
                }

                return _failing.ContainsKey(node.Id) ? ProbeResult.Fail("scripted failure") : ProbeResult.Pass();
            }
            finally
            {
                Interlocked.Decrement(ref _running);
                Interlocked.Increment(ref _completed);
            }
        }
    }
}
