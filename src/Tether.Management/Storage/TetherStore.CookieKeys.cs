using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Data.Sqlite;
using Tether.Core.SessionPersistence;

namespace Tether.Management.Storage;

/// <summary>The persistence cookie keys (table <c>cookie_keys</c>).</summary>
public sealed partial class TetherStore
{
    /// <summary>
    /// The HMAC-SHA256 keys that sign persistence cookies (docs/session-persistence.md), ordered by id (1..255; the highest
    /// signs). On the first call of a new store, creates key 1: 32 bytes from <see cref="RandomNumberGenerator"/>.
    /// </summary>
    public IReadOnlyList<CookieKey> GetOrCreateCookieKeys()
    {
        using var connection = OpenConnection();
        using var transaction = connection.BeginTransaction(deferred: false);
        var keys = ReadCookieKeys(connection, transaction);
        if (keys.Count == 0)
        {
            var key = new CookieKey(1, RandomNumberGenerator.GetBytes(32));
            InsertCookieKey(connection, transaction, key);
            keys.Add(key);
        }

        transaction.Commit();
        return keys;
    }

    /// <summary>
    /// Rotation: adds a new key (32 random bytes) with the next id, which then signs new cookies while the older keys
    /// still validate. Returns every key, ordered by id.
    /// </summary>
    /// <exception cref="InvalidOperationException">Key id 255 is already used.</exception>
    public IReadOnlyList<CookieKey> AddCookieKey()
    {
        using var connection = OpenConnection();
        using var transaction = connection.BeginTransaction(deferred: false);
        var keys = ReadCookieKeys(connection, transaction);
        var next = keys.Count == 0 ? 1 : keys[^1].Id + 1;
        if (next > byte.MaxValue)
        {
            throw new InvalidOperationException("Cookie key id 255 is used: no further key can be added.");
        }

        var key = new CookieKey((byte)next, RandomNumberGenerator.GetBytes(32));
        InsertCookieKey(connection, transaction, key);
        keys.Add(key);
        transaction.Commit();
        return keys;
    }

    private static List<CookieKey> ReadCookieKeys(SqliteConnection connection, SqliteTransaction transaction)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT id, secret FROM cookie_keys ORDER BY id;";
        using var reader = command.ExecuteReader();
        var keys = new List<CookieKey>();
        while (reader.Read())
        {
            keys.Add(new CookieKey((byte)reader.GetInt32(0), (byte[])reader.GetValue(1)));
        }

        return keys;
    }

    private void InsertCookieKey(SqliteConnection connection, SqliteTransaction transaction, CookieKey key)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT INTO cookie_keys(id, secret, created) VALUES ($id, $secret, $created);";
        command.Parameters.AddWithValue("$id", (int)key.Id);
        command.Parameters.Add("$secret", SqliteType.Blob).Value = key.Secret;
        command.Parameters.AddWithValue("$created", _time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture));
        command.ExecuteNonQuery();
    }
}
