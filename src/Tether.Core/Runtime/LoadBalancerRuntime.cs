using Tether.Core.LoadBalancing;
using Tether.Core.Model;
using Tether.Core.SessionPersistence;

namespace Tether.Core.Runtime;

/// <summary>
/// The long-lived runtime state of one load balancer: the current <see cref="LoadBalancerSnapshot"/> (swapped
/// atomically on every change), node counters and the stick table, which outlive snapshots, and the persistence
/// decision of DESIGN.md section 4: persistence decides first, the algorithm picks only when persistence has no
/// valid answer, and persistence never sends a request to a node the load balancer does not hold.
/// </summary>
/// <remarks><see cref="Select"/> takes no lock and allocates nothing; <see cref="Apply"/> is called off the request
/// path, one change at a time.</remarks>
public sealed class LoadBalancerRuntime
{
    private readonly Dictionary<int, NodeCounters> _counters = [];
    private readonly TimeProvider _time;
    private readonly IRandomSource _random;
    private volatile LoadBalancerSnapshot _snapshot;
    private volatile CookieKeyRing _keys;
    private volatile IStickTable _stickTable;
    private readonly PersistenceStatistics _statistics = new();

    /// <summary>Creates the runtime of <paramref name="config"/>.</summary>
    /// <param name="config">The configuration.</param>
    /// <param name="keys">The persistence cookie keys.</param>
    /// <param name="time">The clock (a fake one in tests).</param>
    /// <param name="random">The random source (a seeded one in tests).</param>
    public LoadBalancerRuntime(LoadBalancerConfig config, CookieKeyRing keys, TimeProvider time, IRandomSource random)
    {
        _time = time;
        _random = random;
        _keys = keys;
        _stickTable = new StickTable();
        _snapshot = Build(config);
    }

    /// <summary>The current runtime model.</summary>
    public LoadBalancerSnapshot Snapshot => _snapshot;

    /// <summary>The stick table of SOURCE_IP persistence.</summary>
    public IStickTable StickTable => _stickTable;

    /// <summary>Counters of persistence decisions.</summary>
    public PersistenceStatistics Statistics => _statistics;

    /// <summary>The clock.</summary>
    public TimeProvider Time => _time;

    /// <summary>The persistence cookie keys.</summary>
    public CookieKeyRing Keys
    {
        get => _keys;
        set => _keys = value;
    }

    /// <summary>Builds and publishes the model of <paramref name="config"/>. Node counters survive for nodes that
    /// remain; the stick table is cleared when persistence type changes or is disabled, and entries of removed nodes
    /// are dropped. Call one change at a time.</summary>
    public void Apply(LoadBalancerConfig config)
    {
        var previous = _snapshot;
        var next = Build(config);
        if (previous.PersistenceType != next.PersistenceType)
        {
            _stickTable = new StickTable();
        }
        else
        {
            foreach (var node in previous.Nodes)
            {
                if (next.FindNode(node.Id) is null)
                {
                    _stickTable.RemoveNode(node.Id);
                }
            }
        }

        _snapshot = next;
    }

    /// <summary>
    /// Chooses the node for a request or connection. No lock, no allocation.
    /// </summary>
    /// <param name="persistenceCookie">HTTP_COOKIE: the value of the load balancer's cookie as the client sent it
    /// (empty when absent); ignored otherwise.</param>
    /// <param name="clientKey">SOURCE_IP: the client's <see cref="ClientAddress.ToKey"/>; ignored otherwise.</param>
    /// <returns>The node and how it was chosen; the caller answers 502 for
    /// <see cref="SelectionOutcome.RejectedNoFallback"/> and 503 for <see cref="SelectionOutcome.NoNodeAvailable"/>.</returns>
    public Selection Select(ReadOnlySpan<char> persistenceCookie, UInt128 clientKey)
    {
        var snapshot = _snapshot;
        var now = _time.GetTimestamp();
        Selection selection;
        switch (snapshot.PersistenceType)
        {
            case PersistenceType.HttpCookie:
                selection = SelectByCookie(snapshot, persistenceCookie, now);
                break;
            case PersistenceType.SourceIp:
                selection = SelectBySourceIp(snapshot, clientKey, now);
                break;
            default:
                var node = Pick(snapshot, now);
                selection = new Selection(node, node is null ? SelectionOutcome.NoNodeAvailable : SelectionOutcome.Balanced, false);
                break;
        }

        _statistics.Count(selection.Outcome);
        return selection;
    }

    /// <summary>The Set-Cookie header value that pins the client to <paramref name="node"/> (HTTP_COOKIE).</summary>
    public string BuildSetCookie(LoadBalancerSnapshot snapshot, NodeState node)
    {
        var value = PersistenceCookie.Encode(_keys, snapshot.Id, node.Id, _time.GetUtcNow().ToUnixTimeSeconds());
        return string.Concat(snapshot.CookieName, "=", value, snapshot.CookieAttributes);
    }

