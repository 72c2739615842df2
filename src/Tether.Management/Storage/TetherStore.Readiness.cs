using Microsoft.Data.Sqlite;

namespace Tether.Management.Storage;

public sealed partial class TetherStore
{
    /// <summary>True when the database answers a read of its schema version (the <c>store</c> readiness check of
    /// <c>GET /healthz</c>); false when SQLite fails (the file is gone, locked beyond the busy timeout, unreadable).</summary>
    public bool IsReadable()
    {
        try
        {
            using var connection = OpenConnection();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT MAX(version) FROM schema_version;";
            return command.ExecuteScalar() is not (null or DBNull);
        }
        catch (SqliteException)
        {
            return false;
        }
    }
}
