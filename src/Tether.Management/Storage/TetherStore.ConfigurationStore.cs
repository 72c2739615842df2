using Tether.Core.Model;
using Tether.Core.SessionPersistence;

namespace Tether.Management.Storage;

/// <summary>The SQLite store as the authoritative <see cref="IConfigurationStore"/> of a single instance, and as the
/// last known configuration of a cluster instance (<see cref="ReplaceAll"/>).</summary>
public sealed partial class TetherStore
{
    IReadOnlyList<LoadBalancerConfig> IConfigurationStore.LoadAll() => LoadAll();

    void IConfigurationStore.Save(Audit.AuditEntry? audit, params IReadOnlyCollection<LoadBalancerConfig> configs) => Save(audit, configs);

    void IConfigurationStore.Delete(IReadOnlyCollection<Audit.AuditEntry> audits, IReadOnlyCollection<int> ids) => Delete(audits, ids);

    int IConfigurationStore.NextIds(string sequence, int count) => NextIds(sequence, count);

    Auth.TokenGrant? IConfigurationStore.FindToken(string token) => FindToken(token);

    IReadOnlyList<(string Token, int AccountId)> IConfigurationStore.ListTokens() => ListTokens();

    void IConfigurationStore.AddToken(string token, int accountId, DateTimeOffset created, Auth.TokenRole role) =>
        AddToken(token, accountId, created, role);

    IReadOnlyList<CookieKey> IConfigurationStore.GetOrCreateCookieKeys() => GetOrCreateCookieKeys();

    /// <summary>Makes the stored load balancers exactly <paramref name="configs"/> (one transaction): cluster mode keeps
    /// the last configuration read from the shared store here, so that an instance starts while that store is
    /// away.</summary>
    internal void ReplaceAll(IReadOnlyCollection<LoadBalancerConfig> configs)
    {
        var keep = configs.Select(c => c.Id).ToHashSet();
        var gone = LoadAll().Where(c => !keep.Contains(c.Id)).Select(c => c.Id).ToList();
        Delete(gone);
        Save(configs);
    }

    /// <summary>Makes the stored cookie keys exactly <paramref name="keys"/> (cluster mode: the shared key set, kept
    /// for a start while the shared store is away).</summary>
    internal void ReplaceCookieKeys(IReadOnlyCollection<CookieKey> keys)
    {
        using var connection = OpenConnection();
        using var transaction = connection.BeginTransaction(deferred: false);
        using (var delete = connection.CreateCommand())
        {
            delete.Transaction = transaction;
            delete.CommandText = "DELETE FROM cookie_keys;";
            delete.ExecuteNonQuery();
        }

        foreach (var key in keys)
        {
            InsertCookieKey(connection, transaction, key);
        }

        transaction.Commit();
    }

    /// <summary>The next id of a sequence without reserving it (1 when the sequence was never used).</summary>
    internal long PeekNextId(string sequence)
    {
        using var connection = OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT next FROM sequences WHERE name = $name;";
        command.Parameters.AddWithValue("$name", sequence);
        return command.ExecuteScalar() is { } next and not DBNull ? Convert.ToInt64(next, System.Globalization.CultureInfo.InvariantCulture) : 1;
    }

    /// <summary>The stored cookie keys ordered by id, creating none.</summary>
    internal IReadOnlyList<CookieKey> ReadCookieKeysIfAny()
    {
        using var connection = OpenConnection();
        using var transaction = connection.BeginTransaction(deferred: true);
        return ReadCookieKeys(connection, transaction);
    }
}
