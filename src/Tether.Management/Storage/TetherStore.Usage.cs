using System.Globalization;
using Microsoft.Data.Sqlite;
using Tether.Management.Usage;

namespace Tether.Management.Storage;

/// <summary>
/// The usage reports' tables (docs/api.md "Usage"), created with the others when the database is opened (no schema
/// version change: a build without them ignores them):
/// <c>usage_records(id, account_id, load_balancer_id, start_time, end_time, incoming, outgoing, incoming_ssl,
/// outgoing_ssl, connections, connections_ssl, polls, vips, vip_type, ssl_mode, event_type)</c>, one row per usage
/// record (times in Unix seconds; <c>connections</c> the sum of the connection counts polled, so that the average is
/// <c>connections / polls</c>), and <c>usage_load_balancers(id, account_id, json, deleted)</c>, each load balancer
/// that has usage as the billable listing shows it, kept after the load balancer is deleted (<c>deleted</c>: when).
/// </summary>
public sealed partial class TetherStore
{
    private const string UsageSchema = """

        CREATE TABLE IF NOT EXISTS usage_records (id INTEGER PRIMARY KEY AUTOINCREMENT, account_id INTEGER NOT NULL,
            load_balancer_id INTEGER NOT NULL, start_time INTEGER NOT NULL, end_time INTEGER NOT NULL,
            incoming INTEGER NOT NULL, outgoing INTEGER NOT NULL, incoming_ssl INTEGER NOT NULL, outgoing_ssl INTEGER NOT NULL,
            connections INTEGER NOT NULL, connections_ssl INTEGER NOT NULL, polls INTEGER NOT NULL, vips INTEGER NOT NULL,
            vip_type TEXT NOT NULL, ssl_mode TEXT NOT NULL, event_type TEXT);
        CREATE INDEX IF NOT EXISTS usage_records_load_balancer ON usage_records(load_balancer_id, start_time);
        CREATE INDEX IF NOT EXISTS usage_records_account ON usage_records(account_id, start_time);
        CREATE TABLE IF NOT EXISTS usage_load_balancers (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL,
            json TEXT NOT NULL, deleted INTEGER);
        """;

    private const string UsageColumns = "id, account_id, load_balancer_id, start_time, end_time, incoming, outgoing, incoming_ssl, "
        + "outgoing_ssl, connections, connections_ssl, polls, vips, vip_type, ssl_mode, event_type";

    /// <summary>Writes usage records and load balancer descriptions in one transaction: a record with
    /// <see cref="UsageRecord.Id"/> 0 is inserted (and gets its id), the others are updated; descriptions replace the
    /// stored ones.</summary>
    internal void SaveUsage(IReadOnlyList<UsageRecord> records, IReadOnlyList<UsageLoadBalancer> loadBalancers)
    {
        using var connection = OpenConnection();
        using var transaction = connection.BeginTransaction(deferred: false);
        foreach (var record in records)
        {
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            if (record.Id == 0)
            {
                command.CommandText = """
                    INSERT INTO usage_records(account_id, load_balancer_id, start_time, end_time, incoming, outgoing, incoming_ssl,
                        outgoing_ssl, connections, connections_ssl, polls, vips, vip_type, ssl_mode, event_type)
                    VALUES ($account, $lb, $start, $end, $in, $out, $inSsl, $outSsl, $conn, $connSsl, $polls, $vips, $vipType, $sslMode, $event)
                    RETURNING id;
                    """;
            }
            else
            {
                command.CommandText = """
                    UPDATE usage_records SET end_time = $end, incoming = $in, outgoing = $out, incoming_ssl = $inSsl,
                        outgoing_ssl = $outSsl, connections = $conn, connections_ssl = $connSsl, polls = $polls, vips = $vips,
                        vip_type = $vipType, ssl_mode = $sslMode, event_type = $event
                    WHERE id = $id;
                    """;
                command.Parameters.AddWithValue("$id", record.Id);
            }

            command.Parameters.AddWithValue("$account", record.AccountId);
            command.Parameters.AddWithValue("$lb", record.LoadBalancerId);
            command.Parameters.AddWithValue("$start", record.Start.ToUnixTimeSeconds());
            command.Parameters.AddWithValue("$end", record.End.ToUnixTimeSeconds());
            command.Parameters.AddWithValue("$in", record.Incoming);
            command.Parameters.AddWithValue("$out", record.Outgoing);
            command.Parameters.AddWithValue("$inSsl", record.IncomingSsl);
            command.Parameters.AddWithValue("$outSsl", record.OutgoingSsl);
            command.Parameters.AddWithValue("$conn", record.Connections);
            command.Parameters.AddWithValue("$connSsl", record.ConnectionsSsl);
            command.Parameters.AddWithValue("$polls", record.Polls);
            command.Parameters.AddWithValue("$vips", record.Vips);
            command.Parameters.AddWithValue("$vipType", record.VipType);
            command.Parameters.AddWithValue("$sslMode", record.SslMode);
            command.Parameters.AddWithValue("$event", (object?)record.EventType ?? DBNull.Value);
            if (record.Id == 0)
            {
                record.Id = Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
            }
            else
            {
                command.ExecuteNonQuery();
            }
        }

        foreach (var loadBalancer in loadBalancers)
        {
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = """
                INSERT INTO usage_load_balancers(id, account_id, json, deleted) VALUES ($id, $account, $json, $deleted)
                ON CONFLICT(id) DO UPDATE SET account_id = excluded.account_id, json = excluded.json, deleted = excluded.deleted;
                """;
            command.Parameters.AddWithValue("$id", loadBalancer.Id);
            command.Parameters.AddWithValue("$account", loadBalancer.AccountId);
            command.Parameters.AddWithValue("$json", loadBalancer.Json);
            command.Parameters.AddWithValue("$deleted", loadBalancer.Deleted is { } deleted ? deleted.ToUnixTimeSeconds() : DBNull.Value);
            command.ExecuteNonQuery();
        }

        transaction.Commit();
    }

