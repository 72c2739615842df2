using Tether.Core.Health;
using Tether.Core.LoadBalancing;
using Tether.Core.Model;
using Tether.Core.SessionPersistence;

namespace Tether.Core.Runtime;

/// <summary>
/// The long-lived runtime state of one load balancer: the current <see cref="LoadBalancerSnapshot"/> (swapped
/// atomically on every change), node counters and the stick table, which outlive snapshots, and the persistence
/// decision of docs/session-persistence.md: persistence decides first, the algorithm picks only when persistence has no
/// valid answer, and persistence never sends a request to a node the load balancer does not hold.
/// </summary>
/// <remarks><see cref="Select(LoadBalancerSnapshot, in PersistenceRequest)"/> takes no lock and allocates nothing; <see cref="Apply(LoadBalancerConfig)"/> and
/// <see cref="SetNodeStatus"/> are called off the request path and serialized with each other.</remarks>
public sealed class LoadBalancerRuntime
{
    private readonly Dictionary<int, NodeCounters> _counters = [];
    private readonly TimeProvider _time;
    private readonly UnixClock _unixClock;
    private readonly IRandomSource _random;
    private volatile LoadBalancerSnapshot _snapshot;
    private volatile CookieKeyRing _keys;
    private StickTable _stickTable;
    private readonly IStickTableReplication? _replication;
    private IStickTableReplica? _replica;
    private CookieKeyReread? _keyReread;
    private readonly PersistenceStatistics _statistics = new();
    private readonly ValidatedCookieCache _cookieCache = new();
    private readonly SessionMoves _moves = new();
    private readonly Lock _changes = new();
    private readonly Dictionary<int, NodeStatus> _health = [];
    private readonly Dictionary<string, ResolvedName> _addresses = new(StringComparer.OrdinalIgnoreCase);
    private readonly NodeEventLog _events = new();
    private readonly SlowStart _slowStart;
    private readonly DrainProgress _drain;
    private LoadBalancerConfig _config;

    /// <summary>Creates the runtime of <paramref name="config"/>.</summary>
    /// <param name="config">The configuration.</param>
    /// <param name="keys">The persistence cookie keys.</param>
    /// <param name="time">The clock (a fake one in tests).</param>
    /// <param name="random">The random source (a seeded one in tests).</param>
    public LoadBalancerRuntime(LoadBalancerConfig config, CookieKeyRing keys, TimeProvider time, IRandomSource random)
        : this(config, keys, time, random, null)
    {
    }

    /// <summary>Creates the runtime of <paramref name="config"/> with its stick table shared through
    /// <paramref name="replication"/> (cluster mode, issue 14; <c>null</c>: this instance only).</summary>
    /// <param name="config">The configuration.</param>
    /// <param name="keys">The persistence cookie keys.</param>
    /// <param name="time">The clock (a fake one in tests).</param>
    /// <param name="random">The random source (a seeded one in tests).</param>
    /// <param name="replication">Creates the shared copy of each stick table the runtime builds.</param>
    public LoadBalancerRuntime(LoadBalancerConfig config, CookieKeyRing keys, TimeProvider time, IRandomSource random, IStickTableReplication? replication)
    {
        _replication = replication;
        _time = time;
        _unixClock = new UnixClock(time);
        _random = random;
        _keys = keys;
        _stickTable = new StickTable(0);
        _config = config;
        _snapshot = Build(config);
        AttachReplica(config.SessionPersistence?.Type);
        _slowStart = new SlowStart(time, () => _snapshot);
        _drain = new DrainProgress(time, () => _snapshot, CountSessionsByNode, _events);
        _drain.OnPublish(_snapshot);
    }

    /// <summary>Stops the slow-start and drain-progress timers for good (the load balancer is deleted or Tether
    /// stops); later changes start none.</summary>
    public void StopTimers()
    {
        _slowStart.Stop();
        _drain.Stop();
        lock (_changes)
        {
            _replica?.Dispose();
            _replica = null;
            _stickTable.Replica = null;
        }
    }

    /// <summary>Drain progress: the <c>drained</c> events of DRAINING nodes (see <see cref="Runtime.DrainProgress"/>).</summary>
    public DrainProgress Drain => _drain;

    /// <summary>Slow start: the effective weights of nodes that ramp up (see <see cref="Runtime.SlowStart"/>).</summary>
    public SlowStart SlowStart => _slowStart;

    /// <summary>The current runtime model.</summary>
    public LoadBalancerSnapshot Snapshot => _snapshot;

    /// <summary>The stick table of the current snapshot (pins, and the HTTP_COOKIE session view).</summary>
    public IStickTable StickTable => _snapshot.StickTable;

