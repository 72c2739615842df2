using Tether.Core.LoadBalancing;
using Tether.Core.Model;
using Tether.Core.SessionPersistence;

namespace Tether.Core.Runtime;

/// <summary>
/// Slow start of one load balancer (<see cref="LoadBalancerConfig.SlowStartSeconds"/>; nginx <c>slow_start</c>,
/// HAProxy <c>slowstart</c>): a node that starts taking new traffic — it comes ONLINE (health monitoring), becomes
/// ENABLED (from DRAINING or DISABLED), or is added ENABLED to a load balancer that already serves — ramps its
/// effective weight up over <c>slowStartSeconds</c>, from 5 % to 100 % in twentieths (see
/// <see cref="SlowStartWeights"/>). The nodes of a new load balancer, and nodes at start-up, do not ramp.
/// </summary>
/// <remarks>
/// Nothing here runs per request. The effective weights of each pool are computed here and published with
/// <see cref="NodePool.SetSlowStart"/> when a snapshot is published (<see cref="OnPublish"/>) and then once per step
/// on a timer of the <see cref="TimeProvider"/>, every <c>max(1 s, slowStartSeconds / 20)</c> as HAProxy's
/// <c>server_warmup</c> task does; the timer runs only while a node ramps. The algorithms read one volatile reference
/// per pick. Granularity: an effective weight lags the exact ramp by at most one step.
/// </remarks>
public sealed class SlowStart
{
    private readonly TimeProvider _time;
    private readonly Func<LoadBalancerSnapshot> _current;
    private readonly Lock _lock = new();
    private readonly Dictionary<int, long> _since = [];
    private ITimer? _timer;
    private TimeSpan _period;
    private bool _stopped;

    /// <summary>Creates the slow start of one load balancer.</summary>
    /// <param name="time">The clock and the timers (a fake one in tests).</param>
    /// <param name="current">Reads the snapshot the data plane uses now (for the timer's steps).</param>
    public SlowStart(TimeProvider time, Func<LoadBalancerSnapshot> current)
    {
        _time = time;
        _current = current;
    }

    /// <summary>Stops the step timer for good (the load balancer is gone); later snapshots start none.</summary>
    public void Stop()
    {
        lock (_lock)
        {
            _stopped = true;
            _timer?.Dispose();
            _timer = null;
        }
    }

    /// <summary>True while at least one node ramps up.</summary>
    public bool IsRamping
    {
        get
        {
            lock (_lock)
            {
                return _since.Count > 0;
            }
        }
    }

    /// <summary>True when <paramref name="node"/> may take new (unpinned) traffic by its configuration and health:
    /// ENABLED and ONLINE (passive health is not a change of state and starts no ramp).</summary>
    public static bool TakesNewTraffic(NodeState node) => node.Condition == NodeCondition.Enabled && node.IsOnline;

    /// <summary>
    /// Called with the runtime's change lock held, before <paramref name="next"/> is published: starts the ramp of
    /// each node that takes new traffic in <paramref name="next"/> and did not in <paramref name="previous"/> (or did
    /// not exist), stops the ramp of nodes that no longer take it, and publishes the effective weights into the
    /// pools of <paramref name="next"/>.
    /// </summary>
    /// <param name="previous">The snapshot published until now, or <c>null</c> for the first one (no node ramps).</param>
    /// <param name="next">The snapshot about to be published.</param>
    public void OnPublish(LoadBalancerSnapshot? previous, LoadBalancerSnapshot next)
    {
        lock (_lock)
        {
            var now = _time.GetTimestamp();
            if (next.Config.SlowStartSeconds <= 0 || previous is null)
            {
                _since.Clear();
            }
            else
            {
                foreach (var node in next.Nodes)
                {
                    if (!TakesNewTraffic(node))
                    {
                        _since.Remove(node.Id);
                    }
                    else if (previous.FindNode(node.Id) is not { } before || !TakesNewTraffic(before))
                    {
                        _since[node.Id] = now;
                    }
                }

                foreach (var id in _since.Keys.ToArray())
                {
                    if (next.FindNode(id) is null)
                    {
                        _since.Remove(id);
                    }
                }
            }

            Install(next, now);
        }
    }

    /// <summary>The step of node <paramref name="nodeId"/> now: 1 to <see cref="SlowStartWeights.Steps"/> − 1 while
    /// it ramps (its effective weight is this many twentieths of its weight), <see cref="SlowStartWeights.Steps"/>
    /// when it does not.</summary>
    public int StepOf(int nodeId)
    {
        lock (_lock)
        {
            var snapshot = _current();
            return _since.TryGetValue(nodeId, out var since)
                ? Step(_time.GetTimestamp() - since, RampTicks(snapshot))
                : SlowStartWeights.Steps;
        }
    }