    /// <summary>The usage records of <paramref name="accountId"/> (of one load balancer when
    /// <paramref name="loadBalancerId"/> is given) that start within [<paramref name="start"/>, <paramref name="end"/>]
    /// (Rackspace's filter), by load balancer, then start time; <paramref name="offset"/> records skipped, at most
    /// <paramref name="limit"/> returned.</summary>
    internal List<UsageRecord> ReadUsage(int accountId, int? loadBalancerId, DateTimeOffset start, DateTimeOffset end, int offset, int limit)
    {
        using var connection = OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT {UsageColumns} FROM usage_records
            WHERE account_id = $account AND ($lb IS NULL OR load_balancer_id = $lb) AND start_time >= $start AND start_time <= $end
            ORDER BY load_balancer_id, start_time, id LIMIT $limit OFFSET $offset;
            """;
        command.Parameters.AddWithValue("$account", accountId);
        command.Parameters.AddWithValue("$lb", (object?)loadBalancerId ?? DBNull.Value);
        command.Parameters.AddWithValue("$start", start.ToUnixTimeSeconds());
        command.Parameters.AddWithValue("$end", end.ToUnixTimeSeconds());
        command.Parameters.AddWithValue("$limit", limit);
        command.Parameters.AddWithValue("$offset", offset);
        using var reader = command.ExecuteReader();
        var result = new List<UsageRecord>();
        while (reader.Read())
        {
            result.Add(ReadUsageRecord(reader));
        }

        return result;
    }

    /// <summary>The last usage record of every load balancer that has one (the recorder resumes from them after a
    /// restart).</summary>
    internal Dictionary<int, UsageRecord> ReadLastUsageRecords()
    {
        using var connection = OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {UsageColumns} FROM usage_records WHERE id IN (SELECT MAX(id) FROM usage_records GROUP BY load_balancer_id);";
        using var reader = command.ExecuteReader();
        var result = new Dictionary<int, UsageRecord>();
        while (reader.Read())
        {
            var record = ReadUsageRecord(reader);
            result[record.LoadBalancerId] = record;
        }

        return result;
    }

    /// <summary>True when load balancer <paramref name="loadBalancerId"/> of <paramref name="accountId"/> has usage
    /// records (it may have been deleted since).</summary>
    internal bool HasUsage(int accountId, int loadBalancerId)
    {
        using var connection = OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT EXISTS (SELECT 1 FROM usage_records WHERE account_id = $account AND load_balancer_id = $lb);";
        command.Parameters.AddWithValue("$account", accountId);
        command.Parameters.AddWithValue("$lb", loadBalancerId);
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture) != 0;
    }

    /// <summary>The load balancers of <paramref name="accountId"/> with a usage record starting within
    /// [<paramref name="start"/>, <paramref name="end"/>], by id, paged: each as the stored description (JSON) and
    /// when it was deleted (null: not deleted).</summary>
    internal List<UsageLoadBalancer> ReadBillable(int accountId, DateTimeOffset start, DateTimeOffset end, int offset, int limit)
    {
        using var connection = OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT b.id, b.account_id, b.json, b.deleted FROM usage_load_balancers b
            WHERE b.account_id = $account AND EXISTS (SELECT 1 FROM usage_records r WHERE r.load_balancer_id = b.id
                AND r.account_id = $account AND r.start_time >= $start AND r.start_time <= $end)
            ORDER BY b.id LIMIT $limit OFFSET $offset;
            """;
        command.Parameters.AddWithValue("$account", accountId);
        command.Parameters.AddWithValue("$start", start.ToUnixTimeSeconds());
        command.Parameters.AddWithValue("$end", end.ToUnixTimeSeconds());
        command.Parameters.AddWithValue("$limit", limit);
        command.Parameters.AddWithValue("$offset", offset);
        return ReadUsageLoadBalancerRows(command);
    }