    /// <summary>HTTP_COOKIE: the record of moved sessions (<see cref="MoveSessions"/>), followed when a cookie is
    /// validated.</summary>
    internal SessionMoves Moves => _moves;

    /// <summary>HTTP_COOKIE: values already validated (a returning client skips the HMAC).</summary>
    internal ValidatedCookieCache CookieCache => _cookieCache;

    /// <summary>Counters of persistence decisions.</summary>
    public PersistenceStatistics Statistics => _statistics;

    /// <summary>Bytes to and from clients and open client connections, for the usage reports (see
    /// <see cref="UsageCounters"/>).</summary>
    public UsageCounters Usage { get; } = new();

    private long _keepAliveTimeouts;
    private long _keepAliveTimeoutsSsl;

    /// <summary>Plain client connections closed because they stayed idle between requests longer than the keep-alive
    /// timeout (Rackspace's <c>keepAliveTimedOut</c>; counted by the HTTP/1.1 fast path).</summary>
    public long KeepAliveTimeouts => Volatile.Read(ref _keepAliveTimeouts);

    /// <summary>The same for client connections of the SSL termination listener (Rackspace's
    /// <c>keepAliveTimedOutSsl</c>).</summary>
    public long KeepAliveTimeoutsSsl => Volatile.Read(ref _keepAliveTimeoutsSsl);

    /// <summary>Counts one plain client connection closed idle (see <see cref="KeepAliveTimeouts"/>).</summary>
    public void CountKeepAliveTimeout() => Interlocked.Increment(ref _keepAliveTimeouts);

    /// <summary>Counts one client connection closed idle; <paramref name="ssl"/>: on the SSL termination listener
    /// (<see cref="KeepAliveTimeoutsSsl"/>).</summary>
    public void CountKeepAliveTimeout(bool ssl) => Interlocked.Increment(ref ssl ? ref _keepAliveTimeoutsSsl : ref _keepAliveTimeouts);

    private long _contentCacheHits;
    private long _contentCacheMisses;

    /// <summary>Requests of this load balancer answered from the content cache, without reaching a node (content
    /// caching on; <c>tether_content_cache_requests_total{result="hit"}</c>).</summary>
    public long ContentCacheHits => Volatile.Read(ref _contentCacheHits);

    /// <summary>Requests the content cache looked up and did not answer (they went on to a node; their answer may have
    /// been stored).</summary>
    public long ContentCacheMisses => Volatile.Read(ref _contentCacheMisses);

    /// <summary>Counts one content cache hit (see <see cref="ContentCacheHits"/>).</summary>
    public void CountContentCacheHit() => Interlocked.Increment(ref _contentCacheHits);

    /// <summary>Counts one content cache miss (see <see cref="ContentCacheMisses"/>).</summary>
    public void CountContentCacheMiss() => Interlocked.Increment(ref _contentCacheMisses);

    /// <summary>The clock.</summary>
    public TimeProvider Time => _time;

    /// <summary>Unix seconds derived from this runtime's timestamps (see <see cref="Runtime.UnixClock"/>): every
    /// Unix time the runtime writes or compares (cookie times, unpins, moves) comes from it, so they agree.</summary>
    public UnixClock UnixClock => _unixClock;

    /// <summary>The persistence cookie keys.</summary>
    public CookieKeyRing Keys
    {
        get => _keys;
        set => _keys = value;
    }

    /// <summary>Cluster mode: re-reads the shared key set when an HTTP_COOKIE cookie names a key id the ring lacks
    /// (<see cref="MissesSharedState"/>); null (single instance): such a cookie is invalid at once.</summary>
    public CookieKeyReread? KeyReread
    {
        get => _keyReread;
        set => _keyReread = value;
    }

    /// <summary>The last node status changes (health monitoring), for <c>GET .../nodes/events</c>.</summary>
    public NodeEventLog NodeEvents => _events;

    /// <summary>Builds and publishes the model of <paramref name="config"/>. Node counters survive for nodes that
    /// remain; the stick table is cleared when persistence type changes or is disabled, and entries of removed nodes
    /// are dropped. The health overlay (<see cref="SetNodeStatus"/>) survives for nodes that remain while the load
    /// balancer has a health monitor; without one it is cleared, so that every node has its configured status (ONLINE)
    /// again (Rackspace: deleting the monitor brings every node back ONLINE).</summary>
    /// <returns>The status changes the new configuration caused (nodes back ONLINE because the monitor was removed),
    /// already recorded in <see cref="NodeEvents"/>; usually empty.</returns>
    public IReadOnlyList<NodeStatusEvent> Apply(LoadBalancerConfig config) => Apply(config, null);

