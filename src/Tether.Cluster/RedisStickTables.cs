using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;
using Tether.Core.Model;
using Tether.Core.Runtime;
using Tether.Core.SessionPersistence;

namespace Tether.Cluster;

/// <summary>
/// Stick tables shared through the cluster store (issue 14; docs/cluster.md "Shared stick tables"). Each pin is one
/// string key <c>{prefix}stick:{loadBalancerId}:{TYPE}:{key as 32 hex digits}</c> holding the node id, with the load
/// balancer's persistence timeout as its TTL. A new pin is <c>SET NX</c>: when two instances see a new client at once,
/// the first write wins and the other instance adopts its node. A used pin is refreshed (<c>PEXPIRE</c>) at most once
/// per quarter of the timeout per entry (the local <see cref="StickTable"/> throttles). HTTP_COOKIE unpin marks live in
/// the hash <c>{prefix}stick:{loadBalancerId}:unpinned</c> (node id → Unix second) and are published on the channel
/// <c>{prefix}stick:unpin</c>.
/// </summary>
/// <remarks>
/// <para>Writes leave the request path through a lock-free bounded queue (<see cref="StickTableSharingOptions.QueueCapacity"/>):
/// enqueueing allocates nothing and never blocks; a write that finds the queue full, or the store away, is dropped and
/// counted. One flush at a time drains the queue into pipelined batches. On reconnect every live local pin is written
/// again with <c>SET NX</c> and the unpin marks are re-read, so the store converges with nothing lost that an instance
/// still holds.</para>
/// <para>Uses only commands Redis 7.0 and Garnet both have: SET (PX, NX), GET, PEXPIRE, DEL, HSET, HGETALL, SCAN,
/// PUBLISH/SUBSCRIBE.</para>
/// </remarks>
public sealed class RedisStickTables : IStickTableReplication, IThreadPoolWorkItem, IDisposable
{
    private readonly ClusterStoreConnection _store;
    private readonly StickTableSharingOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentQueue<StickWrite> _queue = new();
    private readonly ConcurrentDictionary<int, RedisStickReplica> _replicas = new();
    private readonly RedisChannel _unpinChannel;
    private readonly TimeSpan _fetchTimeout;
    private int _queued;
    private int _scheduled;
    private int _subscribed;
    private long _dropped;
    private long _published;
    private long _adopted;
    private long _refreshed;
    private long _fetched;
    private long _fetchFailures;
    private bool _disposed;

    /// <summary>Creates the shared stick tables of one instance.</summary>
    /// <param name="store">The cluster store connection.</param>
    /// <param name="options">Timeouts and bounds.</param>
    /// <param name="time">The clock (the fetch timeout runs on it).</param>
    /// <param name="logger">Where the store's failures are logged.</param>
    public RedisStickTables(ClusterStoreConnection store, StickTableSharingOptions options, TimeProvider time, ILogger<RedisStickTables> logger)
    {
        _store = store;
        _options = options;
        _time = time;
        _logger = logger;
        _fetchTimeout = TimeSpan.FromMilliseconds(Math.Max(1, options.FetchTimeoutMilliseconds));
        _unpinChannel = RedisChannel.Literal(store.Prefix + "stick:unpin");
        store.Multiplexer.ConnectionRestored += OnConnectionRestored;
    }

    /// <summary>Writes dropped because the queue was full or the store away (the pins stay local; a reconnect writes
    /// them again).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>New pins written (<c>SET NX</c>) that won.</summary>
    public long Published => Interlocked.Read(ref _published);

    /// <summary>New pins that lost to another instance's: the local table took the winner's node.</summary>
    public long Adopted => Interlocked.Read(ref _adopted);

    /// <summary>Idle refreshes written (<c>PEXPIRE</c>).</summary>
    public long Refreshed => Interlocked.Read(ref _refreshed);

    /// <summary>Local misses that found a shared pin.</summary>
    public long Fetched => Interlocked.Read(ref _fetched);

    /// <summary>Local misses whose fetch timed out or failed (the request was placed by the local decision).</summary>
    public long FetchFailures => Interlocked.Read(ref _fetchFailures);