    /// <summary>The stored descriptions of <paramref name="accountId"/>'s load balancers with usage.</summary>
    internal List<UsageLoadBalancer> ReadUsageLoadBalancers(int accountId)
    {
        using var connection = OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, account_id, json, deleted FROM usage_load_balancers WHERE account_id = $account;";
        command.Parameters.AddWithValue("$account", accountId);
        return ReadUsageLoadBalancerRows(command);
    }

    /// <summary>The load balancers with usage that are not marked deleted.</summary>
    internal List<UsageLoadBalancer> ReadUndeletedUsageLoadBalancers()
    {
        using var connection = OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, account_id, json FROM usage_load_balancers WHERE deleted IS NULL;";
        using var reader = command.ExecuteReader();
        var result = new List<UsageLoadBalancer>();
        while (reader.Read())
        {
            result.Add(new UsageLoadBalancer(reader.GetInt32(0), reader.GetInt32(1), reader.GetString(2), null));
        }

        return result;
    }

    /// <summary>Deletes the usage records that ended before <paramref name="before"/> and the descriptions of deleted
    /// load balancers left without records (retention).</summary>
    /// <returns>The number of records deleted.</returns>
    internal int PurgeUsage(DateTimeOffset before)
    {
        using var connection = OpenConnection();
        using var transaction = connection.BeginTransaction(deferred: false);
        using var records = connection.CreateCommand();
        records.Transaction = transaction;
        records.CommandText = "DELETE FROM usage_records WHERE end_time < $before;";
        records.Parameters.AddWithValue("$before", before.ToUnixTimeSeconds());
        var deleted = records.ExecuteNonQuery();
        using var loadBalancers = connection.CreateCommand();
        loadBalancers.Transaction = transaction;
        loadBalancers.CommandText = """
            DELETE FROM usage_load_balancers WHERE deleted IS NOT NULL
                AND NOT EXISTS (SELECT 1 FROM usage_records r WHERE r.load_balancer_id = usage_load_balancers.id);
            """;
        loadBalancers.ExecuteNonQuery();
        transaction.Commit();
        return deleted;
    }

    private static UsageRecord ReadUsageRecord(SqliteDataReader reader) => new()
    {
        Id = reader.GetInt64(0),
        AccountId = reader.GetInt32(1),
        LoadBalancerId = reader.GetInt32(2),
        Start = DateTimeOffset.FromUnixTimeSeconds(reader.GetInt64(3)),
        End = DateTimeOffset.FromUnixTimeSeconds(reader.GetInt64(4)),
        Incoming = reader.GetInt64(5),
        Outgoing = reader.GetInt64(6),
        IncomingSsl = reader.GetInt64(7),
        OutgoingSsl = reader.GetInt64(8),
        Connections = reader.GetInt64(9),
        ConnectionsSsl = reader.GetInt64(10),
        Polls = reader.GetInt32(11),
        Vips = reader.GetInt32(12),
        VipType = reader.GetString(13),
        SslMode = reader.GetString(14),
        EventType = reader.IsDBNull(15) ? null : reader.GetString(15),
    };

    /// <summary>The rows of a query that selects <c>id, account_id, json, deleted</c> of <c>usage_load_balancers</c>.</summary>
    private static List<UsageLoadBalancer> ReadUsageLoadBalancerRows(Microsoft.Data.Sqlite.SqliteCommand command)
    {
        using var reader = command.ExecuteReader();
        var result = new List<UsageLoadBalancer>();
        while (reader.Read())
        {
            result.Add(new UsageLoadBalancer(reader.GetInt32(0), reader.GetInt32(1), reader.GetString(2),
                reader.IsDBNull(3) ? null : DateTimeOffset.FromUnixTimeSeconds(reader.GetInt64(3))));
        }

        return result;
    }
}