    /// <summary>When the ramp of node <paramref name="nodeId"/> ends (UTC), or <c>null</c> when it does not ramp.</summary>
    public DateTimeOffset? RampEnd(int nodeId)
    {
        lock (_lock)
        {
            if (!_since.TryGetValue(nodeId, out var since))
            {
                return null;
            }

            var left = since + RampTicks(_current()) - _time.GetTimestamp();
            return _time.GetUtcNow() + TimeSpan.FromSeconds((double)left / _time.TimestampFrequency);
        }
    }

    private long RampTicks(LoadBalancerSnapshot snapshot) => snapshot.Config.SlowStartSeconds * _time.TimestampFrequency;

    /// <summary><c>min(Steps, 1 + floor(Steps × elapsed / ramp))</c>.</summary>
    private static int Step(long elapsed, long ramp) =>
        ramp <= 0 || elapsed >= ramp
            ? SlowStartWeights.Steps
            : (int)Math.Min(SlowStartWeights.Steps, 1 + (SlowStartWeights.Steps * Math.Max(0, elapsed) / ramp));

    private void OnTimer(object? state)
    {
        lock (_lock)
        {
            Install(_current(), _time.GetTimestamp());
        }
    }

    /// <summary>Drops finished ramps, publishes the effective weights into the pools of <paramref name="snapshot"/>,
    /// and runs the step timer while a node still ramps. Called with <see cref="_lock"/> held.</summary>
    private void Install(LoadBalancerSnapshot snapshot, long now)
    {
        var ramp = RampTicks(snapshot);
        foreach (var (id, since) in _since.ToArray())
        {
            if (now - since >= ramp)
            {
                _since.Remove(id);
            }
        }

        var weighted = snapshot.Algorithm.Name is AlgorithmNames.WeightedRoundRobin or AlgorithmNames.WeightedLeastConnections;
        InstallPool(snapshot.Primary, weighted, now, ramp);
        InstallPool(snapshot.Secondary, weighted, now, ramp);
        InstallMaglev(snapshot, now, ramp);

        if (_since.Count == 0 || _stopped)
        {
            _timer?.Dispose();
            _timer = null;
            return;
        }

        // HAProxy's server_warmup: back in 1 s or a twentieth of the ramp, whichever is longer.
        var period = TimeSpan.FromSeconds(Math.Max(1.0, snapshot.Config.SlowStartSeconds / (double)SlowStartWeights.Steps));
        if (_timer is null || period != _period)
        {
            _timer?.Dispose();
            _period = period;
            _timer = _time.CreateTimer(OnTimer, null, period, period);
        }
    }

    /// <summary>SOURCE_IP places a new client by consistent hashing: while a node of the hashed pool ramps, the Maglev
    /// table is rebuilt with the effective weights (each node's weight × its step), so that the ramping node holds
    /// k/20 of its entries. Clients already pinned stay where the stick table says.</summary>
    private void InstallMaglev(LoadBalancerSnapshot snapshot, long now, long ramp)
    {
        if (snapshot.MaglevPool is not { } pool)
        {
            return;
        }

        var nodes = pool.Nodes;
        int[]? weights = null;
        for (var i = 0; i < nodes.Length; i++)
        {
            if (_since.TryGetValue(nodes[i].Id, out var since))
            {
                weights ??= new int[nodes.Length];
                weights[i] = nodes[i].Weight * Step(now - since, ramp);
            }
        }

        if (weights is not null)
        {
            for (var i = 0; i < nodes.Length; i++)
            {
                if (weights[i] == 0)
                {
                    weights[i] = nodes[i].Weight * SlowStartWeights.Steps;
                }
            }
        }

        snapshot.SetSlowStartMaglev(weights is null ? null : MaglevTable.Build(nodes, weights));
    }

    private void InstallPool(NodePool pool, bool weighted, long now, long ramp)
    {
        var nodes = pool.Nodes;
        int[]? weights = null;
        for (var i = 0; i < nodes.Length; i++)
        {
            if (_since.TryGetValue(nodes[i].Id, out var since))
            {
                weights ??= new int[nodes.Length];
                weights[i] = (weighted ? nodes[i].Weight : 1) * Step(now - since, ramp);
            }
        }

        if (weights is null)
        {
            pool.SetSlowStart(null);
            return;
        }

        for (var i = 0; i < nodes.Length; i++)
        {
            if (weights[i] == 0)
            {
                weights[i] = (weighted ? nodes[i].Weight : 1) * SlowStartWeights.Steps;
            }
        }

        pool.SetSlowStart(new SlowStartWeights(weights));
    }
}
