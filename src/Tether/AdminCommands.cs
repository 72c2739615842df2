using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using Tether.Cluster;
using Tether.Management.Auth;
using Tether.Management.Storage;

namespace Tether;

/// <summary>
/// Operator commands on the data directory of a Tether, usable while <c>tether serve</c> runs (SQLite in WAL mode
/// serializes the writes): <c>tether token create|list|revoke</c> (API tokens: the API reads them from the store on every
/// call, so a change takes effect at once) and <c>tether keys rotate|list</c> (persistence-cookie signing keys: a
/// running Tether picks a new key up within 10 seconds; cookies signed with older keys stay valid). Each works on an
/// existing data directory only (one holding <c>tether.db</c>) and names it on standard error; <c>--init</c> creates
/// one (mode 0700, files 0600). With <c>--redis CONNECTION</c> (cluster mode, docs/cluster.md) each acts on the cluster
/// store instead, so every instance sees the change, and names the store's endpoints on standard error (never its
/// password); the data directory is then not used. Exit codes: 0 done, 1 nothing to revoke, 2 no such data
/// directory, a cluster store that does not answer, or a bad argument.
/// </summary>
public static class AdminCommands
{
    /// <summary><c>tether token create --account N [--role observer|creator|admin]</c>, <c>tether token list</c>,
    /// <c>tether token revoke ID|TOKEN</c>.</summary>
    public static Command Token()
    {
        var dataDir = DataDirOption();
        var init = InitOption();
        var redis = RedisOption();
        var account = new Option<int>("--account") { Description = "The account the token belongs to (1 or more).", Required = true };
        var role = new Option<string>("--role")
        {
            Description = "What the token may do: observer (GET only), creator (GET, POST, PUT) or admin (every method; the default).",
            DefaultValueFactory = _ => "admin",
        };
        role.AcceptOnlyFromAmong([.. TokenRoles.Names]);
        var create = new Command("create", "Create an API token for an account and print it (X-Auth-Token).") { dataDir, account, role, init, redis };
        create.SetAction(parse =>
        {
            var accountId = parse.GetValue(account);
            if (accountId < 1)
            {
                Console.Error.WriteLine("tether token create: --account must be 1 or more");
                return 2;
            }

            // --role accepts only the three names, so this always reads one.
            var tokenRole = TokenRoles.TryParse(parse.GetValue(role), out var parsedRole) ? parsedRole : TokenRole.Admin;
            return WithStore("token create", parse, dataDir, redis, parse.GetValue(init), store =>
            {
                var token = Base64UrlToken();
                store.AddToken(token, accountId, TimeProvider.System.GetUtcNow(), tokenRole);
                Console.WriteLine(token);
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"tether token create: token {TokenId.Of(token)} for account {accountId} ({tokenRole.Name()}) stored"));
                return 0;
            });
        });

        var list = new Command("list", "List the stored tokens by id (not the tokens themselves) with their accounts and roles.") { dataDir, redis };
        list.SetAction(parse => WithStore("token list", parse, dataDir, redis, init: false, store =>
        {
            var tokens = store.ListTokens();
            Console.WriteLine("ID            ACCOUNT  ROLE");
            foreach (var (token, grant) in tokens)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{TokenId.Of(token),-13} {grant.AccountId,-8} {grant.Role.Name()}"));
            }

            return 0;
        }));

        var value = new Argument<string>("id-or-token") { Description = "The token's id as `tether token list` shows it, or the token itself." };
        var revoke = new Command("revoke", "Revoke a stored token: it is refused (401) from the next call on.") { dataDir, value, redis };
        revoke.SetAction(parse => WithStore("token revoke", parse, dataDir, redis, init: false, store =>
        {
            var given = parse.GetValue(value)!.Trim();
            var stored = store.ListTokens().Select(t => t.Token).ToList();
            var token = stored.FirstOrDefault(t => t == given)
                ?? stored.FirstOrDefault(t => string.Equals(TokenId.Of(t), given, StringComparison.OrdinalIgnoreCase));
            if (token is not null && store.DeleteToken(token))
            {
                Console.WriteLine($"revoked token {TokenId.Of(token)}");
                return 0;
            }

            Console.Error.WriteLine("tether token revoke: no stored token has this id or value (see tether token list; tokens given in configuration are removed there)");
            return 1;
        }));

        return new Command("token", "Manage API tokens in the data directory.") { create, list, revoke };
    }

    /// <summary><c>tether keys rotate</c> and <c>tether keys list</c>.</summary>
    public static Command Keys()
    {
        var dataDir = DataDirOption();
        var init = InitOption();
        var redis = RedisOption();
        var rotate = new Command("rotate", "Add a new cookie signing key; new cookies are signed with it, older ones stay valid.") { dataDir, init, redis };
        rotate.SetAction(parse => WithStore("keys rotate", parse, dataDir, redis, parse.GetValue(init), store =>
        {
            if (store.RotateKey(out var refusal) is not { } keys)
            {
                Console.Error.WriteLine($"tether keys rotate: {refusal}");
                return 2;
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"key {keys.Max(k => k.Id)} now signs new cookies ({keys.Count} keys validate)"));
            return 0;
        }));

        var list = new Command("list", "List the cookie signing key ids (the highest signs).") { dataDir, redis };
        list.SetAction(parse => WithStore("keys list", parse, dataDir, redis, init: false, store =>
        {
            foreach (var key in store.ListKeys())
            {
                Console.WriteLine(key.Id.ToString(CultureInfo.InvariantCulture));
            }

            return 0;
        }));

        return new Command("keys", "Manage the persistence-cookie signing keys in the data directory.") { rotate, list };
    }

    private static Option<string?> DataDirOption() => new("--data-dir") { Description = "The data directory of the Tether to manage (default ./data); it must exist unless --init is given." };

    private static Option<string?> RedisOption() => new("--redis")
    {
        Description = "Cluster mode: act on the cluster store (a StackExchange.Redis configuration string, as tether serve --redis) instead of the data directory; every instance sees the change.",
    };

    private static Option<bool> InitOption() => new("--init") { Description = "Create the data directory and its store when they do not exist (mode 0700, files 0600)." };

    /// <summary>With <c>--redis</c>, connects to the cluster store and runs <paramref name="action"/> on it (exit code 2
    /// when it does not answer); otherwise opens the store of an existing data directory (or, with
    /// <paramref name="init"/>, creates it), names it on standard error and runs <paramref name="action"/>; refuses
    /// with exit code 2 when there is none.</summary>
    private static int WithStore(string command, ParseResult parse, Option<string?> option, Option<string?> redis, bool init, Func<IAdminSecrets, int> action)
    {
        if (parse.GetValue(redis) is { } connection)
        {
            return WithClusterStore(command, connection, action);
        }

        DataDirectory.RestrictNewFiles();
        var directory = Path.GetFullPath(parse.GetValue(option) ?? "data");
        var missing = DataDirectory.MissingStore(directory);
        if (missing is not null && !init)
        {
            Console.Error.WriteLine($"tether {command}: {missing}; give --data-dir with the data directory of your tether serve{(command is "token create" or "keys rotate" ? ", or --init to create a new one there" : "")}");
            return 2;
        }

        Console.Error.WriteLine(missing is null ? $"tether {command}: data directory {directory}" : $"tether {command}: data directory {directory} (created)");
        foreach (var warning in DataDirectory.PermissionWarnings(directory))
        {
            Console.Error.WriteLine($"tether {command}: {warning}");
        }

        try
        {
            using var store = TetherStore.Open(directory);
            return action(new LocalAdminSecrets(store));
        }
        catch (Exception e) when (e is Microsoft.Data.Sqlite.SqliteException or InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"tether {command}: data directory {directory}: {e.Message.TrimEnd('.')}");
            return 2;
        }
    }

    private static int WithClusterStore(string command, string connection, Func<IAdminSecrets, int> action)
    {
        string endpoints;
        try
        {
            endpoints = string.Join(",", StackExchange.Redis.ConfigurationOptions.Parse(connection).EndPoints.Select(e => e is System.Net.DnsEndPoint dns ? $"{dns.Host}:{dns.Port}" : e.ToString()));
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"tether {command}: --redis: {e.Message.TrimEnd('.')}");
            return 2;
        }

        Console.Error.WriteLine($"tether {command}: cluster store {endpoints}");
        try
        {
            var store = ClusterStoreConnection.ConnectAsync(connection, Environment.MachineName).GetAwaiter().GetResult();
            try
            {
                return action(new ClusterAdminSecrets(new ClusterSecrets(store)));
            }
            finally
            {
                store.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
        }
        catch (ConfigurationStoreUnavailableException e)
        {
            Console.Error.WriteLine($"tether {command}: cluster store {endpoints}: {e.Message.TrimEnd('.')}");
            return 2;
        }
        catch (InvalidOperationException e)
        {
            Console.Error.WriteLine($"tether {command}: cluster store {endpoints}: {e.Message.TrimEnd('.')}");
            return 2;
        }
    }

    private static string Base64UrlToken() => System.Buffers.Text.Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
}
