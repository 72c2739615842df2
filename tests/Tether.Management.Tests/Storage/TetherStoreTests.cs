using Microsoft.Data.Sqlite;
using Tether.Core.Model;
using Tether.Management.Storage;

namespace Tether.Management.Tests.Storage;

public sealed class TetherStoreTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private string DataDirectory => Path.Combine(_directory.Path, "data");

    private static LoadBalancerConfig FullConfig(int id = 7) => new()
    {
        Id = id,
        AccountId = 42,
        Name = "full",
        Protocol = "HTTP",
        Port = 8080,
        Algorithm = "WEIGHTED_LEAST_CONNECTIONS",
        TimeoutSeconds = 45,
        HalfClosed = true,
        HttpsRedirect = true,
        Status = LoadBalancerStatus.Error,
        Created = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero),
        Updated = new DateTimeOffset(2026, 2, 3, 4, 5, 6, TimeSpan.Zero),
        VirtualIps = [new VirtualIpConfig { Id = 3, Address = "127.0.0.1", Type = VirtualIpType.ServiceNet }],
        Nodes =
        [
            new NodeConfig { Id = 10, Address = "10.0.0.1", Port = 80 },
            new NodeConfig
            {
                Id = 11, Address = "2001:db8::1", Port = 81, Condition = NodeCondition.Draining, Type = NodeType.Secondary,
                Weight = 50, Status = NodeStatus.Offline, Metadata = [new MetadataItem(6, "rack", "r1"), new MetadataItem(8, "zone", "a")],
            },
        ],
        SessionPersistence = new SessionPersistenceConfig
        {
            Type = PersistenceType.HttpCookie,
            CookieName = "c",
            PersistenceTimeoutSeconds = 900,
            DisableFallback = true,
            CookiePath = "/p",
            CookieDomain = "example.com",
            CookieSecure = true,
            CookieHttpOnly = false,
            CookieSameSite = "None",
        },
        Metadata = [new MetadataItem(5, "k", "v")],
    };

    [Fact]
    public void Open_NewDirectory_CreatesAWalDatabaseWithSchemaVersion1()
    {
        using var store = TetherStore.Open(DataDirectory);

        Assert.Equal(Path.Combine(DataDirectory, "tether.db"), store.DatabasePath);
        using var connection = new SqliteConnection($"Data Source={store.DatabasePath};Pooling=False");
        connection.Open();
        Assert.Equal("wal", Scalar(connection, "PRAGMA journal_mode;"));
        Assert.Equal(1L, Scalar(connection, "SELECT version FROM schema_version;"));
        var tables = new List<string>();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name;";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                tables.Add(reader.GetString(0));
            }
        }

        Assert.Equal(["audit_log", "cookie_keys", "load_balancers", "schema_version", "sequences", "sqlite_sequence", "stick_entries", "tokens", "usage_load_balancers", "usage_records"], tables);
    }

    [Fact]
    public void Open_NewDirectory_CreatesFilesReadableByTheOwnerOnly()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        using var store = TetherStore.Open(DataDirectory);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(DataDirectory));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(store.DatabasePath));
    }

    [Fact]
    public void Open_TwiceOnTheSameDirectory_KeepsOneSchemaVersionRow()
    {
        TetherStore.Open(DataDirectory).Dispose();
        using var store = TetherStore.Open(DataDirectory);

        using var connection = new SqliteConnection($"Data Source={store.DatabasePath};Pooling=False");
        connection.Open();
        Assert.Equal(1L, Scalar(connection, "SELECT COUNT(*) FROM schema_version;"));
    }

    [Fact]
    public void Open_NewerSchemaVersion_Throws()
    {
        var path = TetherStore.Open(DataDirectory).DatabasePath;
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            Scalar(connection, "UPDATE schema_version SET version = 99;");
        }

        var error = Assert.Throws<InvalidOperationException>(() => TetherStore.Open(DataDirectory));
        Assert.Contains("schema version 99", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SaveThenLoadAll_EveryField_RoundTrips()
    {
        var config = FullConfig();
        using (var store = TetherStore.Open(DataDirectory))
        {
            store.Save(config);
        }

        using var reopened = TetherStore.Open(DataDirectory);
        var loaded = Assert.Single(reopened.LoadAll());

        Assert.Equal(StoredLoadBalancer.Serialize(config), StoredLoadBalancer.Serialize(loaded));
        Assert.Equal(config with { VirtualIps = [], Nodes = [], Metadata = [] }, loaded with { VirtualIps = [], Nodes = [], Metadata = [] });
        Assert.Equal(config.Nodes.Select(n => n with { Metadata = [] }), loaded.Nodes.Select(n => n with { Metadata = [] }));
        Assert.Equal(config.Nodes[1].Metadata.AsEnumerable(), loaded.Nodes[1].Metadata.AsEnumerable());
        Assert.Empty(loaded.Nodes[0].Metadata);
        Assert.Equal(config.VirtualIps[0], loaded.VirtualIps[0]);
        Assert.Equal(config.Metadata[0], loaded.Metadata[0]);
        Assert.Equal(config.SessionPersistence, loaded.SessionPersistence);
    }

    [Fact]
    public void Deserialize_NodeWithoutMetadata_LoadsEmptyAndIsWrittenWithoutTheField()
    {
        var config = FullConfig();
        var json = StoredLoadBalancer.Serialize(config);
        // Node 10 has no metadata: its stored node is written as before issue 12 (no "metadata" field).
        Assert.Contains("{\"id\":10,\"address\":\"10.0.0.1\",\"port\":80,\"condition\":\"ENABLED\",\"type\":\"PRIMARY\",\"weight\":1,\"status\":\"ONLINE\"}", json, StringComparison.Ordinal);
        Assert.Contains("\"metadata\":[{\"id\":6,\"key\":\"rack\",\"value\":\"r1\"}", json, StringComparison.Ordinal);

        var loaded = StoredLoadBalancer.Deserialize(json);

        Assert.Empty(loaded.Nodes[0].Metadata);
        Assert.Equal(["rack", "zone"], loaded.Nodes[1].Metadata.Select(m => m.Key));
    }

    [Fact]
    public void SaveThenLoadAll_NeverSetPersistenceFields_StayNull()
    {
        var config = FullConfig() with { SessionPersistence = new SessionPersistenceConfig { Type = PersistenceType.SourceIp } };
        using var store = TetherStore.Open(DataDirectory);

        store.Save(config);

        var loaded = Assert.Single(store.LoadAll()).SessionPersistence!;
        Assert.Equal(new SessionPersistenceConfig { Type = PersistenceType.SourceIp }, loaded);
        Assert.DoesNotContain("cookieName", StoredLoadBalancer.Serialize(config), StringComparison.Ordinal);
    }

    [Fact]
    public void Save_ExistingId_ReplacesTheRowAndDeleteRemovesIt()
    {
        using var store = TetherStore.Open(DataDirectory);
        store.Save(FullConfig(1), FullConfig(2));

        store.Save(FullConfig(1) with { Name = "renamed" });
        Assert.Equal(["renamed", "full"], store.LoadAll().Select(c => c.Name).ToArray());

        store.Delete(1, 99);
        Assert.Equal([2], store.LoadAll().Select(c => c.Id).ToArray());
    }

    [Fact]
    public void LoadAll_CorruptDocument_ThrowsInvalidData()
    {
        using var store = TetherStore.Open(DataDirectory);
        using (var connection = new SqliteConnection($"Data Source={store.DatabasePath};Pooling=False"))
        {
            connection.Open();
            Scalar(connection, "INSERT INTO load_balancers(id, account_id, json) VALUES (1, 1, '{not json');");
        }

        Assert.Throws<InvalidDataException>(() => store.LoadAll());
    }

    [Fact]
    public void NextIds_ReservesConsecutiveRangesPerSequenceAndSurvivesReopen()
    {
        using (var store = TetherStore.Open(DataDirectory))
        {
            Assert.Equal(1, store.NextIds(Sequences.LoadBalancer));
            Assert.Equal(2, store.NextIds(Sequences.LoadBalancer));
            Assert.Equal(1, store.NextIds(Sequences.Node, 3));
            Assert.Equal(4, store.NextIds(Sequences.Node));
        }

        using var reopened = TetherStore.Open(DataDirectory);
        Assert.Equal(3, reopened.NextIds(Sequences.LoadBalancer));
        Assert.Equal(5, reopened.NextIds(Sequences.Node));
    }

    [Fact]
    public void GetOrCreateCookieKeys_FirstCall_CreatesOne32ByteKeyThatLaterCallsReturn()
    {
        byte[] secret;
        using (var store = TetherStore.Open(DataDirectory))
        {
            var key = Assert.Single(store.GetOrCreateCookieKeys());
            Assert.Equal(1, key.Id);
            Assert.Equal(32, key.Secret.Length);
            Assert.Contains(key.Secret, b => b != 0);
            secret = key.Secret;
            Assert.Equal(secret, Assert.Single(store.GetOrCreateCookieKeys()).Secret);
        }

        using var reopened = TetherStore.Open(DataDirectory);
        Assert.Equal(secret, Assert.Single(reopened.GetOrCreateCookieKeys()).Secret);
    }

    [Fact]
    public void AddCookieKey_AfterTheFirst_AddsTheNextIdWithADifferentSecret()
    {
        using var store = TetherStore.Open(DataDirectory);
        var first = Assert.Single(store.GetOrCreateCookieKeys());

        var keys = store.AddCookieKey();

        Assert.Equal([1, 2], keys.Select(k => (int)k.Id).ToArray());
        Assert.NotEqual(first.Secret, keys[1].Secret);
        Assert.Equal(2, store.GetOrCreateCookieKeys().Count);
    }

    [Fact]
    public void Tokens_AddFindListDelete_Work()
    {
        using var store = TetherStore.Open(DataDirectory);
        var now = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

        store.AddToken("a", 1, now);
        store.AddToken("b", 2, now.AddSeconds(1));

        Assert.Equal(1, store.FindTokenAccount("a"));
        Assert.Equal(2, store.FindTokenAccount("b"));
        Assert.Null(store.FindTokenAccount("c"));
        Assert.Equal([("a", 1), ("b", 2)], store.ListTokens());
        Assert.True(store.DeleteToken("a"));
        Assert.False(store.DeleteToken("a"));
        Assert.Null(store.FindTokenAccount("a"));
    }

    [Fact]
    public void Tokens_Roles_AreStoredAndAdminByDefault()
    {
        using var store = TetherStore.Open(DataDirectory);
        var now = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

        store.AddToken("reader", 1, now, Tether.Management.Auth.TokenRole.Observer);
        store.AddToken("writer", 1, now.AddSeconds(1), Tether.Management.Auth.TokenRole.Creator);
        store.AddToken("owner", 1, now.AddSeconds(2));

        Assert.Equal(new Tether.Management.Auth.TokenGrant(1, Tether.Management.Auth.TokenRole.Observer), store.FindToken("reader"));
        Assert.Equal(Tether.Management.Auth.TokenRole.Creator, store.FindToken("writer")!.Value.Role);
        Assert.Equal(Tether.Management.Auth.TokenRole.Admin, store.FindToken("owner")!.Value.Role);
        Assert.Equal(["observer", "creator", "admin"], store.ListTokenGrants().Select(t => Tether.Management.Auth.TokenRoles.Name(t.Grant.Role)));
    }

    [Fact]
    public void Open_DatabaseFromBeforeRoles_AddsTheColumnAndItsTokensAreAdmins()
    {
        Directory.CreateDirectory(DataDirectory);
        var path = Path.Combine(DataDirectory, TetherStore.DatabaseFileName);
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = """
                CREATE TABLE schema_version (version INTEGER NOT NULL);
                INSERT INTO schema_version(version) VALUES (1);
                CREATE TABLE tokens (token TEXT PRIMARY KEY, account_id INTEGER NOT NULL, created TEXT NOT NULL);
                INSERT INTO tokens(token, account_id, created) VALUES ('old', 3, '2025-01-01T00:00:00.0000000Z');
                """;
            command.ExecuteNonQuery();
        }

        using (var readOnly = TetherStore.OpenReadOnly(DataDirectory))
        {
            Assert.Equal(Tether.Management.Auth.TokenRole.Admin, Assert.Single(readOnly.ListTokenGrants()).Grant.Role);
        }

        using var store = TetherStore.Open(DataDirectory);

        Assert.Equal(new Tether.Management.Auth.TokenGrant(3, Tether.Management.Auth.TokenRole.Admin), store.FindToken("old"));
        store.AddToken("new", 3, DateTimeOffset.UnixEpoch, Tether.Management.Auth.TokenRole.Observer);
        Assert.Equal(Tether.Management.Auth.TokenRole.Observer, store.FindToken("new")!.Value.Role);
    }

    [Fact]
    public void FindToken_RoleUnknownToThisBuild_ReadsAsObserver()
    {
        using var store = TetherStore.Open(DataDirectory);
        store.AddToken("t", 1, DateTimeOffset.UnixEpoch);
        using (var connection = new SqliteConnection($"Data Source={store.DatabasePath};Pooling=False"))
        {
            connection.Open();
            Scalar(connection, "UPDATE tokens SET role = 'superuser';");
        }

        Assert.Equal(Tether.Management.Auth.TokenRole.Observer, store.FindToken("t")!.Value.Role);
    }

    private static object? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }
}
