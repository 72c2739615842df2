using Tether.Core.Model;

namespace Tether.Core.Health;

/// <summary>One node status change (Rackspace's node service event, <c>GET .../nodes/events</c>).</summary>
/// <param name="Id">Unique in the process, increasing with time.</param>
/// <param name="NodeId">The node whose status changed.</param>
/// <param name="Status">The new status.</param>
/// <param name="DetailedMessage">Why: the probe's result (for example <c>Connection refused</c>, <c>Node is
/// working</c>) or <c>Health monitor removed</c>.</param>
/// <param name="Created">When the change happened (UTC).</param>
/// <param name="Kind">What happened: a status change (health monitoring), or a DRAINING node drained (issue 13).</param>
public sealed record NodeStatusEvent(long Id, int NodeId, NodeStatus Status, string DetailedMessage, DateTimeOffset Created,
    NodeEventKind Kind = NodeEventKind.StatusChanged);

/// <summary>The kinds of node event.</summary>
public enum NodeEventKind
{
    /// <summary>Health monitoring changed the node's status (<see cref="NodeStatusEvent.Status"/> is the new one).</summary>
    StatusChanged,

    /// <summary>A DRAINING node has no persisted session and no active connection left: it can be taken away
    /// (<see cref="NodeStatusEvent.Status"/> is its status then).</summary>
    Drained,
}

/// <summary>
/// The last <see cref="Capacity"/> node status changes of one load balancer, in memory (they do not survive a restart).
/// Written by health monitoring and read by the API, never on the request path; a small lock guards it.
/// </summary>
public sealed class NodeEventLog
{
    /// <summary>How many events a load balancer keeps by default.</summary>
    public const int DefaultCapacity = 1000;

    private static long s_nextId;
    private readonly NodeStatusEvent[] _ring;
    private readonly Lock _lock = new();
    private int _next;
    private int _count;

    /// <summary>Creates an empty log that keeps the last <paramref name="capacity"/> events.</summary>
    public NodeEventLog(int capacity = DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _ring = new NodeStatusEvent[capacity];
    }

    /// <summary>How many events are kept at most; older ones are dropped.</summary>
    public int Capacity => _ring.Length;

    /// <summary>Records a change and returns the event.</summary>
    public NodeStatusEvent Add(int nodeId, NodeStatus status, string detailedMessage, DateTimeOffset created,
        NodeEventKind kind = NodeEventKind.StatusChanged)
    {
        var entry = new NodeStatusEvent(Interlocked.Increment(ref s_nextId), nodeId, status, detailedMessage, created, kind);
        lock (_lock)
        {
            _ring[_next] = entry;
            _next = (_next + 1) % _ring.Length;
            _count = Math.Min(_count + 1, _ring.Length);
        }

        return entry;
    }

    /// <summary>The kept events, oldest first.</summary>
    public IReadOnlyList<NodeStatusEvent> Snapshot()
    {
        lock (_lock)
        {
            var result = new NodeStatusEvent[_count];
            var first = (_next - _count + _ring.Length) % _ring.Length;
            for (var i = 0; i < _count; i++)
            {
                result[i] = _ring[(first + i) % _ring.Length];
            }

            return result;
        }
    }
}
