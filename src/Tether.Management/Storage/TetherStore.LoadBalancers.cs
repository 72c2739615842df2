using System.Globalization;
using Microsoft.Data.Sqlite;
using Tether.Core.Model;

namespace Tether.Management.Storage;

/// <summary>The load balancers (one JSON document per row of <c>load_balancers</c>) and the id sequences.</summary>
public sealed partial class TetherStore
{
    /// <summary>Reads every stored load balancer, of every account, ordered by id.</summary>
    /// <exception cref="InvalidDataException">A stored document cannot be read.</exception>
    public IReadOnlyList<LoadBalancerConfig> LoadAll()
    {
        using var connection = OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT json FROM load_balancers ORDER BY id;";
        using var reader = command.ExecuteReader();
        var result = new List<LoadBalancerConfig>();
        while (reader.Read())
        {
            result.Add(StoredLoadBalancer.Deserialize(reader.GetString(0)));
        }

        return result;
    }

    /// <summary>Inserts or replaces load balancers (one transaction for all).</summary>
    internal void Save(params IReadOnlyCollection<LoadBalancerConfig> configs) => Save(null, configs);

    /// <summary>Inserts or replaces load balancers and appends <paramref name="audit"/> (when given) to the audit log,
    /// in one transaction: an acknowledged change always has its audit entry.</summary>
    internal void Save(Audit.AuditEntry? audit, params IReadOnlyCollection<LoadBalancerConfig> configs)
    {
        using var connection = OpenConnection();
        using var transaction = connection.BeginTransaction(deferred: false);
        if (audit is not null)
        {
            InsertAudit(connection, transaction, audit);
        }

        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT INTO load_balancers(id, account_id, json) VALUES ($id, $account, $json)
            ON CONFLICT(id) DO UPDATE SET account_id = excluded.account_id, json = excluded.json;
            """;
        var id = command.Parameters.Add("$id", SqliteType.Integer);
        var account = command.Parameters.Add("$account", SqliteType.Integer);
        var json = command.Parameters.Add("$json", SqliteType.Text);
        foreach (var config in configs)
        {
            id.Value = config.Id;
            account.Value = config.AccountId;
            json.Value = StoredLoadBalancer.Serialize(config);
            command.ExecuteNonQuery();
        }

        transaction.Commit();
    }

    /// <summary>Deletes load balancers by id (one transaction; unknown ids are ignored).</summary>
    internal void Delete(params IReadOnlyCollection<int> ids) => Delete([], ids);

    /// <summary>Deletes load balancers by id and appends <paramref name="audits"/> to the audit log, in one
    /// transaction.</summary>
    internal void Delete(IReadOnlyCollection<Audit.AuditEntry> audits, IReadOnlyCollection<int> ids)
    {
        using var connection = OpenConnection();
        using var transaction = connection.BeginTransaction(deferred: false);
        foreach (var audit in audits)
        {
            InsertAudit(connection, transaction, audit);
        }

        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "DELETE FROM load_balancers WHERE id = $id;";
        var id = command.Parameters.Add("$id", SqliteType.Integer);
        foreach (var value in ids)
        {
            id.Value = value;
            command.ExecuteNonQuery();
        }

        transaction.Commit();
    }

    /// <summary>Reserves <paramref name="count"/> consecutive ids of a sequence (ids start at 1, are unique across
    /// accounts and are never reused) and returns the first.</summary>
    /// <param name="sequence">One of <see cref="Sequences"/>.</param>
    /// <param name="count">How many ids, at least 1.</param>
    internal int NextIds(string sequence, int count = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        using var connection = OpenConnection();
        using var transaction = connection.BeginTransaction(deferred: false);
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT INTO sequences(name, next) VALUES ($name, 1) ON CONFLICT(name) DO NOTHING;
            UPDATE sequences SET next = next + $count WHERE name = $name RETURNING next - $count;
            """;
        command.Parameters.AddWithValue("$name", sequence);
        command.Parameters.AddWithValue("$count", count);
        var first = Convert.ToInt32(command.ExecuteScalar(), CultureInfo.InvariantCulture);
        transaction.Commit();
        return first;
    }
}

/// <summary>The names of the id sequences (table <c>sequences</c>); ids are unique across accounts.</summary>
internal static class Sequences
{
    public const string LoadBalancer = "load_balancer";
    public const string Node = "node";
    public const string VirtualIp = "virtual_ip";
    public const string Metadata = "metadata";
    public const string AccessList = "access_list";
    public const string CertificateMapping = "certificate_mapping";
}
