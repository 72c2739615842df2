using System.Collections.Concurrent;

namespace Tether.Core.SessionPersistence;

/// <summary>
/// A bounded stick table: key (a client address, an application cookie, a header value, an HTTP_COOKIE session) →
/// node id, with an idle TTL it owns, as HAProxy's stick-table (size, expire). A lookup that hits is lock-free and allocates nothing; it refreshes the
/// entry's last use. Expired entries are treated as absent and removed by <see cref="Purge"/>, which the owner runs
/// off the request path. When the table is full, new keys are not stored (the caller still has consistent hashing).
/// </summary>
/// <remarks>Behind <see cref="IStickTable"/> so that a shared store can replace it when several instances share
/// one virtual IP.</remarks>
public sealed class StickTable : IStickTable
{
    private readonly ConcurrentDictionary<UInt128, Entry> _entries = new();
    private int _count;
    private long _ttl;

    /// <summary>Creates an empty table.</summary>
    /// <param name="ttl">The idle TTL in <see cref="TimeProvider.GetTimestamp"/> ticks (the load balancer's
    /// persistence timeout; see <see cref="Ttl"/>).</param>
    /// <param name="capacity">The most entries kept (default 1,048,576).</param>
    public StickTable(long ttl, int capacity = 1 << 20)
    {
        _ttl = ttl;
        Capacity = capacity;
    }

    /// <summary>The most entries kept.</summary>
    public int Capacity { get; }

    /// <inheritdoc />
    public long Ttl
    {
        get => Volatile.Read(ref _ttl);
        set => Volatile.Write(ref _ttl, value);
    }

    /// <inheritdoc />
    public int Count => Volatile.Read(ref _count);

    /// <inheritdoc />
    public bool TryGet(UInt128 key, long now, out int nodeId)
    {
        var ttl = Ttl;
        if (_entries.TryGetValue(key, out var entry))
        {
            var last = Volatile.Read(ref entry.LastUse);
            if (now - last <= ttl)
            {
                if (now != last)
                {
                    Volatile.Write(ref entry.LastUse, now);
                }

                nodeId = entry.NodeId;
                return true;
            }
        }

        nodeId = 0;
        return false;
    }

    /// <inheritdoc />
    public bool TryPeek(UInt128 key, long now, out int nodeId)
    {
        var ttl = Ttl;
        if (_entries.TryGetValue(key, out var entry) && now - Volatile.Read(ref entry.LastUse) <= ttl)
        {
            nodeId = entry.NodeId;
            return true;
        }

        nodeId = 0;
        return false;
    }

    /// <inheritdoc />
    public void Set(UInt128 key, int nodeId, long now)
    {
        if (_entries.TryGetValue(key, out var existing))
        {
            if (existing.NodeId == nodeId)
            {
                Volatile.Write(ref existing.LastUse, now);
                return;
            }

            // Replace only the entry we saw; if a purge removed it meanwhile, fall through and add (and count) it.
            if (_entries.TryUpdate(key, new Entry(nodeId, now), existing))
            {
                return;
            }
        }

        if (Volatile.Read(ref _count) >= Capacity)
        {
            return;
        }

        if (_entries.TryAdd(key, new Entry(nodeId, now)))
        {
            Interlocked.Increment(ref _count);
        }
    }

    /// <inheritdoc />
    public bool Remove(UInt128 key)
    {
        if (_entries.TryRemove(key, out _))
        {
            Interlocked.Decrement(ref _count);
            return true;
        }

        return false;
    }

    /// <inheritdoc />
    public bool TryMove(UInt128 key, int fromNodeId, int toNodeId)
    {
        // Replaces only the entry seen naming fromNodeId: a request that re-pinned the key meanwhile wins.
        return _entries.TryGetValue(key, out var entry) && entry.NodeId == fromNodeId
            && _entries.TryUpdate(key, new Entry(toNodeId, Volatile.Read(ref entry.LastUse)), entry);
    }

    /// <inheritdoc />
    public int Purge(long now)
    {
        var ttl = Ttl;
        var removed = 0;
        foreach (var pair in _entries)
        {
            if (now - Volatile.Read(ref pair.Value.LastUse) > ttl && _entries.TryRemove(pair))
            {
                Interlocked.Decrement(ref _count);
                removed++;
            }
        }

        return removed;
    }

    /// <inheritdoc />
    public int RemoveNode(int nodeId)
    {
        var removed = 0;
        foreach (var pair in _entries)
        {
            if (pair.Value.NodeId == nodeId && _entries.TryRemove(pair))
            {
                Interlocked.Decrement(ref _count);
                removed++;
            }
        }

        return removed;
    }

    /// <inheritdoc />
    public IEnumerable<StickEntry> Snapshot(long now)
    {
        var ttl = Ttl;
        foreach (var pair in _entries)
        {
            var last = Volatile.Read(ref pair.Value.LastUse);
            if (now - last <= ttl)
            {
                yield return new StickEntry(pair.Key, pair.Value.NodeId, last);
            }
        }
    }

    private sealed class Entry(int nodeId, long lastUse)
    {
        public readonly int NodeId = nodeId;
        public long LastUse = lastUse;
    }
}

/// <summary>One live entry of a stick table.</summary>
/// <param name="Key">The key (for SOURCE_IP, see <see cref="ClientAddress"/>).</param>
/// <param name="NodeId">The node the key is pinned to.</param>
/// <param name="LastUse">The <see cref="TimeProvider.GetTimestamp"/> value of the last use.</param>
public readonly record struct StickEntry(UInt128 Key, int NodeId, long LastUse);

/// <summary>
/// Key → node id with an idle TTL. Times are <see cref="TimeProvider.GetTimestamp"/> values and TTLs are in the same
/// ticks (<see cref="TimeProvider.TimestampFrequency"/> per second).
/// </summary>
public interface IStickTable
{
    /// <summary>The number of entries held (live or not yet purged).</summary>
    int Count { get; }

    /// <summary>The idle TTL in <see cref="TimeProvider.GetTimestamp"/> ticks: an entry unused for longer is absent.
    /// Set when the table is built and when the load balancer's persistence timeout changes.</summary>
    long Ttl { get; set; }

    /// <summary>Finds a live entry and refreshes its last use to <paramref name="now"/>.</summary>
    bool TryGet(UInt128 key, long now, out int nodeId);

    /// <summary>Finds a live entry without refreshing it (for the API's lookup).</summary>
    bool TryPeek(UInt128 key, long now, out int nodeId);

    /// <summary>Pins <paramref name="key"/> to <paramref name="nodeId"/> (replacing any entry); skipped when full.</summary>
    void Set(UInt128 key, int nodeId, long now);

    /// <summary>Removes one entry; true when it existed.</summary>
    bool Remove(UInt128 key);

    /// <summary>Re-points <paramref name="key"/> from <paramref name="fromNodeId"/> to <paramref name="toNodeId"/>,
    /// keeping its last use (the persistence API's move: the session goes on as it was, on another node). False when
    /// the key is absent or no longer pinned to <paramref name="fromNodeId"/>.</summary>
    bool TryMove(UInt128 key, int fromNodeId, int toNodeId);

    /// <summary>Removes the entries idle for longer than <see cref="Ttl"/>; returns how many.</summary>
    int Purge(long now);

    /// <summary>Removes every entry pinned to <paramref name="nodeId"/>; returns how many.</summary>
    int RemoveNode(int nodeId);

    /// <summary>The live entries (a moving view; for the API, never the request path).</summary>
    IEnumerable<StickEntry> Snapshot(long now);
}
