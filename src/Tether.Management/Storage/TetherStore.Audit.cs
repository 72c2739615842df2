using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Tether.Management.Storage;

/// <summary>The audit log (table <c>audit_log</c>).</summary>
public sealed partial class TetherStore
{
    /// <summary>Appends one entry to the audit log (its own transaction), for a change that failed and changed
    /// nothing.</summary>
    internal void AppendAudit(Audit.AuditEntry entry)
    {
        using var connection = OpenConnection();
        using var transaction = connection.BeginTransaction(deferred: false);
        InsertAudit(connection, transaction, entry);
        transaction.Commit();
    }

    /// <summary>One page of <paramref name="accountId"/>'s audit log, newest first: at most <paramref name="limit"/>
    /// entries with an id below <paramref name="marker"/> (all when null).</summary>
    internal IReadOnlyList<Audit.AuditEntry> ReadAudit(int accountId, long? marker, int limit)
    {
        using var connection = OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT id, account_id, time, token_id, method, resource, action, load_balancer_id, changes, notes, outcome
            FROM audit_log WHERE account_id = $account AND id < $marker ORDER BY id DESC LIMIT $limit;
            """;
        command.Parameters.AddWithValue("$account", accountId);
        command.Parameters.AddWithValue("$marker", marker ?? long.MaxValue);
        command.Parameters.AddWithValue("$limit", limit);
        using var reader = command.ExecuteReader();
        var result = new List<Audit.AuditEntry>();
        while (reader.Read())
        {
            var changes = new List<Audit.AuditChange>();
            foreach (var c in System.Text.Json.Nodes.JsonNode.Parse(reader.GetString(8))!.AsArray())
            {
                changes.Add(new Audit.AuditChange(c!["field"]!.GetValue<string>(), c["old"]?.DeepClone(), c["new"]?.DeepClone()));
            }

            var notes = System.Text.Json.Nodes.JsonNode.Parse(reader.GetString(9))!.AsArray().Select(n => n!.GetValue<string>()).ToList();
            result.Add(new Audit.AuditEntry(reader.GetInt64(0), reader.GetInt32(1),
                DateTimeOffset.Parse(reader.GetString(2), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind),
                reader.GetString(3), reader.GetString(4), reader.GetString(5), reader.GetString(6), reader.GetInt32(7), changes, notes,
                reader.GetString(10)));
        }

        return result;
    }

    private static void InsertAudit(SqliteConnection connection, SqliteTransaction transaction, Audit.AuditEntry entry)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT INTO audit_log(account_id, time, token_id, method, resource, action, load_balancer_id, changes, notes, outcome)
            VALUES ($account, $time, $token, $method, $resource, $action, $lb, $changes, $notes, $outcome);
            """;
        var changes = new System.Text.Json.Nodes.JsonArray();
        foreach (var c in entry.Changes)
        {
            changes.Add(new System.Text.Json.Nodes.JsonObject { ["field"] = c.Field, ["old"] = c.Old?.DeepClone(), ["new"] = c.New?.DeepClone() });
        }

        var notes = new System.Text.Json.Nodes.JsonArray();
        foreach (var n in entry.Notes)
        {
            notes.Add(n);
        }

        command.Parameters.AddWithValue("$account", entry.AccountId);
        command.Parameters.AddWithValue("$time", entry.Time.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
        command.Parameters.AddWithValue("$token", entry.TokenId);
        command.Parameters.AddWithValue("$method", entry.Method);
        command.Parameters.AddWithValue("$resource", entry.Resource);
        command.Parameters.AddWithValue("$action", entry.Action);
        command.Parameters.AddWithValue("$lb", entry.LoadBalancerId);
        command.Parameters.AddWithValue("$changes", changes.ToJsonString());
        command.Parameters.AddWithValue("$notes", notes.ToJsonString());
        command.Parameters.AddWithValue("$outcome", entry.Outcome);
        command.ExecuteNonQuery();
    }
}