    /// <summary>Writes waiting in the queue.</summary>
    public int Queued => Volatile.Read(ref _queued);

    /// <inheritdoc />
    public IStickTableReplica Create(LoadBalancerRuntime runtime, PersistenceType type, StickTable table)
    {
        var replica = new RedisStickReplica(this, runtime, type, table, _store.Prefix);
        _replicas[replica.LoadBalancerId] = replica;
        Subscribe();
        _ = LoadMarksAsync(replica);
        return replica;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _disposed = true;
        _store.Multiplexer.ConnectionRestored -= OnConnectionRestored;
    }

    internal void Forget(RedisStickReplica replica) =>
        _replicas.TryRemove(new KeyValuePair<int, RedisStickReplica>(replica.LoadBalancerId, replica));

    /// <summary>Queues one write; drops and counts it when the queue is full. No lock, no allocation.</summary>
    internal void Enqueue(in StickWrite write)
    {
        if (Interlocked.Increment(ref _queued) > _options.QueueCapacity)
        {
            Interlocked.Decrement(ref _queued);
            Interlocked.Increment(ref _dropped);
            return;
        }

        _queue.Enqueue(write);
        if (Volatile.Read(ref _scheduled) == 0 && Interlocked.Exchange(ref _scheduled, 1) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
    }

    /// <inheritdoc />
    void IThreadPoolWorkItem.Execute() => _ = FlushAsync();

    private async Task FlushAsync()
    {
        var batch = new List<StickWrite>(_options.BatchSize);
        while (true)
        {
            batch.Clear();
            while (batch.Count < _options.BatchSize && _queue.TryDequeue(out var write))
            {
                Interlocked.Decrement(ref _queued);
                batch.Add(write);
            }

            if (batch.Count == 0)
            {
                Volatile.Write(ref _scheduled, 0);
                if (_queue.IsEmpty || Interlocked.Exchange(ref _scheduled, 1) != 0)
                {
                    return;
                }

                continue;
            }

            await SendAsync(batch).ConfigureAwait(false);
        }
    }

    /// <summary>Sends one batch, pipelined; then settles the new pins that lost (adopt the winner's node) and the
    /// refreshes that found no key (write the pin again with <c>SET NX</c>).</summary>
    private async Task SendAsync(List<StickWrite> batch)
    {
        if (!_store.IsConnected || _disposed)
        {
            Interlocked.Add(ref _dropped, batch.Count);
            return;
        }

        var db = _store.Multiplexer.GetDatabase();
        var pipeline = db.CreateBatch();
        var tasks = new Task<bool>[batch.Count];
        var keys = new RedisKey[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            var write = batch[i];
            var key = keys[i] = write.Replica.KeyOf(write.Key);
            var ttl = write.Replica.Ttl;
            tasks[i] = write.Kind switch
            {
                StickWriteKind.Publish => pipeline.StringSetAsync(key, write.NodeId, ttl, When.NotExists),
                StickWriteKind.Overwrite => pipeline.StringSetAsync(key, write.NodeId, ttl, When.Always),
                StickWriteKind.Refresh => pipeline.KeyExpireAsync(key, ttl),
                _ => pipeline.KeyDeleteAsync(key),
            };
        }

        pipeline.Execute();
        try
        {
            await Task.WhenAll(tasks).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            StickLog.WriteFailed(_logger, batch.Count, e.Message);
        }

        List<int>? lost = null;
        for (var i = 0; i < batch.Count; i++)
        {
            if (!tasks[i].IsCompletedSuccessfully)
            {
                Interlocked.Increment(ref _dropped);
                continue;
            }

            var done = tasks[i].Result;
            switch (batch[i].Kind)
            {
                case StickWriteKind.Publish when done:
                    Interlocked.Increment(ref _published);
                    break;
                case StickWriteKind.Publish:
                    (lost ??= []).Add(i);
                    break;
                case StickWriteKind.Refresh when done:
                    Interlocked.Increment(ref _refreshed);
                    break;
                case StickWriteKind.Refresh:
                    // The shared entry lapsed (it may lapse up to a quarter of the timeout before the local one): pinned again.
                    Enqueue(batch[i] with { Kind = StickWriteKind.Publish });
                    break;
            }
        }

        if (lost is not null)
        {
            await AdoptAsync(db, batch, keys, lost).ConfigureAwait(false);
        }
    }

    /// <summary>New pins another instance wrote first: the local entries take its node (when this instance's
    /// configuration holds that node already; otherwise the local pin stands until the configuration arrives).</summary>
    private async Task AdoptAsync(IDatabase db, List<StickWrite> batch, RedisKey[] keys, List<int> lost)
    {
        var lostKeys = new RedisKey[lost.Count];
        for (var i = 0; i < lost.Count; i++)
        {
            lostKeys[i] = keys[lost[i]];
        }

        RedisValue[] winners;
        try
        {
            winners = await db.StringGetAsync(lostKeys).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            StickLog.WriteFailed(_logger, lost.Count, e.Message);
            return;
        }

        for (var i = 0; i < lost.Count; i++)
        {
            var write = batch[lost[i]];
            if (winners[i].TryParse(out int winner) && winner != 0 && winner != write.NodeId
                && write.Replica.Runtime.Snapshot.FindNode(winner) is not null)
            {
                write.Replica.Table.Adopt(write.Key, winner);
                Interlocked.Increment(ref _adopted);
            }
        }
    }

    /// <summary>The shared pin of a key after a local miss (see <see cref="IStickTableReplica.FetchAsync"/>).</summary>
    internal async ValueTask<int> FetchAsync(RedisStickReplica replica, UInt128 key, CancellationToken cancellationToken)
    {
        if (!_store.IsConnected || _disposed)
        {
            Interlocked.Increment(ref _fetchFailures);
            return 0;
        }

        try
        {
            var value = await _store.Multiplexer.GetDatabase().StringGetAsync(replica.KeyOf(key))
                .WaitAsync(_fetchTimeout, _time, cancellationToken).ConfigureAwait(false);
            if (value.TryParse(out int nodeId))
            {
                Interlocked.Increment(ref _fetched);
                return nodeId;
            }

            return 0;
        }
        catch (Exception e) when (e is RedisException or TimeoutException or OperationCanceledException or ObjectDisposedException)
        {
            Interlocked.Increment(ref _fetchFailures);
            return 0;
        }
    }

    /// <summary>The persistence API unpinned a node here: the mark is stored and published, and the node's shared
    /// pins are deleted. Off the request path.</summary>
    internal async Task UnpinNodeAsync(RedisStickReplica replica, int nodeId, long unixSeconds)
    {
        try
        {
            var db = _store.Multiplexer.GetDatabase();
            var marks = replica.MarksKey;
            var transaction = db.CreateTransaction();
            _ = transaction.HashSetAsync(marks, nodeId, unixSeconds);
            _ = transaction.KeyExpireAsync(marks, replica.Ttl);
            await transaction.ExecuteAsync().ConfigureAwait(false);
            await db.PublishAsync(_unpinChannel, string.Create(CultureInfo.InvariantCulture, $"{replica.LoadBalancerId}:{nodeId}:{unixSeconds}"))
                .ConfigureAwait(false);
            if (replica.Type != PersistenceType.HttpCookie)
            {
                await DeletePinsOfAsync(db, replica, nodeId).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is RedisException or TimeoutException or InvalidOperationException)
        {
            StickLog.UnpinFailed(_logger, replica.LoadBalancerId, nodeId, e.Message);
        }
    }

    /// <summary>Deletes the shared pins of one node (SCAN over the load balancer's keys, GET, DEL of those naming the
    /// node).</summary>
    private async Task DeletePinsOfAsync(IDatabase db, RedisStickReplica replica, int nodeId)
    {
        foreach (var endPoint in _store.Multiplexer.GetEndPoints())
        {
            var server = _store.Multiplexer.GetServer(endPoint);
            if (!server.IsConnected || server.IsReplica)
            {
                continue;
            }

            var page = new List<RedisKey>(1000);
            await foreach (var key in server.KeysAsync(pattern: replica.KeyPattern, pageSize: 1000).ConfigureAwait(false))
            {
                page.Add(key);
                if (page.Count == 1000)
                {
                    await DeleteIfPinnedToAsync(db, page, nodeId).ConfigureAwait(false);
                    page.Clear();
                }
            }

            await DeleteIfPinnedToAsync(db, page, nodeId).ConfigureAwait(false);
        }
    }

    private static async Task DeleteIfPinnedToAsync(IDatabase db, List<RedisKey> keys, int nodeId)
    {
        if (keys.Count == 0)
        {
            return;
        }

        var values = await db.StringGetAsync([.. keys]).ConfigureAwait(false);
        var doomed = new List<RedisKey>();
        for (var i = 0; i < keys.Count; i++)
        {
            if (values[i].TryParse(out int owner) && owner == nodeId)
            {
                doomed.Add(keys[i]);
            }
        }

        if (doomed.Count > 0)
        {
            await db.KeyDeleteAsync([.. doomed]).ConfigureAwait(false);
        }
    }

    private void Subscribe()
    {
        if (Interlocked.Exchange(ref _subscribed, 1) == 0)
        {
            _ = SubscribeAsync();
        }
    }

    private async Task SubscribeAsync()
    {
        try
        {
            // StackExchange.Redis re-subscribes by itself after a reconnect.
            await _store.Multiplexer.GetSubscriber().SubscribeAsync(_unpinChannel, (_, message) => OnUnpinMessage(message)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            Volatile.Write(ref _subscribed, 0);
            StickLog.SubscribeFailed(_logger, e.Message);
        }
    }

    /// <summary>An unpin mark published by any instance (this one's own is applied again, which changes nothing).</summary>
    private void OnUnpinMessage(RedisValue message)
    {
        var text = (string?)message;
        var parts = text?.Split(':');
        if (parts is { Length: 3 }
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var loadBalancerId)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var nodeId)
            && long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var unixSeconds)
            && _replicas.TryGetValue(loadBalancerId, out var replica))
        {
            replica.Runtime.ApplySharedUnpin(nodeId, unixSeconds);
        }
    }

