using System.Collections.Concurrent;
using System.Security.Cryptography;
using StackExchange.Redis;
using Tether.Core.Model;
using Tether.Core.SessionPersistence;
using Tether.Management.Auth;
using Tether.Management.Storage;

namespace Tether.Cluster;

/// <summary>
/// Cluster mode's authoritative configuration (issue 14): every load balancer, the id sequences, the API tokens and
/// the cookie keys live in Redis, shared by every instance. Each change is one Lua script (atomic on Redis and Garnet)
/// that checks that the load balancers it replaces are still those this instance read, writes them with their audit
/// entry, bumps the revision counter and publishes the new revision.
/// </summary>
/// <remarks>
/// <para>Keys (under the connection's prefix, default <c>tether:</c>): <c>config:loadbalancers</c> (hash: id → the
/// load balancer's JSON document, the same form as the SQLite store's), <c>config:revision</c> (integer, bumped by
/// every change), <c>ids:{sequence}</c> (integer, the last id given; INCRBY), <c>tokens</c> (hash: token →
/// <c>account role created</c>), <c>cookie-keys</c> (hash: key id → base64 secret), <c>audit</c> (hash: id → the
/// entry's JSON) with <c>ids:audit</c>. Channel: <c>config:revision</c> (message: the new revision).</para>
/// <para>Commands: HGET, HGETALL, HSET, HSETNX, HDEL, INCR, INCRBY, GET, PUBLISH, EVAL: Redis 7.0 and Garnet both
/// have them. A store that is not connected (or fails) throws <see cref="ConfigurationStoreUnavailableException"/>
/// for writes; reads of tokens and cookie keys fall back to the local SQLite copy.</para>
/// </remarks>
public sealed class RedisConfigurationStore : IConfigurationStore
{
    /// <summary>The Lua script of one change. KEYS: load balancers, revision, audit, audit sequence. ARGV: channel,
    /// the highest revision this instance has seen (a store without a revision then lost its data: the change is
    /// refused with 0 until an instance refilled it, see <see cref="Reseed"/>), then a count and (id, expected) pairs (expected <c>-</c>: absent; <c>=</c> and the JSON: unchanged), a count and
    /// (id, JSON) pairs to write, a count and ids to delete, a count and audit entries. Returns the new revision, or
    /// minus the id of a load balancer changed meanwhile, or 0 for a store that lost its data (then nothing was
    /// written).</summary>
    private const string ChangeScript = """
        if tonumber(ARGV[2]) > 0 and redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
        local i = 3
        local n = tonumber(ARGV[i]); i = i + 1
        for k = 1, n do
          local cur = redis.call('HGET', KEYS[1], ARGV[i])
          local exp = ARGV[i + 1]
          if (not cur and exp ~= '-') or (cur and exp ~= ('=' .. cur)) then
            return -tonumber(ARGV[i])
          end
          i = i + 2
        end
        n = tonumber(ARGV[i]); i = i + 1
        for k = 1, n do
          redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
          i = i + 2
        end
        n = tonumber(ARGV[i]); i = i + 1
        for k = 1, n do
          redis.call('HDEL', KEYS[1], ARGV[i])
          i = i + 1
        end
        n = tonumber(ARGV[i]); i = i + 1
        for k = 1, n do
          local id = redis.call('INCR', KEYS[4])
          redis.call('HSET', KEYS[3], tostring(id), ARGV[i])
          i = i + 1
        end
        local rev = redis.call('INCR', KEYS[2])
        redis.call('PUBLISH', ARGV[1], tostring(rev))
        return rev
        """;

    private readonly ClusterStoreConnection _connection;
    private readonly TetherStore _local;
    private readonly ClusterSecrets _secrets;

    // The JSON of each load balancer as this instance last read or wrote it: a change must be based on it.
    private readonly ConcurrentDictionary<int, string> _seen = new();

    /// <summary>Creates the store over <paramref name="connection"/>; <paramref name="local"/> is the instance's
    /// SQLite store (the fallback for tokens and cookie keys while Redis is away).</summary>
    public RedisConfigurationStore(ClusterStoreConnection connection, TetherStore local)
    {
        _connection = connection;
        _local = local;
        _secrets = new ClusterSecrets(connection);
        LoadBalancersKey = connection.Key("config:loadbalancers");
        RevisionKey = connection.Key("config:revision");
        RevisionChannel = new RedisChannel(connection.Prefix + "config:revision", RedisChannel.PatternMode.Literal);
    }

