using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Data.Sqlite;
using Tether.Core.Model;
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
public sealed partial class TetherStore : IDisposable, IStickTableStore
{
    /// <summary>The database file name inside the data directory.</summary>
    public const string DatabaseFileName = "tether.db";

    /// <summary>The schema version this build reads and writes.</summary>
    public const int SchemaVersion = 1;

    private readonly string _connectionString;

    // Whether tokens has its role column: always after Initialize; a database opened read-only may predate it.
    private bool _tokensHaveRole = true;

    private TetherStore(string dataDirectory, bool readOnly = false)
    {
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
    /// <exception cref="SqliteException">The database cannot be opened (for example it is not a SQLite file).</exception>
    public static TetherStore Open(string dataDirectory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataDirectory);
        var store = new TetherStore(dataDirectory);
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

    /// <summary>Stores a token for an account (one transaction). A token already stored is re-assigned.</summary>
    /// <param name="token">The token value, non-empty.</param>
    /// <param name="accountId">The account it belongs to, positive.</param>
    /// <param name="created">When it was created (UTC).</param>
    /// <param name="role">What it may do (default <see cref="Auth.TokenRole.Admin"/>).</param>
    /// <exception cref="ArgumentException">An empty token or a non-positive account.</exception>
    public void AddToken(string token, int accountId, DateTimeOffset created, Auth.TokenRole role = Auth.TokenRole.Admin)
    {
        ArgumentException.ThrowIfNullOrEmpty(token);
        ArgumentOutOfRangeException.ThrowIfLessThan(accountId, 1);
        using var connection = OpenConnection();
        using var transaction = connection.BeginTransaction(deferred: false);
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT INTO tokens(token, account_id, created, role) VALUES ($token, $account, $created, $role)
            ON CONFLICT(token) DO UPDATE SET account_id = excluded.account_id, created = excluded.created, role = excluded.role;
            """;
        command.Parameters.AddWithValue("$role", Auth.TokenRoles.Name(role));
        command.Parameters.AddWithValue("$token", token);
        command.Parameters.AddWithValue("$account", accountId);
        command.Parameters.AddWithValue("$created", created.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
        command.ExecuteNonQuery();
        transaction.Commit();
    }

    /// <summary>The account a stored token belongs to, or <c>null</c> when the store does not hold it.</summary>
    public int? FindTokenAccount(string token) => FindToken(token)?.AccountId;

    /// <summary>The account and role of a stored token, or <c>null</c> when the store does not hold it. A role name
    /// this build does not know (written by a newer build) reads as <see cref="Auth.TokenRole.Observer"/>, the least
    /// permissive.</summary>
    public Auth.TokenGrant? FindToken(string token)
    {
        using var connection = OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = _tokensHaveRole
            ? "SELECT account_id, role FROM tokens WHERE token = $token;"
            : "SELECT account_id, 'admin' FROM tokens WHERE token = $token;";
        command.Parameters.AddWithValue("$token", token);
        using var reader = command.ExecuteReader();
        if (!reader.Read())
        {
            return null;
        }

        return new Auth.TokenGrant(reader.GetInt32(0), StoredRole(reader.GetString(1)));
    }

    /// <summary>Every stored token with its account and role, ordered by creation time (<c>tether token list</c>).
    /// An unknown role name reads as observer, as in <see cref="FindToken"/>.</summary>
    public IReadOnlyList<(string Token, Auth.TokenGrant Grant)> ListTokenGrants()
    {
        using var connection = OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = _tokensHaveRole
            ? "SELECT token, account_id, role FROM tokens ORDER BY created, token;"
            : "SELECT token, account_id, 'admin' FROM tokens ORDER BY created, token;";
        using var reader = command.ExecuteReader();
        var result = new List<(string, Auth.TokenGrant)>();
        while (reader.Read())
        {
            result.Add((reader.GetString(0), new Auth.TokenGrant(reader.GetInt32(1), StoredRole(reader.GetString(2)))));
        }

        return result;
    }

    /// <summary>Every stored token with its account, ordered by creation time.</summary>
    public IReadOnlyList<(string Token, int AccountId)> ListTokens()
    {
        using var connection = OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT token, account_id FROM tokens ORDER BY created, token;";
        using var reader = command.ExecuteReader();
        var result = new List<(string, int)>();
        while (reader.Read())
        {
            result.Add((reader.GetString(0), reader.GetInt32(1)));
        }

        return result;
    }

    /// <summary>Deletes a stored token (one transaction); true when it existed.</summary>
    public bool DeleteToken(string token)
    {
        using var connection = OpenConnection();
        using var transaction = connection.BeginTransaction(deferred: false);
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "DELETE FROM tokens WHERE token = $token;";
        command.Parameters.AddWithValue("$token", token);
        var deleted = command.ExecuteNonQuery() > 0;
        transaction.Commit();
        return deleted;
    }

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

    private static void InsertCookieKey(SqliteConnection connection, SqliteTransaction transaction, CookieKey key)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT INTO cookie_keys(id, secret, created) VALUES ($id, $secret, $created);";
        command.Parameters.AddWithValue("$id", (int)key.Id);
        command.Parameters.Add("$secret", SqliteType.Blob).Value = key.Secret;
        command.Parameters.AddWithValue("$created", DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture));
        command.ExecuteNonQuery();
    }

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

    private static Auth.TokenRole StoredRole(string name) =>
        Auth.TokenRoles.TryParse(name, out var role) ? role : Auth.TokenRole.Observer;

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