    /// <summary>Reads the unpin marks of a load balancer (when its table is built, and after a reconnect: a message
    /// published while this instance was away is lost).</summary>
    private async Task LoadMarksAsync(RedisStickReplica replica)
    {
        if (!_store.IsConnected)
        {
            return;
        }

        try
        {
            var marks = await _store.Multiplexer.GetDatabase().HashGetAllAsync(replica.MarksKey).ConfigureAwait(false);
            foreach (var mark in marks)
            {
                if (mark.Name.TryParse(out int nodeId) && mark.Value.TryParse(out long unixSeconds))
                {
                    replica.Runtime.ApplySharedUnpin(nodeId, unixSeconds);
                }
            }
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            StickLog.SubscribeFailed(_logger, e.Message);
        }
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        if (e.ConnectionType == ConnectionType.Interactive && !_disposed)
        {
            _ = ResyncAsync();
        }
    }

    /// <summary>After a reconnect: every live local pin is written again (<c>SET NX</c>, adopting the winner where
    /// another instance pinned the key meanwhile) and the unpin marks are re-read.</summary>
    private async Task ResyncAsync()
    {
        var written = 0;
        foreach (var replica in _replicas.Values)
        {
            await LoadMarksAsync(replica).ConfigureAwait(false);
            if (replica.Type == PersistenceType.HttpCookie)
            {
                continue;
            }

            var batch = new List<StickWrite>(_options.BatchSize);
            foreach (var entry in replica.Table.Snapshot(_time.GetTimestamp()))
            {
                batch.Add(new StickWrite(replica, StickWriteKind.Publish, entry.Key, entry.NodeId));
                if (batch.Count == _options.BatchSize)
                {
                    await SendAsync(batch).ConfigureAwait(false);
                    written += batch.Count;
                    batch.Clear();
                }
            }

            await SendAsync(batch).ConfigureAwait(false);
            written += batch.Count;
        }

        StickLog.Resynced(_logger, written);
    }
}

