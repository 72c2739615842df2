using Microsoft.Extensions.Logging;
using Tether.Core.LoadBalancing;
using Tether.Core.Model;
using Tether.Core.Runtime;

namespace Tether.Proxy.Health;

/// <summary>
/// The active health monitor of one load balancer, running off the request path until disposed.
/// </summary>
/// <remarks>
/// <para>Every <c>delay</c> seconds a round probes each node the runtime holds now (every condition, so that a node's
/// status is known when it is enabled again). The probes of a round are spread evenly across the delay (node i of n
/// starts i × delay / n after the round), and every probe first takes a slot of the data plane's shared
/// <see cref="SemaphoreSlim"/>, so that at most that many probes run at once over all load balancers. A probe gets
/// <c>timeout</c> seconds once it holds its slot; a node whose previous probe is still running is skipped for that
/// round (no overlapping probes of one node).</para>
/// <para>A node that fails <c>attemptsBeforeDeactivation</c> probes in a row goes OFFLINE; one passing probe brings it
/// back ONLINE (Rackspace). Changes go to <see cref="LoadBalancerRuntime.SetNodeStatus"/>, which rebuilds the
/// snapshot and records the node event; each is logged (<see cref="HealthLog"/>). A node starts from the status the
/// runtime shows, so replacing the monitor keeps OFFLINE nodes OFFLINE until they pass.</para>
/// <para>Time goes through <see cref="TimeProvider"/> (rounds, spreading and probe timeouts), so tests can drive it.
/// <see cref="DisposeAsync"/> stops the rounds and waits for every probe in flight, so that no status change
/// happens after it returns.</para>
/// </remarks>
internal sealed class HealthChecker : IAsyncDisposable
{
    private readonly LoadBalancerRuntime _runtime;
    private readonly IHealthProbe _probe;
    private readonly SemaphoreSlim _slots;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _lock = new();
    private readonly Dictionary<int, NodeHealth> _nodes = [];
    private readonly List<Task> _inFlight = [];
    private readonly Task _loop;
    private int _disposed;

    /// <summary>Starts monitoring <paramref name="runtime"/>'s nodes with <paramref name="monitor"/>.</summary>
    /// <param name="runtime">The load balancer's runtime (its nodes, and where status goes).</param>
    /// <param name="monitor">The monitor's settings.</param>
    /// <param name="probe">The probe matching the monitor's type.</param>
    /// <param name="slots">The data plane's bound on concurrent probes.</param>
    /// <param name="time">The clock.</param>
    /// <param name="logger">Where status changes are logged.</param>
    public HealthChecker(LoadBalancerRuntime runtime, HealthMonitorConfig monitor, IHealthProbe probe, SemaphoreSlim slots,
        TimeProvider time, ILogger logger)
    {
        _runtime = runtime;
        Monitor = monitor;
        _probe = probe;
        _slots = slots;
        _time = time;
        _logger = logger;
        LoadBalancerId = runtime.Snapshot.Id;
        var type = HealthMonitorTypeNames.ToName(monitor.Type);
        HealthLog.MonitorStarted(logger, LoadBalancerId, type, monitor.DelaySeconds, monitor.TimeoutSeconds, monitor.AttemptsBeforeDeactivation);
        _loop = Task.Run(() => RunAsync(_stop.Token));
    }

    /// <summary>The monitor this checker runs.</summary>
    public HealthMonitorConfig Monitor { get; }

    /// <summary>The load balancer id.</summary>
    public int LoadBalancerId { get; }

    /// <summary>Stops the rounds, cancels the probes in flight and waits for them.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        Task[] pending;
        lock (_lock)
        {
            pending = [.. _inFlight];
        }

        await Task.WhenAll(pending).ConfigureAwait(false);
        _stop.Dispose();
        HealthLog.MonitorStopped(_logger, LoadBalancerId);
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            var delay = TimeSpan.FromSeconds(Monitor.DelaySeconds);
            using var timer = new PeriodicTimer(delay, _time);
            do
            {
                var nodes = _runtime.Snapshot.Nodes;
                Forget(nodes);
                var step = delay / Math.Max(1, nodes.Length);
                for (var i = 0; i < nodes.Length; i++)
                {
                    if (i > 0)
                    {
                        await Task.Delay(step, _time, cancellationToken).ConfigureAwait(false);
                    }

                    // A node whose host name does not resolve is not probed: it has no address (it comes back when
                    // the name resolves, NodeAddressResolver).
                    if (nodes[i].IsResolved)
                    {
                        Launch(nodes[i], cancellationToken);
                    }
                }
            }
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            HealthLog.MonitorFailed(_logger, LoadBalancerId, e);
        }
    }

    /// <summary>Drops the state of nodes the load balancer no longer holds, and finished probe tasks.</summary>
    private void Forget(NodeState[] nodes)
    {
        lock (_lock)
        {
            foreach (var id in _nodes.Keys.ToArray())
            {
                if (Array.FindIndex(nodes, n => n.Id == id) < 0)
                {
                    _nodes.Remove(id);
                }
            }

            _inFlight.RemoveAll(t => t.IsCompleted);
        }
    }

    private void Launch(NodeState node, CancellationToken cancellationToken)
    {
        NodeHealth state;
        lock (_lock)
        {
            if (!_nodes.TryGetValue(node.Id, out state!))
            {
                state = new NodeHealth();
                _nodes[node.Id] = state;
            }

            if (state.Probing)
            {
                return;
            }

            state.Probing = true;
            _inFlight.Add(ProbeAsync(node, state, cancellationToken));
        }
    }

    private async Task ProbeAsync(NodeState node, NodeHealth state, CancellationToken cancellationToken)
    {
        await Task.Yield();
        try
        {
            await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
            ProbeResult result;
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(Monitor.TimeoutSeconds), _time);
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
                try
                {
                    result = await _probe.ProbeAsync(node, linked.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    result = ProbeResult.Fail($"Timed out after {Monitor.TimeoutSeconds} s");
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    result = ProbeResult.Fail(e.Message);
                }
            }
            finally
            {
                _slots.Release();
            }

            Report(node, state, result);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            lock (_lock)
            {
                state.Probing = false;
            }
        }
    }

    /// <summary>Counts the result and changes the node's status when the rule says so.</summary>
    private void Report(NodeState node, NodeHealth state, ProbeResult result)
    {
        var online = _runtime.Snapshot.FindNode(node.Id)?.IsOnline;
        if (online is null)
        {
            return;
        }

        int failures;
        lock (_lock)
        {
            failures = state.Failures = result.Healthy ? 0 : state.Failures + 1;
        }

        if (result.Healthy)
        {
            if (online == false && _runtime.SetNodeStatus(node.Id, NodeStatus.Online, result.Detail) is not null)
            {
                HealthLog.NodeOnline(_logger, LoadBalancerId, node.Id, result.Detail);
            }

            return;
        }

        HealthLog.ProbeFailed(_logger, LoadBalancerId, node.Id, failures, result.Detail);
        if (online == true && failures >= Monitor.AttemptsBeforeDeactivation
            && _runtime.SetNodeStatus(node.Id, NodeStatus.Offline, result.Detail) is not null)
        {
            HealthLog.NodeOffline(_logger, LoadBalancerId, node.Id, node.EndPoint, failures, result.Detail);
        }
    }

    /// <summary>What the checker knows about one node. Guarded by the checker's lock.</summary>
    private sealed class NodeHealth
    {
        /// <summary>Failed probes in a row.</summary>
        public int Failures;

        /// <summary>A probe of the node is in flight.</summary>
        public bool Probing;
    }
}