    /// <summary>The hash of every load balancer.</summary>
    public RedisKey LoadBalancersKey { get; }

    /// <summary>The revision counter.</summary>
    public RedisKey RevisionKey { get; }

    /// <summary>The channel each change publishes its revision on.</summary>
    public RedisChannel RevisionChannel { get; }

    private IDatabase Db => _connection.Multiplexer.GetDatabase();

    /// <summary>The current revision (0 before the first change).</summary>
    /// <exception cref="ConfigurationStoreUnavailableException">Redis cannot be reached.</exception>
    public long ReadRevision()
    {
        var revision = Call(() => (long?)Db.StringGet(RevisionKey) ?? 0);
        Seen(revision);
        return revision;
    }

    /// <summary>The highest revision this instance has read or written: above 0, a store without a revision has lost
    /// its data (a Redis restarted without persistence) rather than never held any.</summary>
    public long HighestRevisionSeen => Interlocked.Read(ref _highestRevisionSeen);

    private long _highestRevisionSeen;

    private void Seen(long revision)
    {
        var current = Interlocked.Read(ref _highestRevisionSeen);
        while (revision > current)
        {
            var before = Interlocked.CompareExchange(ref _highestRevisionSeen, revision, current);
            if (before == current)
            {
                return;
            }

            current = before;
        }
    }

    /// <inheritdoc />
    public IReadOnlyList<LoadBalancerConfig> LoadAll()
    {
        var entries = Call(() => Db.HashGetAll(LoadBalancersKey));
        var result = new List<LoadBalancerConfig>(entries.Length);
        var seen = new Dictionary<int, string>(entries.Length);
        foreach (var entry in entries)
        {
            var json = (string)entry.Value!;
            var config = StoredLoadBalancer.Deserialize(json);
            seen[config.Id] = json;
            result.Add(config);
        }

        foreach (var id in _seen.Keys)
        {
            if (!seen.ContainsKey(id))
            {
                _seen.TryRemove(id, out _);
            }
        }

        foreach (var (id, json) in seen)
        {
            _seen[id] = json;
        }

        result.Sort((a, b) => a.Id.CompareTo(b.Id));
        return result;
    }

    /// <inheritdoc />
    void IConfigurationStore.Save(Management.Audit.AuditEntry? audit, params IReadOnlyCollection<LoadBalancerConfig> configs)
    {
        var written = configs.Select(c => (c.Id, Json: StoredLoadBalancer.Serialize(c))).ToList();
        Change(configs.Select(c => c.Id), written, [], audit is null ? [] : [audit]);
        foreach (var (id, json) in written)
        {
            _seen[id] = json;
        }
    }

    /// <inheritdoc />
    void IConfigurationStore.Delete(IReadOnlyCollection<Management.Audit.AuditEntry> audits, IReadOnlyCollection<int> ids)
    {
        Change(ids, [], ids, audits);
        foreach (var id in ids)
        {
            _seen.TryRemove(id, out _);
        }
    }

    private void Change(IEnumerable<int> based, List<(int Id, string Json)> writes, IReadOnlyCollection<int> deletes,
        IReadOnlyCollection<Management.Audit.AuditEntry> audits)
    {
        var args = new List<RedisValue> { RevisionChannel.ToString(), HighestRevisionSeen };
        var checks = based.Distinct().ToList();
        args.Add(checks.Count);
        foreach (var id in checks)
        {
            args.Add(id);
            args.Add(_seen.TryGetValue(id, out var json) ? "=" + json : "-");
        }

        args.Add(writes.Count);
        foreach (var (id, json) in writes)
        {
            args.Add(id);
            args.Add(json);
        }

        args.Add(deletes.Count);
        foreach (var id in deletes)
        {
            args.Add(id);
        }

        args.Add(audits.Count);
        foreach (var audit in audits)
        {
            args.Add(audit.ToJson().ToJsonString());
        }

        var result = (long)Call(() => Db.ScriptEvaluate(ChangeScript,
            [LoadBalancersKey, RevisionKey, _connection.Key("audit"), _connection.Key("ids:audit")], [.. args]));
        if (result < 0)
        {
            throw new ConfigurationConflictException((int)-result);
        }

        if (result == 0)
        {
            // Redis came back without its data; the next sync (within 250 ms) refills it from this instance's copy.
            throw new ConfigurationStoreUnavailableException("The cluster store lost its data and is being refilled from the instances' copies; try again in a second.");
        }

        Seen(result);
    }