/// <summary>The shared copy of one load balancer's stick table (see <see cref="RedisStickTables"/>).</summary>
internal sealed class RedisStickReplica : IStickTableReplica
{
    private readonly RedisStickTables _owner;
    private readonly string _keyPrefix;
    private int _disposed;

    public RedisStickReplica(RedisStickTables owner, LoadBalancerRuntime runtime, PersistenceType type, StickTable table, string prefix)
    {
        _owner = owner;
        Runtime = runtime;
        Type = type;
        Table = table;
        LoadBalancerId = runtime.Snapshot.Id;
        var typeName = PersistenceTypeNames.ToName(type);
        _keyPrefix = string.Create(CultureInfo.InvariantCulture, $"{prefix}stick:{LoadBalancerId}:{typeName}:");
        KeyPattern = _keyPrefix + "*";
        MarksKey = string.Create(CultureInfo.InvariantCulture, $"{prefix}stick:{LoadBalancerId}:unpinned");
    }

    public LoadBalancerRuntime Runtime { get; }

    public PersistenceType Type { get; }

    public StickTable Table { get; }

    public int LoadBalancerId { get; }

    public string KeyPattern { get; }

    public RedisKey MarksKey { get; }

    /// <summary>The persistence timeout: the TTL of every shared pin.</summary>
    public TimeSpan Ttl => TimeSpan.FromSeconds(Runtime.Snapshot.TimeoutSeconds);

