using Tether.Core.Runtime;

namespace Tether.Core.SessionPersistence;

/// <summary>
/// What HTTP_COOKIE persistence must remember of the sessions the persistence API moved
/// (<c>POST .../sessionpersistence/sessions/move</c>, docs/session-persistence.md "Moving sessions").
/// </summary>
/// <remarks>
/// Stick-table types (every type whose pin is a stick-table entry: SOURCE_IP, APP_COOKIE, HEADER ...) need nothing
/// here: the move re-points their entries (<see cref="IStickTable.TryMove"/>). An HTTP_COOKIE cookie names its node
/// and is signed, so a move cannot rewrite it where the client keeps it. Instead the move re-points the session's entry
/// in the stick table's session view, and this class keeps, per node moved from, the Unix second of its last move and,
/// after a move of all its sessions, where they went (so that also cookies of sessions the view has not seen yet, a
/// client that got its cookie and has not come back, follow). <see cref="Follow"/> applies that to a validated cookie.
/// Records are replaced whole under a lock (moves are rare, off the request path) and read lock-free.
/// </remarks>
public sealed class SessionMoves
{
    private readonly Lock _lock = new();
    private volatile Dictionary<int, MoveRecord>? _records;

    /// <summary>True until the first move (and again after <see cref="Clear"/> or when every record expired).</summary>
    public bool IsEmpty => _records is null;

    /// <summary>
    /// HTTP_COOKIE, called from one line of the cookie selection right after the cookie validated: when the session of
    /// this cookie was moved away from the node the cookie names, <paramref name="nodeId"/> becomes the node the session
    /// lives on now, and <paramref name="lastUse"/> a value that makes the selection re-issue the cookie (naming the new
    /// node) and that the unpin check reads right (the session counts as the new node's client since the move). Without
    /// a move, nothing changes. No lock, no allocation; one field read when no move was ever made.
    /// </summary>
    /// <param name="snapshot">The snapshot of the request.</param>
    /// <param name="table">The stick table (its session view: session id → node).</param>
    /// <param name="sessionId">The cookie's session id.</param>
    /// <param name="now">Now, a <see cref="TimeProvider.GetTimestamp"/> value.</param>
    /// <param name="nowUnix">Now, in Unix seconds.</param>
    /// <param name="nodeId">In: the node the cookie names. Out: the node the session lives on.</param>
    /// <param name="lastUse">In: the cookie's last use (Unix seconds). Out: for a moved session, at most
    /// <paramref name="nowUnix"/> minus the refresh interval (so the cookie is re-issued now), or just before the new
    /// node's unpin time when that node's clients were unpinned after the move.</param>
    public void Follow(LoadBalancerSnapshot snapshot, IStickTable table, long sessionId, long now, long nowUnix, ref int nodeId, ref long lastUse)
    {
        var records = _records;
        if (records is null || !records.TryGetValue(nodeId, out var record) || lastUse > record.LastMove)
        {
            return;
        }

        int target;
        var known = table.TryPeek((UInt128)(ulong)sessionId, now, out var owner);
        if (known && owner != nodeId)
        {
            target = owner;
        }
        else if (record.AllTo != 0 && lastUse <= record.AllBefore)
        {
            target = record.AllTo;
        }
        else
        {
            return;
        }

        nodeId = target;
        var unpinned = snapshot.FindNode(target)?.Counters.UnpinnedBefore ?? long.MinValue;
        lastUse = unpinned > record.LastMove || (unpinned == record.LastMove && !(known && owner == target))
            ? unpinned - 1
            : Math.Max(unpinned + 1, nowUnix - snapshot.CookieRefreshSeconds);
    }

    /// <summary>Records a move of sessions from node <paramref name="fromNodeId"/> to node <paramref name="toNodeId"/>
    /// at <paramref name="unixSeconds"/>; <paramref name="all"/>: every session of the node moved, so cookies naming it
    /// last used until now follow to <paramref name="toNodeId"/> even when the session view does not know them.</summary>
    public void Record(int fromNodeId, int toNodeId, bool all, long unixSeconds)
    {
        lock (_lock)
        {
            var next = _records is { } current ? new Dictionary<int, MoveRecord>(current) : [];
            if (all)
            {
                // Moves chain: sessions earlier moved (all) to fromNodeId go on to toNodeId; back home, they stay.
                foreach (var (id, record) in next.ToArray())
                {
                    if (record.AllTo == fromNodeId)
                    {
                        next[id] = record with { AllTo = id == toNodeId ? 0 : toNodeId };
                    }
                }
            }

            var previous = next.GetValueOrDefault(fromNodeId);
            next[fromNodeId] = all
                ? new MoveRecord(unixSeconds, toNodeId, unixSeconds)
                : previous with { LastMove = unixSeconds };
            _records = next;
        }
    }

    /// <summary>Forgets records older than the stickiness duration (every cookie they could concern has expired).
    /// Off the request path.</summary>
    /// <param name="nowUnix">Now, in Unix seconds.</param>
    /// <param name="timeoutSeconds">The stickiness duration, in seconds.</param>
    public void Prune(long nowUnix, int timeoutSeconds)
    {
        lock (_lock)
        {
            if (_records is not { } current)
            {
                return;
            }

            var next = new Dictionary<int, MoveRecord>();
            foreach (var (id, record) in current)
            {
                if (nowUnix - record.LastMove <= timeoutSeconds)
                {
                    next[id] = record;
                }
            }

            _records = next.Count == 0 ? null : next;
        }
    }

    /// <summary>Forgets every record (persistence type changed or disabled).</summary>
    public void Clear()
    {
        lock (_lock)
        {
            _records = null;
        }
    }

    /// <param name="LastMove">The Unix second of the last move from the node (cookies last used later were issued
    /// after it and are not followed).</param>
    /// <param name="AllTo">Where the last move of all the node's sessions went (0: none, or they came back).</param>
    /// <param name="AllBefore">The Unix second of that move.</param>
    private readonly record struct MoveRecord(long LastMove, int AllTo, long AllBefore);
}
