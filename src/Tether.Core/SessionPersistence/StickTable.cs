using System.Collections.Concurrent;

namespace Tether.Core.SessionPersistence;

/// <summary>
/// A bounded stick table: key (a client address, an application cookie, a header value, an HTTP_COOKIE session) →
/// node id, with an idle TTL it owns, as HAProxy's stick-table (size, expire). A lookup that hits is lock-free and allocates nothing; it refreshes the
/// entry's last use. Expired entries are treated as absent and removed by <see cref="Purge"/>, which the owner runs
/// off the request path. When the table is full, new keys are not stored (the caller still has consistent hashing).
/// </summary>
/// <remarks>Behind <see cref="IStickTable"/> so that a shared store can replace it when several instances share
/// one virtual IP. In cluster mode a <see cref="Replica"/> is attached (issue 14): a new key is published to it, a
/// re-pointed one overwritten, a removed one removed, and a used one refreshed at most once per quarter of the TTL per
/// entry (<see cref="RefreshTicks"/>), never per request. Entries learned from it (<see cref="Learn"/>,
/// <see cref="Adopt"/>) are not written back.</remarks>
public sealed class StickTable : IStickTable
{
    private readonly ConcurrentDictionary<UInt128, Entry> _entries = new();
    private int _count;
    private long _ttl;
    private IStickTableReplica? _replica;

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

    /// <summary>The shared copy of the table (cluster mode), or <c>null</c>. Attached once, when the runtime builds
    /// the table, before any request reads it.</summary>
    public IStickTableReplica? Replica
    {
        get => Volatile.Read(ref _replica);
        set => Volatile.Write(ref _replica, value);
    }

    /// <summary>The least time between two refreshes of one entry in the <see cref="Replica"/>: a quarter of
    /// <see cref="Ttl"/> (issue 14: an idle refresh is written at most once per quarter of the timeout per entry).</summary>
    public long RefreshTicks => Ttl / 4;

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
                if (_replica is { } replica)
                {
                    RefreshShared(replica, key, entry, now, ttl);
                }

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
                if (_replica is { } replica)
                {
                    RefreshShared(replica, key, existing, now, Ttl);
                }

                return;
            }

            // Replace only the entry we saw; if a purge removed it meanwhile, fall through and add (and count) it.
            if (_entries.TryUpdate(key, new Entry(nodeId, now) { Replicated = now }, existing))
            {
                _replica?.Overwrite(key, nodeId);
                return;
            }
        }

        if (Volatile.Read(ref _count) >= Capacity)
        {
            return;
        }

        if (_entries.TryAdd(key, new Entry(nodeId, now) { Replicated = now }))
        {
            Interlocked.Increment(ref _count);
            _replica?.Publish(key, nodeId);
        }
    }

    /// <summary>Stores a pin read from the <see cref="Replica"/> after a local miss (another instance created it),
    /// without writing it back; its first use here refreshes the shared TTL. Skipped when full, and when the key is
    /// held already (a local decision made meanwhile stands; <see cref="Adopt"/> settles it).</summary>
    public void Learn(UInt128 key, int nodeId, long now)
    {
        if (Volatile.Read(ref _count) < Capacity && _entries.TryAdd(key, new Entry(nodeId, now) { Replicated = long.MinValue / 2 }))
        {
            Interlocked.Increment(ref _count);
        }
    }

    /// <summary>Another instance pinned <paramref name="key"/> first (the <c>SET NX</c> of
    /// <see cref="IStickTableReplica.Publish"/> lost): the local entry takes its node, keeping its last use, without
    /// writing back. False when the key is no longer held.</summary>
    public bool Adopt(UInt128 key, int nodeId)
    {
        while (_entries.TryGetValue(key, out var entry))
        {
            if (entry.NodeId == nodeId)
            {
                return true;
            }

            var adopted = new Entry(nodeId, Volatile.Read(ref entry.LastUse)) { Replicated = Volatile.Read(ref entry.Replicated) };
            if (_entries.TryUpdate(key, adopted, entry))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Refreshes the shared entry when the last write is a quarter of the TTL old; one caller wins the
    /// exchange, so a burst of requests writes once. No lock, no allocation.</summary>
    private static void RefreshShared(IStickTableReplica replica, UInt128 key, Entry entry, long now, long ttl)
    {
        var replicated = Volatile.Read(ref entry.Replicated);
        if (now - replicated >= ttl / 4 && Interlocked.CompareExchange(ref entry.Replicated, now, replicated) == replicated)
        {
            replica.Refresh(key, entry.NodeId);
        }
    }

    /// <inheritdoc />
    public bool Remove(UInt128 key)
    {
        if (_entries.TryRemove(key, out _))
        {
            Interlocked.Decrement(ref _count);
            _replica?.Remove(key);
            return true;
        }

        return false;
    }

    /// <inheritdoc />
    public bool TryMove(UInt128 key, int fromNodeId, int toNodeId)
    {
        // Replaces only the entry seen naming fromNodeId: a request that re-pinned the key meanwhile wins.
        if (_entries.TryGetValue(key, out var entry) && entry.NodeId == fromNodeId
            && _entries.TryUpdate(key, new Entry(toNodeId, Volatile.Read(ref entry.LastUse)) { Replicated = Volatile.Read(ref entry.Replicated) }, entry))
        {
            _replica?.Overwrite(key, toNodeId);
            return true;
        }

        return false;
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

        /// <summary>When the entry was last written to the <see cref="Replica"/> (a <see cref="TimeProvider.GetTimestamp"/>
        /// value).</summary>
        public long Replicated;
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
