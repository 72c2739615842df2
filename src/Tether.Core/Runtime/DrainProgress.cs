using System.Globalization;
using Tether.Core.Health;
using Tether.Core.Model;

namespace Tether.Core.Runtime;

/// <summary>
/// Drain progress of one load balancer (issue 13): while a node is DRAINING, checks once every
/// <see cref="CheckInterval"/> whether it still holds anything — persisted sessions (the stick table: SOURCE_IP and
/// APP_COOKIE pins, the HTTP_COOKIE session view) or active connections (requests in flight on HTTP, open connections
/// or flows at layer 4) — and when both are zero records one <see cref="NodeEventKind.Drained"/> event in the node
/// events (<c>GET .../nodes/events</c>), once per drain.
/// </summary>
/// <remarks>Nothing here runs per request. The timer of the <see cref="TimeProvider"/> runs only while a DRAINING
/// node has not drained; the stick table is walked only when such a node has no active connection. A node that
/// leaves DRAINING and drains again later is reported again.</remarks>
public sealed class DrainProgress
{
    /// <summary>How often a draining node is checked: every second.</summary>
    public static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(1);

    private readonly TimeProvider _time;
    private readonly Func<LoadBalancerSnapshot> _current;
    private readonly Func<Dictionary<int, int>> _countSessions;
    private readonly NodeEventLog _events;
    private readonly Lock _lock = new();
    private readonly Dictionary<int, DateTimeOffset?> _drained = [];
    private ITimer? _timer;
    private bool _stopped;

    /// <summary>Creates the drain progress of one load balancer.</summary>
    /// <param name="time">The clock and the timers (a fake one in tests).</param>
    /// <param name="current">Reads the snapshot the data plane uses now.</param>
    /// <param name="countSessions">Counts the live persisted sessions per node id.</param>
    /// <param name="events">Where the <c>drained</c> events go.</param>
    public DrainProgress(TimeProvider time, Func<LoadBalancerSnapshot> current, Func<Dictionary<int, int>> countSessions, NodeEventLog events)
    {
        _time = time;
        _current = current;
        _countSessions = countSessions;
        _events = events;
    }

    /// <summary>True when DRAINING node <paramref name="nodeId"/> has drained (its event was recorded).</summary>
    public bool IsDrained(int nodeId)
    {
        lock (_lock)
        {
            return _drained.ContainsKey(nodeId);
        }
    }

    /// <summary>Stops the check timer for good (the load balancer is gone); later snapshots start none.</summary>
    public void Stop()
    {
        lock (_lock)
        {
            _stopped = true;
            _timer?.Dispose();
            _timer = null;
        }
    }

    /// <summary>Called after a snapshot is published: runs the check timer while a DRAINING node has not drained.</summary>
    public void OnPublish(LoadBalancerSnapshot snapshot)
    {
        lock (_lock)
        {
            Forget(snapshot);
            if (Pending(snapshot) > 0 && _timer is null && !_stopped)
            {
                _timer = _time.CreateTimer(_ => Check(), null, CheckInterval, CheckInterval);
            }
        }
    }

    /// <summary>Checks every DRAINING node that has not drained yet and records the <c>drained</c> events; stops the
    /// timer when none is left. Run by the timer; public for tests.</summary>
    /// <returns>The events recorded by this check.</returns>
    public List<NodeStatusEvent> Check()
    {
        var recorded = new List<NodeStatusEvent>();
        lock (_lock)
        {
            var snapshot = _current();
            Forget(snapshot);
            Dictionary<int, int>? sessions = null;
            foreach (var node in snapshot.Nodes)
            {
                if (node.Condition != NodeCondition.Draining || _drained.ContainsKey(node.Id) || node.Counters.Active != 0)
                {
                    continue;
                }

                sessions ??= _countSessions();
                if (sessions.GetValueOrDefault(node.Id) != 0)
                {
                    continue;
                }

                var now = _time.GetUtcNow();
                var since = node.Config.DrainingSince;
                var message = since is { } s
                    ? string.Create(CultureInfo.InvariantCulture, $"Node drained: no persisted session and no active connection left, {(long)(now - s).TotalSeconds} s after it became DRAINING")
                    : "Node drained: no persisted session and no active connection left";
                recorded.Add(_events.Add(node.Id, node.IsOnline ? NodeStatus.Online : NodeStatus.Offline, message, now, NodeEventKind.Drained));
                _drained[node.Id] = since;
            }

            if (Pending(snapshot) == 0)
            {
                _timer?.Dispose();
                _timer = null;
            }
        }

        return recorded;
    }

    /// <summary>Forgets the drains of nodes that are no longer DRAINING, or were drained again since.</summary>
    private void Forget(LoadBalancerSnapshot snapshot)
    {
        foreach (var (id, since) in _drained.ToArray())
        {
            if (snapshot.FindNode(id) is not { Condition: NodeCondition.Draining } node || node.Config.DrainingSince != since)
            {
                _drained.Remove(id);
            }
        }
    }

    private int Pending(LoadBalancerSnapshot snapshot)
    {
        var pending = 0;
        foreach (var node in snapshot.Nodes)
        {
            if (node.Condition == NodeCondition.Draining && !_drained.ContainsKey(node.Id))
            {
                pending++;
            }
        }

        return pending;
    }
}