    /// <summary>The Lua script of a reseed. KEYS: load balancers, revision. ARGV: channel, a count and (id, JSON)
    /// pairs, a count and (sequence key, last id) pairs. Does nothing and returns 0 when the revision exists; else
    /// writes the load balancers, raises each sequence to at least its last id, sets the revision to 1, publishes
    /// it and returns 1.</summary>
    private const string ReseedScript = """
        if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
        local i = 2
        local n = tonumber(ARGV[i]); i = i + 1
        for k = 1, n do
          redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
          i = i + 2
        end
        n = tonumber(ARGV[i]); i = i + 1
        for k = 1, n do
          local cur = tonumber(redis.call('GET', ARGV[i]) or '0')
          if cur < tonumber(ARGV[i + 1]) then redis.call('SET', ARGV[i], ARGV[i + 1]) end
          i = i + 2
        end
        redis.call('SET', KEYS[2], '1')
        redis.call('PUBLISH', ARGV[1], '1')
        return 1
        """;

    /// <summary>
    /// Fills an empty store (no revision: a Redis that lost its data, or the first start of a cluster from a single
    /// instance's SQLite) with <paramref name="configs"/>, the id sequences raised past every id they hold and past
    /// the local store's sequences, and the local tokens; atomic, and only the first instance to try does it.
    /// </summary>
    /// <returns>True when this call filled the store.</returns>
    /// <exception cref="ConfigurationStoreUnavailableException">Redis cannot be reached.</exception>
    public bool Reseed(IReadOnlyCollection<LoadBalancerConfig> configs)
    {
        ArgumentNullException.ThrowIfNull(configs);
        var last = new Dictionary<string, long>
        {
            [Sequences.LoadBalancer] = 0,
            [Sequences.Node] = 0,
            [Sequences.VirtualIp] = 0,
            [Sequences.Metadata] = 0,
            [Sequences.AccessList] = 0,
            [Sequences.CertificateMapping] = 0,
        };
        void Raise(string sequence, long id) => last[sequence] = Math.Max(last[sequence], id);
        foreach (var config in configs)
        {
            Raise(Sequences.LoadBalancer, config.Id);
            foreach (var vip in config.VirtualIps)
            {
                Raise(Sequences.VirtualIp, vip.Id);
            }

            foreach (var node in config.Nodes)
            {
                Raise(Sequences.Node, node.Id);
                foreach (var item in node.Metadata)
                {
                    Raise(Sequences.Metadata, item.Id);
                }
            }

            foreach (var item in config.Metadata)
            {
                Raise(Sequences.Metadata, item.Id);
            }

            foreach (var item in config.AccessList)
            {
                Raise(Sequences.AccessList, item.Id);
            }

            foreach (var mapping in config.SslTermination?.CertificateMappings ?? [])
            {
                Raise(Sequences.CertificateMapping, mapping.Id);
            }
        }

        foreach (var sequence in last.Keys.ToList())
        {
            // The local sequences (a single instance's database) know the ids of deleted load balancers too.
            Raise(sequence, _local.PeekNextId(sequence) - 1);
        }

        var args = new List<RedisValue> { RevisionChannel.ToString(), configs.Count };
        foreach (var config in configs)
        {
            args.Add(config.Id);
            args.Add(StoredLoadBalancer.Serialize(config.Status == LoadBalancerStatus.Error ? config with { Status = LoadBalancerStatus.Active } : config));
        }

        args.Add(last.Count);
        foreach (var (sequence, id) in last)
        {
            args.Add((string)_connection.Key("ids:" + sequence)!);
            args.Add(id);
        }

        var done = (long)Call(() => Db.ScriptEvaluate(ReseedScript, [LoadBalancersKey, RevisionKey], [.. args])) == 1;
        if (done)
        {
            foreach (var (token, grant) in _local.ListTokenGrants())
            {
                _secrets.AddToken(token, grant.AccountId, DateTimeOffset.UnixEpoch, grant.Role, onlyIfAbsent: true);
            }
        }

        return done;
    }