    /// <summary>As <see cref="Apply(LoadBalancerConfig)"/>, with what the nodes' host names resolved to
    /// (<see cref="NodeAddressResolver"/>) taken in before the model is built, so that a node added by name is
    /// usable at once; a new name that did not resolve records an OFFLINE node event with the reason.</summary>
    public IReadOnlyList<NodeStatusEvent> Apply(LoadBalancerConfig config, IReadOnlyDictionary<string, ResolvedName>? addresses)
    {
        lock (_changes)
        {
            var changes = ReconcileHealth(config);
            foreach (var name in _addresses.Keys.ToArray())
            {
                if (!UsesName(config, name))
                {
                    _addresses.Remove(name);
                }
            }

            if (addresses is not null)
            {
                changes.AddRange(RecordAddresses(config, addresses));
            }

            _config = config;
            var previous = _snapshot;
            if (previous.PersistenceType != config.SessionPersistence?.Type)
            {
                _stickTable = new StickTable(0);
                _moves.Clear();
                AttachReplica(config.SessionPersistence?.Type);
            }

            var next = Build(WithHealth(config));
            if (ReferenceEquals(previous.StickTable, next.StickTable))
            {
                foreach (var node in previous.Nodes)
                {
                    if (next.FindNode(node.Id) is null)
                    {
                        _stickTable.RemoveNode(node.Id);
                    }
                }
            }

            _slowStart.OnPublish(previous, next);
            _snapshot = next;
            _drain.OnPublish(next);
            return changes;
        }
    }

    /// <summary>
    /// Health monitoring: sets node <paramref name="nodeId"/>'s live status over the configured one and, when it
    /// changes, rebuilds and publishes the model (pools, schedules and the Maglev table hold only ONLINE nodes, so an
    /// OFFLINE node gets no new traffic and its pinned clients fall back as for any unavailable node) and records the
    /// change in <see cref="NodeEvents"/>. Ignored when the load balancer has no health monitor or no such node.
    /// </summary>
    /// <param name="nodeId">The node.</param>
    /// <param name="status">Its status as the monitor sees it now.</param>
    /// <param name="detailedMessage">Why (the probe's result), for the event.</param>
    /// <returns>The recorded event, or <c>null</c> when nothing changed.</returns>
    public NodeStatusEvent? SetNodeStatus(int nodeId, NodeStatus status, string detailedMessage)
    {
        lock (_changes)
        {
            if (_config.HealthMonitor is null || FindConfig(_config, nodeId) is not { } node)
            {
                return null;
            }

            var current = _health.TryGetValue(nodeId, out var live) ? live : node.Status;
            if (current == status)
            {
                return null;
            }

            if (status == node.Status)
            {
                _health.Remove(nodeId);
            }
            else
            {
                _health[nodeId] = status;
            }

            var next = Build(WithHealth(_config));
            _slowStart.OnPublish(_snapshot, next);
            _snapshot = next;
            return _events.Add(nodeId, status, detailedMessage, _time.GetUtcNow());
        }
    }

    /// <summary>
    /// Takes in what the nodes' host names resolve to now (the periodic refresh of <see cref="NodeAddressResolver"/>)
    /// and, when an address changed, rebuilds and publishes the model: a node whose name stopped resolving is not
    /// online (no new traffic, pinned clients fall back, not probed), one whose name resolves again comes back. The
    /// Maglev table keys on the name (<see cref="NodeState.HashKey"/>), so a changed address moves no client. Each node
    /// that stopped or started resolving gets a node event (OFFLINE or ONLINE, the reason in the message).
    /// </summary>
    /// <returns>The recorded events; empty when nothing changed.</returns>
    public IReadOnlyList<NodeStatusEvent> SetResolvedAddresses(IReadOnlyDictionary<string, ResolvedName> addresses)
    {
        lock (_changes)
        {
            var changed = false;
            foreach (var (name, result) in addresses)
            {
                changed |= UsesName(_config, name)
                    && (!_addresses.TryGetValue(name, out var old) || !Equals(old.Address, result.Address));
            }

            if (!changed)
            {
                return [];
            }

            var events = RecordAddresses(_config, addresses);
            var next = Build(WithHealth(_config));
            _slowStart.OnPublish(_snapshot, next);
            _snapshot = next;
            _drain.OnPublish(next);
            return events;
        }
    }

