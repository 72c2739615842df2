using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using Tether.Management.Storage;

namespace Tether;

/// <summary>
/// Operator commands on the data directory, usable while <c>tether serve</c> runs (SQLite in WAL mode serializes the
/// writes): <c>tether token create|list|revoke</c> (API tokens: the API reads them from the store on every call, so a
/// change takes effect at once) and <c>tether keys rotate|list</c> (persistence-cookie signing keys: a running Tether
/// picks a new key up within 10 seconds; cookies signed with older keys stay valid, DESIGN.md section 4).
/// </summary>
public static class AdminCommands
{
    /// <summary><c>tether token create --account N</c>, <c>tether token list</c>, <c>tether token revoke TOKEN</c>.</summary>
    public static Command Token()
    {
        var dataDir = DataDirOption();
        var account = new Option<int>("--account") { Description = "The account the token belongs to (1 or more).", Required = true };
        var create = new Command("create", "Create an API token for an account and print it (X-Auth-Token).") { dataDir, account };
        create.SetAction(parse =>
        {
            var accountId = parse.GetValue(account);
            if (accountId < 1)
            {
                Console.Error.WriteLine("tether token create: --account must be 1 or more");
                return 2;
            }

            using var store = TetherStore.Open(Directory(parse, dataDir));
            var token = Base64UrlToken();
            store.AddToken(token, accountId, DateTimeOffset.UtcNow);
            Console.WriteLine(token);
            return 0;
        });

        var list = new Command("list", "List the stored tokens (shortened) and their accounts.") { dataDir };
        list.SetAction(parse =>
        {
            using var store = TetherStore.Open(Directory(parse, dataDir));
            foreach (var (token, accountId) in store.ListTokens())
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{token[..Math.Min(6, token.Length)]}…  account {accountId}"));
            }

            return 0;
        });

        var value = new Argument<string>("token") { Description = "The token to revoke." };
        var revoke = new Command("revoke", "Revoke a stored token: it is refused (401) from the next call on.") { dataDir, value };
        revoke.SetAction(parse =>
        {
            using var store = TetherStore.Open(Directory(parse, dataDir));
            if (store.DeleteToken(parse.GetValue(value)!))
            {
                Console.WriteLine("revoked");
                return 0;
            }

            Console.Error.WriteLine("tether token revoke: no such stored token (tokens given in configuration are removed there)");
            return 1;
        });

        return new Command("token", "Manage API tokens in the data directory.") { create, list, revoke };
    }

    /// <summary><c>tether keys rotate</c> and <c>tether keys list</c>.</summary>
    public static Command Keys()
    {
        var dataDir = DataDirOption();
        var rotate = new Command("rotate", "Add a new cookie signing key; new cookies are signed with it, older ones stay valid.") { dataDir };
        rotate.SetAction(parse =>
        {
            using var store = TetherStore.Open(Directory(parse, dataDir));
            store.GetOrCreateCookieKeys();
            var keys = store.AddCookieKey();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"key {keys.Max(k => k.Id)} now signs new cookies ({keys.Count} keys validate)"));
            return 0;
        });

        var list = new Command("list", "List the cookie signing key ids (the highest signs).") { dataDir };
        list.SetAction(parse =>
        {
            using var store = TetherStore.Open(Directory(parse, dataDir));
            foreach (var key in store.GetOrCreateCookieKeys())
            {
                Console.WriteLine(key.Id.ToString(CultureInfo.InvariantCulture));
            }

            return 0;
        });

        return new Command("keys", "Manage the persistence-cookie signing keys in the data directory.") { rotate, list };
    }

    private static Option<string?> DataDirOption() => new("--data-dir") { Description = "The data directory (default ./data)." };

    private static string Directory(ParseResult parse, Option<string?> option) => parse.GetValue(option) ?? "data";

    private static string Base64UrlToken() => System.Buffers.Text.Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
}