    /// <inheritdoc />
    public int NextIds(string sequence, int count = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var last = Call(() => Db.StringIncrement(_connection.Key("ids:" + sequence), count));
        return checked((int)(last - count + 1));
    }

    /// <inheritdoc />
    public TokenGrant? FindToken(string token)
    {
        try
        {
            return _secrets.FindToken(token);
        }
        catch (ConfigurationStoreUnavailableException)
        {
            return _local.FindToken(token);
        }
    }

    /// <inheritdoc />
    public IReadOnlyList<(string Token, int AccountId)> ListTokens() =>
        [.. ReadTokens().Select(t => (t.Token, t.Grant.AccountId))];

    /// <summary>Every token in Redis with its grant and creation time; the local copy's while Redis is away.</summary>
    public IReadOnlyList<(string Token, TokenGrant Grant, DateTimeOffset Created)> ReadTokens()
    {
        try
        {
            return _secrets.ReadTokens();
        }
        catch (ConfigurationStoreUnavailableException)
        {
            return [.. _local.ListTokenGrants().Select(t => (t.Token, t.Grant, DateTimeOffset.UnixEpoch))];
        }
    }

    /// <inheritdoc />
    public void AddToken(string token, int accountId, DateTimeOffset created, TokenRole role = TokenRole.Admin)
    {
        _secrets.AddToken(token, accountId, created, role);
        _local.AddToken(token, accountId, created, role);
    }

    /// <inheritdoc />
    /// <remarks>Creates key 1 with HSETNX, so two instances starting at once agree on one key. Keeps a copy in the
    /// local store; while Redis is away, returns that copy.</remarks>
    public IReadOnlyList<CookieKey> GetOrCreateCookieKeys()
    {
        try
        {
            var keys = _secrets.ReadCookieKeys();
            if (keys.Count == 0)
            {
                // An empty store: the keys this instance kept (a Redis that lost its data, or a single instance's
                // database joining a cluster), so that cookies already issued stay valid; else a new key 1.
                var kept = _local.ReadCookieKeysIfAny();
                foreach (var key in kept.Count > 0 ? kept : [new CookieKey(1, RandomNumberGenerator.GetBytes(32))])
                {
                    _secrets.AddCookieKeyIfAbsent(key);
                }

                keys = _secrets.ReadCookieKeys();
            }

            _local.ReplaceCookieKeys(keys);
            return keys;
        }
        catch (ConfigurationStoreUnavailableException)
        {
            return _local.GetOrCreateCookieKeys();
        }
    }

    /// <summary>The cookie keys in Redis, ordered by id (none before the first <see cref="GetOrCreateCookieKeys"/>).</summary>
    /// <exception cref="ConfigurationStoreUnavailableException">Redis cannot be reached.</exception>
    public IReadOnlyList<CookieKey> ReadCookieKeys() => _secrets.ReadCookieKeys();

    /// <summary>Rotation in cluster mode: adds a key with the next id (32 random bytes) and returns every key.</summary>
    /// <exception cref="InvalidOperationException">Key id 255 is already used.</exception>
    public IReadOnlyList<CookieKey> AddCookieKey() => _secrets.AddCookieKey();

    /// <summary>Runs one Redis call; a connection that is down, or any client failure, is
    /// <see cref="ConfigurationStoreUnavailableException"/>.</summary>
    private T Call<T>(Func<T> call)
    {
        if (!_connection.IsConnected)
        {
            throw new ConfigurationStoreUnavailableException("The cluster store is unavailable (not connected).");
        }

        try
        {
            return call();
        }
        catch (Exception e) when (e is RedisConnectionException or RedisTimeoutException or ObjectDisposedException)
        {
            throw new ConfigurationStoreUnavailableException($"The cluster store is unavailable ({e.Message}).", e);
        }
    }
}