    /// <summary>Stores <paramref name="addresses"/> for the names <paramref name="config"/> uses and records a node
    /// event for each node whose name stopped resolving, started resolving again, or is new and does not resolve.</summary>
    private List<NodeStatusEvent> RecordAddresses(LoadBalancerConfig config, IReadOnlyDictionary<string, ResolvedName> addresses)
    {
        var events = new List<NodeStatusEvent>();
        foreach (var (name, result) in addresses)
        {
            if (!UsesName(config, name))
            {
                continue;
            }

            var known = _addresses.TryGetValue(name, out var old);
            _addresses[name] = result;
            var wasResolved = known && old.Address is not null;
            var isResolved = result.Address is not null;
            if (known ? wasResolved == isResolved : isResolved)
            {
                continue;
            }

            foreach (var node in config.Nodes)
            {
                if (string.Equals(node.Address, name, StringComparison.OrdinalIgnoreCase))
                {
                    var status = isResolved && StatusOf(node) == NodeStatus.Online ? NodeStatus.Online : NodeStatus.Offline;
                    events.Add(_events.Add(node.Id, status, result.Detail, _time.GetUtcNow()));
                }
            }
        }

        return events;
    }

    private NodeStatus StatusOf(NodeConfig node) => _health.TryGetValue(node.Id, out var live) ? live : node.Status;