    /// <summary>Drops expired stick-table entries; run periodically off the request path.</summary>
    public int PurgeExpired()
    {
        var snapshot = _snapshot;
        return snapshot.PersistenceType == PersistenceType.SourceIp
            ? _stickTable.Purge(_time.GetTimestamp(), snapshot.TtlTicks)
            : 0;
    }

    /// <summary>The algorithm's pick: PRIMARY nodes first, SECONDARY only when no PRIMARY node is available.</summary>
    public static NodeState? Pick(LoadBalancerSnapshot snapshot, long now) =>
        snapshot.Algorithm.Pick(snapshot.Primary, now) ?? snapshot.Algorithm.Pick(snapshot.Secondary, now);

    private Selection SelectByCookie(LoadBalancerSnapshot snapshot, ReadOnlySpan<char> cookie, long now)
    {
        var outcomeWhenBalanced = SelectionOutcome.Balanced;
        if (!cookie.IsEmpty)
        {
            var nowUnix = _time.GetUtcNow().ToUnixTimeSeconds();
            if (PersistenceCookie.TryValidate(_keys, cookie, snapshot.Id, nowUnix, snapshot.TimeoutSeconds, out var nodeId, out var lastUse))
            {
                var pinned = snapshot.FindNode(nodeId);
                if (pinned is not null && pinned.CanServePinned(now))
                {
                    return new Selection(pinned, SelectionOutcome.Persisted, nowUnix - lastUse >= snapshot.CookieRefreshSeconds);
                }

                if (!snapshot.FallbackEnabled)
                {
                    return new Selection(null, SelectionOutcome.RejectedNoFallback, false);
                }

                outcomeWhenBalanced = SelectionOutcome.Repinned;
            }
        }

        var node = Pick(snapshot, now);
        return node is null
            ? new Selection(null, SelectionOutcome.NoNodeAvailable, false)
            : new Selection(node, outcomeWhenBalanced, true);
    }

    private Selection SelectBySourceIp(LoadBalancerSnapshot snapshot, UInt128 clientKey, long now)
    {
        var table = _stickTable;
        var outcomeWhenBalanced = SelectionOutcome.Balanced;
        if (table.TryGet(clientKey, now, snapshot.TtlTicks, out var nodeId))
        {
            var pinned = snapshot.FindNode(nodeId);
            if (pinned is not null && pinned.CanServePinned(now))
            {
                return new Selection(pinned, SelectionOutcome.Persisted, false);
            }

            if (!snapshot.FallbackEnabled && pinned is not null)
            {
                return new Selection(null, SelectionOutcome.RejectedNoFallback, false);
            }

            outcomeWhenBalanced = SelectionOutcome.Repinned;
        }

        var hashed = snapshot.Maglev?.Lookup(StableHash.Of(clientKey));
        if (hashed is not null && hashed.IsAvailable(now))
        {
            table.Set(clientKey, hashed.Id, now);
            return new Selection(hashed, outcomeWhenBalanced == SelectionOutcome.Repinned ? SelectionOutcome.Repinned : SelectionOutcome.Hashed, false);
        }

        var node = Pick(snapshot, now);
        if (node is null)
        {
            return new Selection(null, SelectionOutcome.NoNodeAvailable, false);
        }

        table.Set(clientKey, node.Id, now);
        return new Selection(node, outcomeWhenBalanced, false);
    }

    private LoadBalancerSnapshot Build(LoadBalancerConfig config)
    {
        lock (_counters)
        {
            var nodes = new NodeState[config.Nodes.Length];
            var keep = new HashSet<int>();
            for (var i = 0; i < nodes.Length; i++)
            {
                var nodeConfig = config.Nodes[i];
                if (!_counters.TryGetValue(nodeConfig.Id, out var counters))
                {
                    counters = new NodeCounters();
                    _counters[nodeConfig.Id] = counters;
                }

                keep.Add(nodeConfig.Id);
                nodes[i] = new NodeState(nodeConfig, counters);
            }

            foreach (var id in _counters.Keys.ToArray())
            {
                if (!keep.Contains(id))
                {
                    _counters.Remove(id);
                }
            }

            return new LoadBalancerSnapshot(config, nodes, _random, _time);
        }
    }
}

/// <summary>Counters of persistence decisions (issue 3: quality metrics). Lock-free.</summary>
public sealed class PersistenceStatistics
{
    private readonly long[] _counts = new long[Enum.GetValues<SelectionOutcome>().Length];

    /// <summary>Counts one decision.</summary>
    public void Count(SelectionOutcome outcome) => Interlocked.Increment(ref _counts[(int)outcome]);

    /// <summary>How many decisions had <paramref name="outcome"/>.</summary>
    public long Get(SelectionOutcome outcome) => Volatile.Read(ref _counts[(int)outcome]);
}
