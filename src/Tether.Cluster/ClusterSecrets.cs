using System.Globalization;
using System.Security.Cryptography;
using StackExchange.Redis;
using Tether.Core.SessionPersistence;
using Tether.Management.Auth;
using Tether.Management.Storage;

namespace Tether.Cluster;

/// <summary>
/// The API tokens and cookie signing keys in the cluster store (issue 14), with no local fallback: what
/// <c>tether token</c> and <c>tether keys</c> change with <c>--redis</c>, and what <see cref="RedisConfigurationStore"/>
/// reads and writes before it falls back to the instance's SQLite copy. Every instance reads tokens from here on each
/// API call (a change takes effect at once everywhere) and re-reads the keys periodically and whenever a cookie names
/// a key id it lacks.
/// </summary>
/// <remarks>Keys (under the connection's prefix): <c>tokens</c> (hash: token → <c>account role created</c>, created in
/// Unix seconds) and <c>cookie-keys</c> (hash: key id 1 to 255 → base64 of the 32-byte secret). Commands: HGET,
/// HGETALL, HSET (NX), HDEL.</remarks>
public sealed class ClusterSecrets
{
    private readonly ClusterStoreConnection _connection;
    private readonly RedisKey _tokens;
    private readonly RedisKey _keys;

    /// <summary>Creates the view over <paramref name="connection"/>.</summary>
    public ClusterSecrets(ClusterStoreConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        _connection = connection;
        _tokens = connection.Key("tokens");
        _keys = connection.Key("cookie-keys");
    }

    private IDatabase Db => _connection.Multiplexer.GetDatabase();

    /// <summary>The grant of <paramref name="token"/>, or null when the store holds no such token.</summary>
    /// <exception cref="ConfigurationStoreUnavailableException">Redis cannot be reached.</exception>
    public TokenGrant? FindToken(string token)
    {
        var value = Call(() => Db.HashGet(_tokens, token));
        return value.IsNull ? null : ParseToken((string)value!).Grant;
    }

    /// <summary>Every token with its grant and creation time.</summary>
    /// <exception cref="ConfigurationStoreUnavailableException">Redis cannot be reached.</exception>
    public IReadOnlyList<(string Token, TokenGrant Grant, DateTimeOffset Created)> ReadTokens() =>
        [.. Call(() => Db.HashGetAll(_tokens)).Select(e =>
        {
            var (grant, created) = ParseToken((string)e.Value!);
            return ((string)e.Name!, grant, created);
        })];

    /// <summary>Stores <paramref name="token"/> for <paramref name="accountId"/> (1 or more) with
    /// <paramref name="role"/>; <paramref name="onlyIfAbsent"/> keeps a token already stored as it is.</summary>
    /// <exception cref="ConfigurationStoreUnavailableException">Redis cannot be reached.</exception>
    public void AddToken(string token, int accountId, DateTimeOffset created, TokenRole role, bool onlyIfAbsent = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(token);
        ArgumentOutOfRangeException.ThrowIfLessThan(accountId, 1);
        var value = string.Create(CultureInfo.InvariantCulture, $"{accountId} {TokenRoles.Name(role)} {created.ToUnixTimeSeconds()}");
        Call(() => Db.HashSet(_tokens, token, value, onlyIfAbsent ? When.NotExists : When.Always));
    }

    /// <summary>Removes <paramref name="token"/>: every instance refuses it from its next API call on.</summary>
    /// <returns>False when the store held no such token.</returns>
    /// <exception cref="ConfigurationStoreUnavailableException">Redis cannot be reached.</exception>
    public bool DeleteToken(string token) => Call(() => Db.HashDelete(_tokens, token));

    /// <summary>The cookie keys, ordered by id (none before the first instance started).</summary>
    /// <exception cref="ConfigurationStoreUnavailableException">Redis cannot be reached.</exception>
    public IReadOnlyList<CookieKey> ReadCookieKeys() =>
        [.. Call(() => Db.HashGetAll(_keys))
            .Select(e => new CookieKey(byte.Parse((string)e.Name!, CultureInfo.InvariantCulture), Convert.FromBase64String((string)e.Value!)))
            .OrderBy(k => k.Id)];

    /// <summary>Stores <paramref name="key"/> unless its id is taken (HSET NX), so that instances starting at once
    /// agree on one key.</summary>
    /// <exception cref="ConfigurationStoreUnavailableException">Redis cannot be reached.</exception>
    public void AddCookieKeyIfAbsent(CookieKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        Call(() => Db.HashSet(_keys, (int)key.Id, Convert.ToBase64String(key.Secret), When.NotExists));
    }

    /// <summary>Rotation: adds a key with the next id (32 random bytes; key 1 when the store holds none) and returns
    /// every key. New cookies are signed with it on every instance from its next key reload on.</summary>
    /// <exception cref="InvalidOperationException">Key id 255 is already used.</exception>
    /// <exception cref="ConfigurationStoreUnavailableException">Redis cannot be reached.</exception>
    public IReadOnlyList<CookieKey> AddCookieKey()
    {
        var keys = ReadCookieKeys();
        var next = keys.Count == 0 ? 1 : keys[^1].Id + 1;
        if (next > byte.MaxValue)
        {
            throw new InvalidOperationException("Cookie key id 255 is used: no further key can be added.");
        }

        AddCookieKeyIfAbsent(new CookieKey((byte)next, RandomNumberGenerator.GetBytes(32)));
        return ReadCookieKeys();
    }

    private static (TokenGrant Grant, DateTimeOffset Created) ParseToken(string value)
    {
        var parts = value.Split(' ');
        var role = parts.Length > 1 && TokenRoles.TryParse(parts[1], out var parsed) ? parsed : TokenRole.Observer;
        var created = parts.Length > 2 && long.TryParse(parts[2], CultureInfo.InvariantCulture, out var seconds)
            ? DateTimeOffset.FromUnixTimeSeconds(seconds) : DateTimeOffset.UnixEpoch;
        return (new TokenGrant(int.Parse(parts[0], CultureInfo.InvariantCulture), role), created);
    }

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