    private static bool UsesName(LoadBalancerConfig config, string name)
    {
        foreach (var node in config.Nodes)
        {
            if (string.Equals(node.Address, name, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Drops the overlay of nodes <paramref name="config"/> no longer holds, and all of it when the load
    /// balancer has no health monitor (recording each node that comes back to its configured status).</summary>
    private List<NodeStatusEvent> ReconcileHealth(LoadBalancerConfig config)
    {
        var changes = new List<NodeStatusEvent>();
        if (_health.Count == 0)
        {
            return changes;
        }

        foreach (var (nodeId, status) in _health.ToArray())
        {
            if (FindConfig(config, nodeId) is not { } node)
            {
                _health.Remove(nodeId);
            }
            else if (config.HealthMonitor is null)
            {
                _health.Remove(nodeId);
                if (node.Status != status)
                {
                    changes.Add(_events.Add(nodeId, node.Status, "Health monitor removed", _time.GetUtcNow()));
                }
            }
        }

        return changes;
    }

    /// <summary><paramref name="config"/> with the health overlay applied to its nodes' status.</summary>
    private LoadBalancerConfig WithHealth(LoadBalancerConfig config)
    {
        if (_health.Count == 0)
        {
            return config;
        }

        var nodes = config.Nodes.ToBuilder();
        for (var i = 0; i < nodes.Count; i++)
        {
            if (_health.TryGetValue(nodes[i].Id, out var status) && status != nodes[i].Status)
            {
                nodes[i] = nodes[i] with { Status = status };
            }
        }

        return config with { Nodes = nodes.ToImmutable() };
    }

    private static NodeConfig? FindConfig(LoadBalancerConfig config, int nodeId)
    {
        foreach (var node in config.Nodes)
        {
            if (node.Id == nodeId)
            {
                return node;
            }
        }

        return null;
    }

    /// <summary>
    /// Chooses the node for a request or connection: the load balancer's persistence policy decides first, the
    /// algorithm picks when it has no answer. No lock, no allocation.
    /// </summary>
    /// <param name="snapshot">The snapshot the request read once (<see cref="Snapshot"/>).</param>
    /// <param name="request">The request's persistence inputs (<see cref="IPersistencePolicy.Inputs"/>).</param>
    /// <returns>The node and how it was chosen; the caller answers 502 for
    /// <see cref="SelectionOutcome.RejectedNoFallback"/> (a refused connection at layer 4) and 503 for
    /// <see cref="SelectionOutcome.NoNodeAvailable"/>.</returns>
    public Selection Select(LoadBalancerSnapshot snapshot, in PersistenceRequest request) => Select(snapshot, request, _time.GetTimestamp());

    /// <summary><see cref="Select(LoadBalancerSnapshot, in PersistenceRequest)"/> at <paramref name="now"/>, a
    /// <see cref="Time"/> timestamp the data path has read for this request anyway (its latency starts there): the
    /// decision then reads no clock of its own (a clock read costs about 40 ns here, half a decision).</summary>
    public Selection Select(LoadBalancerSnapshot snapshot, in PersistenceRequest request, long now)
    {
        var decision = snapshot.Persistence.Find(new PersistenceScope(this, snapshot, now, readOnly: false), request);
        _statistics.Count(decision.Outcome);
        if (decision.Outcome == SelectionOutcome.Persisted)
        {
            decision.Node!.Counters.OnPersisted(now);
        }

        return new Selection(decision.Outcome == SelectionOutcome.RejectedNoFallback ? null : decision.Node, decision.Outcome, decision.IssueCookie, decision.SessionId);
    }

    /// <summary><see cref="Select(LoadBalancerSnapshot, in PersistenceRequest)"/> on the current snapshot.</summary>
    public Selection Select(in PersistenceRequest request) => Select(_snapshot, request);

    /// <summary><see cref="Select(in PersistenceRequest)"/> for a request whose inputs are one cookie value and one
    /// key (tests and benchmarks).</summary>
    /// <param name="persistenceCookie">HTTP_COOKIE: the load balancer's cookie value (empty when absent).</param>
    /// <param name="clientKey">SOURCE_IP: the client's <see cref="ClientAddress.ToKey"/>; APP_COOKIE: the
    /// <see cref="StableHash.OfCookie"/> key of the application cookie (zero when none).</param>
    public Selection Select(ReadOnlySpan<char> persistenceCookie, UInt128 clientKey) =>
        Select(new PersistenceRequest(clientKey, persistenceCookie, clientKey, default));

    /// <summary>The Set-Cookie header value that pins the client to <paramref name="node"/> (HTTP_COOKIE).</summary>
    public string BuildSetCookie(LoadBalancerSnapshot snapshot, NodeState node, long sessionId = 0) =>
        HttpCookiePolicy.SetCookie(_keys, snapshot, node, sessionId, _unixClock.Now);

    /// <summary>Drops expired stick-table entries; run periodically off the request path.</summary>
    public int PurgeExpired()
    {
        var snapshot = _snapshot;
        _unixClock.Resync();
        if (!_moves.IsEmpty)
        {
            _moves.Prune(_unixClock.Now, snapshot.TimeoutSeconds);
        }

        // Every type keeps entries: SOURCE_IP and APP_COOKIE pins, and the HTTP_COOKIE session view.
        return snapshot.PersistenceType is not null
            ? snapshot.StickTable.Purge(_time.GetTimestamp())
            : 0;
    }

    /// <summary>The algorithm's pick: PRIMARY nodes first, SECONDARY only when no PRIMARY node is available.</summary>
    public static NodeState? Pick(LoadBalancerSnapshot snapshot, long now) =>
        snapshot.Algorithm.Pick(snapshot.Primary, now) ?? snapshot.Algorithm.Pick(snapshot.Secondary, now);

    /// <summary>
    /// Says which node a client would reach now and why, without changing anything (the persistence API's lookup):
    /// <c>persisted</c> (a valid cookie or a live stick-table entry names an available node), <c>hashed</c>
    /// (SOURCE_IP: consistent hashing names the node), <c>balanced</c> (nothing pinned: the algorithm will pick;
    /// <see cref="PersistenceExplanation.Node"/> is then null), or <c>rejected</c> (pinned to an unavailable node with
    /// fallback disabled: 502).
    /// </summary>
    /// <remarks>Runs the request's own decision (<see cref="IPersistencePolicy.Find"/>) in read-only mode: nothing is
    /// recorded, refreshed or picked.</remarks>
    public PersistenceExplanation Explain(in PersistenceRequest request)
    {
        var snapshot = _snapshot;
        var decision = snapshot.Persistence.Find(new PersistenceScope(this, snapshot, _time.GetTimestamp(), readOnly: true), request);
        return decision.Outcome switch
        {
            SelectionOutcome.Persisted => new PersistenceExplanation(decision.Node, "persisted"),
            SelectionOutcome.RejectedNoFallback => new PersistenceExplanation(decision.Node, "rejected"),
            // Read-only, only consistent hashing names a node for a client that is not (or no longer) pinned.
            SelectionOutcome.Hashed or SelectionOutcome.Repinned when decision.Node is not null => new PersistenceExplanation(decision.Node, "hashed"),
            _ => new PersistenceExplanation(null, "balanced"),
        };
    }

    /// <summary><see cref="Explain(in PersistenceRequest)"/> for one cookie value and one key (see
    /// <see cref="Select(ReadOnlySpan{char}, UInt128)"/>).</summary>
    public PersistenceExplanation Explain(ReadOnlySpan<char> persistenceCookie, UInt128 clientKey) =>
        Explain(new PersistenceRequest(clientKey, persistenceCookie, clientKey, default));

    /// <summary>APP_COOKIE: the node set the application cookie <paramref name="key"/>; later requests carrying it go
    /// to that node (seed 002, Octavia APP_COOKIE).</summary>
    public void LearnAppCookie(UInt128 key, int nodeId) => _snapshot.StickTable.Set(key, nodeId, _time.GetTimestamp());

    /// <summary>APP_COOKIE: the node deleted the application cookie <paramref name="key"/> (a past expiry or
    /// Max-Age=0): persistence ends and the next request is balanced normally (seed 002).</summary>
    public void ForgetAppCookie(UInt128 key) => _snapshot.StickTable.Remove(key);

    /// <summary>True when APP_COOKIE key <paramref name="key"/> is pinned now (to pick the cookie that decides when a
    /// request carries several, for <c>cookieName: "*"</c>). No refresh, no allocation.</summary>
    public bool IsPinned(UInt128 key)
    {
        return _snapshot.StickTable.TryPeek(key, _time.GetTimestamp(), out _);
    }

    /// <summary>
    /// Unpins every client of node <paramref name="nodeId"/> (the persistence API): stick-table entries and
    /// HTTP_COOKIE sessions are dropped, and HTTP_COOKIE cookies issued for the node until now stop pinning.
    /// </summary>
    /// <returns>How many known sessions were dropped.</returns>
    public int UnpinNode(int nodeId)
    {
        var node = _snapshot.FindNode(nodeId);
        var now = _unixClock.Now;
        node?.Counters.UnpinCookiesBefore(now);
        _replica?.UnpinNode(nodeId, now);
        return _snapshot.StickTable.RemoveNode(nodeId);
    }

    /// <summary>
    /// Cluster mode: another instance unpinned every client of node <paramref name="nodeId"/> at
    /// <paramref name="unixSeconds"/> (<see cref="UnpinNode"/> there; the mark arrives through the
    /// <see cref="IStickTableReplica"/>). Applied here as a local unpin when it is newer than the node's own mark, so
    /// that a mark read twice (published, then re-read on reconnect) changes nothing the second time.
    /// </summary>
    /// <returns>True when it was newer and applied.</returns>
    public bool ApplySharedUnpin(int nodeId, long unixSeconds)
    {
        var snapshot = _snapshot;
        if (snapshot.FindNode(nodeId) is not { } node || unixSeconds <= node.Counters.UnpinnedBefore)
        {
            return false;
        }

        node.Counters.UnpinCookiesBefore(unixSeconds);
        snapshot.StickTable.RemoveNode(nodeId);
        return true;
    }

    /// <summary>
    /// Cluster mode: true when <paramref name="request"/> needs the cluster store before
    /// <see cref="Select(LoadBalancerSnapshot, in PersistenceRequest)"/>, so that the data path may await
    /// <see cref="FetchSharedStateAsync"/> first (issue 14: the request path waits on Redis only on a local miss):
    /// a stick-table key (<see cref="IPersistencePolicy.StickKey"/>) the local table does not hold while the table has
    /// a shared copy (<paramref name="key"/> is that key), or an HTTP_COOKIE cookie signed with a key id the key ring
    /// lacks while <see cref="KeyReread"/> may re-read the key set (<paramref name="key"/> is zero). Always false in
    /// single-instance mode. No lock, no allocation.
    /// </summary>
    public bool MissesSharedState(LoadBalancerSnapshot snapshot, in PersistenceRequest request, out UInt128 key)
    {
        key = UInt128.Zero;
        if (SharesPins(snapshot))
        {
            return MissesLocally(snapshot, request, out key);
        }

        return _keyReread is { } reread && snapshot.PersistenceType == PersistenceType.HttpCookie
            && PersistenceCookie.TryReadKeyId(request.PersistenceCookie, out var keyId) && _keys.Find(keyId) is null
            && reread.MayReread;
    }

    /// <summary>True when <paramref name="snapshot"/>'s stick table has a shared copy (cluster mode, a type whose pins
    /// are stick-table entries). One type test.</summary>
    public static bool SharesPins(LoadBalancerSnapshot snapshot) => snapshot.StickTable is StickTable { Replica: not null };

    /// <summary>True when a data path must read a request's persistence inputs a second time for
    /// <see cref="MissesSharedState"/>: the stick table is shared (<see cref="SharesPins"/>), or the load balancer uses
    /// HTTP_COOKIE in cluster mode (<see cref="KeyReread"/>). A type test and a field read.</summary>
    public bool ConsultsStore(LoadBalancerSnapshot snapshot) =>
        SharesPins(snapshot) || (_keyReread is not null && snapshot.PersistenceType == PersistenceType.HttpCookie);

    private bool MissesLocally(LoadBalancerSnapshot snapshot, in PersistenceRequest request, out UInt128 key)
    {
        key = UInt128.Zero;
        if (snapshot.StickTable is not StickTable { Replica: not null } table)
        {
            return false;
        }

        key = snapshot.Persistence.StickKey(request);
        return key != UInt128.Zero && !table.TryPeek(key, _time.GetTimestamp(), out _);
    }

    /// <summary>
    /// Cluster mode, after <see cref="MissesSharedState"/>: reads the shared pin of <paramref name="key"/> (bounded by
    /// the replica's fetch timeout) and, when it names a node this load balancer holds, stores it in the local table so
    /// the selection that follows honours it; for an HTTP_COOKIE cookie of an unknown key, waits for the key set's
    /// re-read (<see cref="CookieKeyReread"/>, at most 100 ms). When the store is away, slow or holds nothing, nothing
    /// changes and the selection decides locally: a request never fails because of the store.
    /// </summary>
    public async ValueTask FetchSharedStateAsync(LoadBalancerSnapshot snapshot, UInt128 key, CancellationToken cancellationToken)
    {
        if (snapshot.StickTable is not StickTable { Replica: { } replica } table)
        {
            if (_keyReread is { } reread)
            {
                await reread.WaitAsync(cancellationToken).ConfigureAwait(false);
            }

            return;
        }

        var nodeId = await replica.FetchAsync(key, cancellationToken).ConfigureAwait(false);
        if (nodeId != 0 && snapshot.FindNode(nodeId) is not null)
        {
            table.Learn(key, nodeId, _time.GetTimestamp());
        }
    }

    /// <summary>Gives the current stick table its shared copy (cluster mode), dropping the previous one. The entries
    /// of HTTP_COOKIE's session view stay local (the cookie is the pin); its replica carries only unpin marks.</summary>
    private void AttachReplica(PersistenceType? type)
    {
        _replica?.Dispose();
        _replica = null;
        if (_replication is null || type is not { } persistence)
        {
            return;
        }

        _replica = _replication.Create(this, persistence, _stickTable);
        if (persistence != PersistenceType.HttpCookie)
        {
            _stickTable.Replica = _replica;
        }
    }

    /// <summary>
    /// Moves persisted sessions of node <paramref name="fromNodeId"/> to node <paramref name="toNodeId"/> (the
    /// persistence API, <c>POST .../sessionpersistence/sessions/move</c>; docs/session-persistence.md): their clients
    /// keep their session and reach the new node from their next request on. Every stick-table entry of the old node
    /// (a SOURCE_IP address, an application cookie, a header value, an HTTP_COOKIE session) is re-pointed, keeping its
    /// last use; HTTP_COOKIE cookies, which name the node and are signed, are followed when validated
    /// (<see cref="SessionMoves.Follow"/>) and re-issued naming the new node. The caller checks that both nodes belong
    /// to the load balancer, differ, and that the new one is ENABLED. Off the request path, serialized with
    /// <see cref="Apply(LoadBalancerConfig)"/>.
    /// </summary>
    /// <param name="fromNodeId">The node whose sessions move.</param>
    /// <param name="toNodeId">The node they move to.</param>
    /// <param name="fraction">The share of the node's sessions to move, 0 &lt; fraction &lt;= 1 (1: all). Which ones
    /// is deterministic: the sessions ranked by <see cref="StableHash.Of(UInt128)"/> of their key (then by key), the
    /// first round(fraction × sessions) of them (half away from zero).</param>
    /// <returns>How many sessions moved, and how many known sessions the old node keeps (both 0 without
    /// persistence).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fraction"/> is not in (0, 1] (the API answers 400
    /// before).</exception>
    public SessionMoveResult MoveSessions(int fromNodeId, int toNodeId, double fraction)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(fraction, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(fraction, 1);
        lock (_changes)
        {
            var snapshot = _snapshot;
            if (snapshot.PersistenceType is null)
            {
                return new SessionMoveResult(0, 0);
            }

            var table = snapshot.StickTable;
            var all = fraction >= 1;
            var candidates = new List<(ulong Rank, UInt128 Key)>();
            foreach (var entry in table.Snapshot(_time.GetTimestamp()))
            {
                if (entry.NodeId == fromNodeId)
                {
                    candidates.Add((StableHash.Of(entry.Key), entry.Key));
                }
            }

            var take = candidates.Count;
            if (!all)
            {
                take = (int)Math.Round(candidates.Count * fraction, MidpointRounding.AwayFromZero);
                candidates.Sort();
            }

            var moved = 0;
            for (var i = 0; i < take; i++)
            {
                if (table.TryMove(candidates[i].Key, fromNodeId, toNodeId))
                {
                    moved++;
                }
            }

            // Cookies name their node: HTTP_COOKIE follows them on validation (a no-op record for the other types).
            _moves.Record(fromNodeId, toNodeId, all, _unixClock.Now);
            return new SessionMoveResult(moved, candidates.Count - moved);
        }
    }

    /// <summary>Counts the live persisted sessions per node id (for the API; walks the stick table).</summary>
    public Dictionary<int, int> CountSessionsByNode()
    {
        var counts = new Dictionary<int, int>();
        foreach (var entry in _snapshot.StickTable.Snapshot(_time.GetTimestamp()))
        {
            counts[entry.NodeId] = counts.GetValueOrDefault(entry.NodeId) + 1;
        }

        return counts;
    }

    /// <summary>The wall-clock time of a <see cref="TimeProvider.GetTimestamp"/> value.</summary>
    public DateTimeOffset ToUtc(long timestamp) =>
        _time.GetUtcNow() - TimeSpan.FromSeconds((double)(_time.GetTimestamp() - timestamp) / _time.TimestampFrequency);

    /// <summary>The <see cref="TimeProvider.GetTimestamp"/> value of a wall-clock time.</summary>
    public long ToTimestamp(DateTimeOffset utc) =>
        _time.GetTimestamp() - (long)((_time.GetUtcNow() - utc).TotalSeconds * _time.TimestampFrequency);

    /// <summary>The live stick-table entries in wall-clock form, to store them across a restart.</summary>
    public List<StoredStickEntry> ExportStickTable()
    {
        var snapshot = _snapshot;
        var list = new List<StoredStickEntry>();
        if (snapshot.PersistenceType is null)
        {
            return list;
        }

        foreach (var entry in snapshot.StickTable.Snapshot(_time.GetTimestamp()))
        {
            list.Add(new StoredStickEntry(entry.Key, entry.NodeId, ToUtc(entry.LastUse)));
        }

        return list;
    }

    /// <summary>Loads stored entries (after a restart) for nodes the load balancer still holds, skipping expired ones.</summary>
    /// <returns>How many entries were loaded.</returns>
    public int ImportStickTable(IEnumerable<StoredStickEntry> entries)
    {
        var snapshot = _snapshot;
        var now = _time.GetTimestamp();
        var loaded = 0;
        foreach (var entry in entries)
        {
            var at = ToTimestamp(entry.LastUse);
            if (snapshot.FindNode(entry.NodeId) is not null && now - at <= snapshot.TtlTicks)
            {
                snapshot.StickTable.Set(entry.Key, entry.NodeId, at);
                loaded++;
            }
        }

        return loaded;
    }

    /// <summary>HTTP_COOKIE: a new, non-zero session id.</summary>
    internal long NewSessionId()
    {
        long id;
        do
        {
            id = _random.NextInt64();
        }
        while (id == 0);
        return id;
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
                nodes[i] = new NodeState(nodeConfig, counters,
                    _addresses.TryGetValue(nodeConfig.Address, out var resolved) ? resolved.Address : null);
            }

            foreach (var id in _counters.Keys.ToArray())
            {
                if (!keep.Contains(id))
                {
                    _counters.Remove(id);
                }
            }

            return new LoadBalancerSnapshot(config, nodes, _random, _time, _stickTable);
        }
    }
}

/// <summary>The answer of <see cref="LoadBalancerRuntime.MoveSessions"/>.</summary>
/// <param name="Moved">Sessions re-pointed to the new node.</param>
/// <param name="Remaining">Live sessions the old node still held when the move ran (0 after a move of all).</param>
public readonly record struct SessionMoveResult(int Moved, int Remaining);

/// <summary>The answer of <see cref="LoadBalancerRuntime.Explain(in PersistenceRequest)"/>.</summary>
/// <param name="Node">The node the client would reach, or null when the algorithm will decide.</param>
/// <param name="Reason"><c>persisted</c>, <c>hashed</c>, <c>balanced</c> or <c>rejected</c>.</param>
public sealed record PersistenceExplanation(NodeState? Node, string Reason);

/// <summary>Counters of persistence decisions (issue 3: quality metrics). Lock-free.</summary>
public sealed class PersistenceStatistics
{
    private readonly long[] _counts = new long[Enum.GetValues<SelectionOutcome>().Length];

    /// <summary>Counts one decision.</summary>
    public void Count(SelectionOutcome outcome) => Interlocked.Increment(ref _counts[(int)outcome]);

    private long _failedRetries;

    /// <summary>How many decisions had <paramref name="outcome"/>.</summary>
    public long Get(SelectionOutcome outcome) => Volatile.Read(ref _counts[(int)outcome]);

    /// <summary>Retries after a failed connect that found no other node: counted as
    /// <see cref="SelectionOutcome.NoNodeAvailable"/>, answered 502 (the node failed) rather than 503.</summary>
    public long FailedRetries => Volatile.Read(ref _failedRetries);

    /// <summary>Counts a retry that found no other node.</summary>
    public void CountFailedRetry() => Interlocked.Increment(ref _failedRetries);
}