    private bool Disposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>The store key of a stick-table key: the prefix, then the key as 32 lower-case hex digits.</summary>
    public RedisKey KeyOf(UInt128 key) => string.Concat(_keyPrefix, key.ToString("x32", CultureInfo.InvariantCulture));

    public void Publish(UInt128 key, int nodeId) => Write(StickWriteKind.Publish, key, nodeId);

    public void Overwrite(UInt128 key, int nodeId) => Write(StickWriteKind.Overwrite, key, nodeId);

    public void Refresh(UInt128 key, int nodeId) => Write(StickWriteKind.Refresh, key, nodeId);

    public void Remove(UInt128 key) => Write(StickWriteKind.Remove, key, 0);

    public void UnpinNode(int nodeId, long unixSeconds)
    {
        if (!Disposed)
        {
            _ = _owner.UnpinNodeAsync(this, nodeId, unixSeconds);
        }
    }

    public ValueTask<int> FetchAsync(UInt128 key, CancellationToken cancellationToken) =>
        Disposed ? ValueTask.FromResult(0) : _owner.FetchAsync(this, key, cancellationToken);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _owner.Forget(this);
        }
    }

    private void Write(StickWriteKind kind, UInt128 key, int nodeId)
    {
        if (!Disposed)
        {
            _owner.Enqueue(new StickWrite(this, kind, key, nodeId));
        }
    }
}

/// <summary>One queued write.</summary>
internal readonly record struct StickWrite(RedisStickReplica Replica, StickWriteKind Kind, UInt128 Key, int NodeId);

/// <summary>What a <see cref="StickWrite"/> does.</summary>
internal enum StickWriteKind
{
    /// <summary>A new pin: <c>SET key node PX timeout NX</c>.</summary>
    Publish,
    /// <summary>A moved pin: <c>SET key node PX timeout</c>.</summary>
    Overwrite,
    /// <summary>A used pin: <c>PEXPIRE key timeout</c>.</summary>
    Refresh,
    /// <summary>An ended pin: <c>DEL key</c>.</summary>
    Remove,
}

internal static partial class StickLog
{
    [LoggerMessage(EventId = 1480, Level = LogLevel.Warning, Message = "Shared stick tables: {Count} writes failed: {Reason}")]
    public static partial void WriteFailed(ILogger logger, int count, string reason);

    [LoggerMessage(EventId = 1481, Level = LogLevel.Warning, Message = "Shared stick tables: load balancer {LoadBalancerId}: unpinning node {NodeId} did not reach the store: {Reason}")]
    public static partial void UnpinFailed(ILogger logger, int loadBalancerId, int nodeId, string reason);

    [LoggerMessage(EventId = 1482, Level = LogLevel.Warning, Message = "Shared stick tables: unpin marks not read: {Reason}")]
    public static partial void SubscribeFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 1483, Level = LogLevel.Information, Message = "Shared stick tables: store reconnected, {Count} local pins written again")]
    public static partial void Resynced(ILogger logger, int count);
}
