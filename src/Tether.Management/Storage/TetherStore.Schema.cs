using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Tether.Management.Storage;

/// <summary>The schema: the tables created (or migrated) when a database is opened for writing (see the class
/// remarks for each table), and the helpers the migrations use.</summary>
public sealed partial class TetherStore
{
    private void Initialize()
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(DataDirectory);
        }
        else
        {
            Directory.CreateDirectory(DataDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            if (!File.Exists(DatabasePath))
            {
                // An empty file is a valid, empty SQLite database; creating it first sets its mode (and SQLite gives
                // the -wal and -shm files the database file's mode).
                using var _ = new FileStream(DatabasePath, new FileStreamOptions
                {
                    Mode = FileMode.CreateNew,
                    Access = FileAccess.Write,
                    UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
                });
            }
        }

        using var connection = OpenConnection();
        using (var wal = connection.CreateCommand())
        {
            wal.CommandText = "PRAGMA journal_mode=WAL;";
            wal.ExecuteNonQuery();
        }

        using var transaction = connection.BeginTransaction(deferred: false);
        Execute(connection, transaction, """
            CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS load_balancers (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL, json TEXT NOT NULL);
            CREATE INDEX IF NOT EXISTS load_balancers_account ON load_balancers(account_id);
            CREATE TABLE IF NOT EXISTS sequences (name TEXT PRIMARY KEY, next INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS tokens (token TEXT PRIMARY KEY, account_id INTEGER NOT NULL, created TEXT NOT NULL,
                role TEXT NOT NULL DEFAULT 'admin');
            CREATE TABLE IF NOT EXISTS cookie_keys (id INTEGER PRIMARY KEY, secret BLOB NOT NULL, created TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS stick_entries (load_balancer_id INTEGER NOT NULL, persistence_type TEXT NOT NULL,
                key BLOB NOT NULL, node_id INTEGER NOT NULL, last_use INTEGER NOT NULL,
                PRIMARY KEY (load_balancer_id, key));
            CREATE TABLE IF NOT EXISTS audit_log (id INTEGER PRIMARY KEY AUTOINCREMENT, account_id INTEGER NOT NULL,
                time TEXT NOT NULL, token_id TEXT NOT NULL, method TEXT NOT NULL, resource TEXT NOT NULL, action TEXT NOT NULL,
                load_balancer_id INTEGER NOT NULL, changes TEXT NOT NULL, notes TEXT NOT NULL, outcome TEXT NOT NULL);
            CREATE INDEX IF NOT EXISTS audit_log_account ON audit_log(account_id, id);
            """ + UsageSchema);
        if (!HasColumn(connection, transaction, "tokens", "role"))
        {
            // A database from before roles: every token it holds was an admin token.
            Execute(connection, transaction, "ALTER TABLE tokens ADD COLUMN role TEXT NOT NULL DEFAULT 'admin';");
        }

        using (var version = connection.CreateCommand())
        {
            version.Transaction = transaction;
            version.CommandText = "SELECT MAX(version) FROM schema_version;";
            var current = version.ExecuteScalar();
            if (current is null or DBNull)
            {
                Execute(connection, transaction, $"INSERT INTO schema_version(version) VALUES ({SchemaVersion});");
            }
            else if (Convert.ToInt64(current, CultureInfo.InvariantCulture) > SchemaVersion)
            {
                throw new InvalidOperationException(
                    $"The database {DatabasePath} has schema version {current}, newer than this Tether supports ({SchemaVersion}).");
            }
        }

        transaction.Commit();
    }

    private static bool HasColumn(SqliteConnection connection, SqliteTransaction? transaction, string table, string column)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"SELECT COUNT(*) FROM pragma_table_info('{table}') WHERE name = $column;";
        command.Parameters.AddWithValue("$column", column);
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture) > 0;
    }

    private static void Execute(SqliteConnection connection, SqliteTransaction transaction, string sql)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
