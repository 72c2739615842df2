using Microsoft.Data.Sqlite;
using Tether.Core.SessionPersistence;

namespace Tether.Management.Storage;

/// <summary>The stick tables kept across restarts (table <c>stick_entries</c>; <see cref="IStickTableStore"/>).</summary>
public sealed partial class TetherStore
{
    /// <inheritdoc />
    public IReadOnlyList<StoredStickEntry> Load(int loadBalancerId, string persistenceType)
    {
        using var connection = OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT key, node_id, last_use FROM stick_entries WHERE load_balancer_id = $lb AND persistence_type = $type;";
        command.Parameters.AddWithValue("$lb", loadBalancerId);
        command.Parameters.AddWithValue("$type", persistenceType);
        using var reader = command.ExecuteReader();
        var entries = new List<StoredStickEntry>();
        while (reader.Read())
        {
            var bytes = (byte[])reader.GetValue(0);
            if (bytes.Length != 16)
            {
                continue;
            }

            var key = new UInt128(
                System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes.AsSpan(0, 8)),
                System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes.AsSpan(8, 8)));
            entries.Add(new StoredStickEntry(key, reader.GetInt32(1), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2))));
        }

        return entries;
    }

    /// <inheritdoc />
    public void Save(int loadBalancerId, string persistenceType, IReadOnlyCollection<StoredStickEntry> entries)
    {
        using var connection = OpenConnection();
        using var transaction = connection.BeginTransaction(deferred: false);
        using (var delete = connection.CreateCommand())
        {
            delete.Transaction = transaction;
            delete.CommandText = "DELETE FROM stick_entries WHERE load_balancer_id = $lb;";
            delete.Parameters.AddWithValue("$lb", loadBalancerId);
            delete.ExecuteNonQuery();
        }

        using (var insert = connection.CreateCommand())
        {
            insert.Transaction = transaction;
            insert.CommandText = "INSERT OR REPLACE INTO stick_entries(load_balancer_id, persistence_type, key, node_id, last_use) VALUES ($lb, $type, $key, $node, $last);";
            var lb = insert.Parameters.Add("$lb", SqliteType.Integer);
            var type = insert.Parameters.Add("$type", SqliteType.Text);
            var key = insert.Parameters.Add("$key", SqliteType.Blob);
            var node = insert.Parameters.Add("$node", SqliteType.Integer);
            var last = insert.Parameters.Add("$last", SqliteType.Integer);
            lb.Value = loadBalancerId;
            type.Value = persistenceType;
            var bytes = new byte[16];
            foreach (var entry in entries)
            {
                System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(0, 8), (ulong)(entry.Key >> 64));
                System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(8, 8), (ulong)entry.Key);
                key.Value = bytes;
                node.Value = entry.NodeId;
                last.Value = entry.LastUse.ToUnixTimeMilliseconds();
                insert.ExecuteNonQuery();
            }
        }

        transaction.Commit();
    }

    /// <inheritdoc />
    public void Delete(int loadBalancerId)
    {
        using var connection = OpenConnection();
        using var delete = connection.CreateCommand();
        delete.CommandText = "DELETE FROM stick_entries WHERE load_balancer_id = $lb;";
        delete.Parameters.AddWithValue("$lb", loadBalancerId);
        delete.ExecuteNonQuery();
    }
}
