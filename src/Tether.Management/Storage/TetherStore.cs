using System.Globalization;
using Microsoft.Data.Sqlite;
using Tether.Core.SessionPersistence;

namespace Tether.Management.Storage;

/// <summary>
/// Tether's store: the SQLite database <c>tether.db</c> (WAL mode) in the data directory. It holds every load
/// balancer as one JSON document per row, the id sequences, the API tokens and the persistence cookie keys.
/// Every mutation is one transaction. Thread-safe: each call uses its own pooled connection.
/// </summary>
/// <remarks>
/// Tables (schema version 1, table <c>schema_version</c>): <c>load_balancers(id, account_id, json)</c>,
/// <c>sequences(name, next)</c>, <c>tokens(token, account_id, created, role)</c> (<c>role</c>: <c>observer</c>,
/// <c>creator</c> or <c>admin</c>; added after version 1 by <c>ALTER TABLE ... ADD COLUMN</c> with the default
/// <c>admin</c>, so the tokens of an older database keep full access and an older build still reads and writes the
/// table), <c>cookie_keys(id, secret, created)</c>,
/// <c>stick_entries(load_balancer_id, persistence_type, key, node_id, last_use)</c> (stick tables kept across restarts;
/// <c>last_use</c> in Unix milliseconds), <c>audit_log(id, account_id, time, token_id, method, resource, action,
/// load_balancer_id, changes, notes, outcome)</c> (every configuration change through the API; <c>changes</c> and
/// <c>notes</c> JSON arrays), <c>usage_records</c> and <c>usage_load_balancers</c> (the usage reports; see
/// TetherStore.Usage.cs). Tables added since version 1 (<c>audit_log</c>) are created when a database is opened,
/// so an existing database gains them at the next start; a build without them ignores them.
/// The database file is created with mode 0600 on Unix: it holds tokens and cookie secrets.
/// </remarks>
public sealed partial class TetherStore : IDisposable, IStickTableStore, IConfigurationStore
{
    /// <summary>The database file name inside the data directory.</summary>
    public const string DatabaseFileName = "tether.db";

    /// <summary>The schema version this build reads and writes.</summary>
    public const int SchemaVersion = 1;

    private readonly string _connectionString;

    // Whether tokens has its role column: always after Initialize; a database opened read-only may predate it.
    private bool _tokensHaveRole = true;

    private readonly TimeProvider _time;

    private TetherStore(string dataDirectory, bool readOnly = false, TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        DataDirectory = Path.GetFullPath(dataDirectory);
        DatabasePath = Path.Combine(DataDirectory, DatabaseFileName);
        // Read-only with no write-ahead log: nobody has the database open, so it is read as immutable, which creates
        // no -wal or -shm file (a plain read-only open of a WAL database would).
        var immutable = readOnly && !File.Exists(DatabasePath + "-wal");
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = immutable ? new Uri(DatabasePath).AbsoluteUri + "?immutable=1" : DatabasePath,
            Mode = readOnly ? SqliteOpenMode.ReadOnly : SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
    }

    /// <summary>The full path of the data directory.</summary>
    public string DataDirectory { get; }

    /// <summary>The full path of <c>tether.db</c>.</summary>
    public string DatabasePath { get; }

    /// <summary>
    /// Opens (creating when missing) the data directory (mode 0700 on Unix) and the database, switches it to WAL and
    /// creates the schema.
    /// </summary>
    /// <param name="dataDirectory">The data directory; relative paths are resolved against the current directory.</param>
    /// <exception cref="ArgumentException"><paramref name="dataDirectory"/> is empty.</exception>
    /// <exception cref="InvalidOperationException">The database has a newer schema version than this build.</exception>
    /// <param name="time">The clock of the times the store writes (a cookie key's creation); the system clock when
    /// null.</param>
    /// <exception cref="SqliteException">The database cannot be opened (for example it is not a SQLite file).</exception>
    public static TetherStore Open(string dataDirectory, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataDirectory);
        var store = new TetherStore(dataDirectory, time: time);
        try
        {
            store.Initialize();
        }
        catch
        {
            store.Dispose();
            throw;
        }

        return store;
    }

    /// <summary>
    /// Opens an existing store read-only, creating and changing nothing (<c>tether serve --check</c>): checks that the
    /// database is a Tether store whose schema version this build reads, and that SQLite's <c>quick_check</c> passes.
    /// Only the read methods (<see cref="LoadAll"/>, <see cref="ListTokens"/>) may be called on it.
    /// </summary>
    /// <param name="dataDirectory">The data directory holding <c>tether.db</c>.</param>
    /// <exception cref="FileNotFoundException">There is no <c>tether.db</c> in the directory.</exception>
    /// <exception cref="InvalidDataException">The file is not a Tether store, has a newer schema version, or fails
    /// the integrity check (the message says which).</exception>
    public static TetherStore OpenReadOnly(string dataDirectory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataDirectory);
        var store = new TetherStore(dataDirectory, readOnly: true);
        if (!File.Exists(store.DatabasePath))
        {
            throw new FileNotFoundException($"{store.DatabasePath} does not exist", store.DatabasePath);
        }

        try
        {
            using var connection = store.OpenConnection();
            using var check = connection.CreateCommand();
            check.CommandText = "PRAGMA quick_check;";
            var result = check.ExecuteScalar() as string;
            if (result != "ok")
            {
                throw new InvalidDataException($"{store.DatabasePath} fails SQLite's integrity check: {result}");
            }

            using var version = connection.CreateCommand();
            version.CommandText = "SELECT MAX(version) FROM schema_version;";
            var current = version.ExecuteScalar();
            if (current is null or DBNull)
            {
                throw new InvalidDataException($"{store.DatabasePath} has no schema version");
            }

            store._tokensHaveRole = HasColumn(connection, null, "tokens", "role");
            if (Convert.ToInt64(current, CultureInfo.InvariantCulture) > SchemaVersion)
            {
                throw new InvalidDataException($"{store.DatabasePath} has schema version {current}, newer than this Tether supports ({SchemaVersion})");
            }
        }
        catch (SqliteException e)
        {
            store.Dispose();
            throw new InvalidDataException($"{store.DatabasePath} is not a Tether store ({e.Message.TrimEnd('.')})", e);
        }
        catch
        {
            store.Dispose();
            throw;
        }

        return store;
    }


    /// <summary>Releases the pooled connections to the database.</summary>
    public void Dispose()
    {
        using var connection = new SqliteConnection(_connectionString);
        SqliteConnection.ClearPool(connection);
    }

    private SqliteConnection OpenConnection()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        return connection;
    }
}
