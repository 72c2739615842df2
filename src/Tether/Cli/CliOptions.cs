using System.CommandLine;
using System.Globalization;

namespace Tether.Cli;

/// <summary>
/// The options every API command takes (<c>tether lb|node|persistence|sessions|stats|monitor</c>), as
/// <c>openstack</c> and <c>gcloud</c> have them: where the API is (<c>--api</c>, env <c>TETHER_API</c>, default
/// <c>http://127.0.0.1:8080</c>), the token (<c>--token</c>, env <c>TETHER_TOKEN</c>, else the <c>admin-token</c> file
/// of the local data directory: env <c>TETHER_DATADIRECTORY</c> or <c>./data</c>, as <c>tether serve</c> writes it),
/// the account (<c>--account</c>, env <c>TETHER_ACCOUNT</c>, default 1: the admin token's account; a token belongs to
/// one account, docs/api.md#authentication) and the output format (<c>-o table|json</c>).
/// </summary>
internal static class CliOptions
{
    /// <summary>The API when neither <c>--api</c> nor <c>TETHER_API</c> names one (serve's default <c>--listen</c>).</summary>
    public const string DefaultApi = "http://127.0.0.1:8080";

    public static readonly Option<string?> Api = new("--api")
    {
        Description = "The management API: http://HOST:PORT (default: env TETHER_API, else " + DefaultApi + ").",
        Recursive = true,
    };

    public static readonly Option<string?> Token = new("--token")
    {
        Description = "The API token (default: env TETHER_TOKEN, else the admin-token file of ./data or $TETHER_DATADIRECTORY).",
        Recursive = true,
    };

    public static readonly Option<int?> Account = new("--account")
    {
        Description = "The account the token belongs to (default: env TETHER_ACCOUNT, else 1, the admin token's account).",
        Recursive = true,
    };

    public static readonly Option<string> Output = CreateOutput();

    /// <summary><c>--wait</c>: after a change, poll the load balancer until its status is ACTIVE.</summary>
    public static readonly Option<bool> Wait = new("--wait")
    {
        Description = "After the change, poll the load balancer until its status is ACTIVE (gone, for a delete); exit 1 on ERROR or after --wait-timeout.",
    };

    public static readonly Option<int> WaitTimeout = new("--wait-timeout")
    {
        Description = "Seconds --wait polls at most (default 300).",
        DefaultValueFactory = _ => 300,
    };

    /// <summary>Adds the global options to a command group; they apply to its subcommands too.</summary>
    public static T WithGlobals<T>(T command)
        where T : Command
    {
        command.Options.Add(Api);
        command.Options.Add(Token);
        command.Options.Add(Account);
        command.Options.Add(Output);
        return command;
    }

    /// <summary>Adds <c>--wait</c> and <c>--wait-timeout</c> to a command that changes a load balancer.</summary>
    public static Command WithWait(Command command)
    {
        command.Options.Add(Wait);
        command.Options.Add(WaitTimeout);
        return command;
    }

    /// <summary>Whether the output is JSON (<c>-o json</c>).</summary>
    public static bool IsJson(ParseResult parse) => parse.GetValue(Output) == "json";

    /// <summary>The API base URL and account from the options and environment; the account may also come from an
    /// <c>--api</c> URL that already ends in <c>/v1.0/ACCOUNT</c>.</summary>
    /// <exception cref="CliUsageException">The URL or account is not usable.</exception>
    public static (Uri Root, int Account) Endpoint(ParseResult parse)
    {
        var text = parse.GetValue(Api) ?? Environment.GetEnvironmentVariable("TETHER_API") ?? DefaultApi;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new CliUsageException($"--api: '{text}' is not an http:// or https:// URL (for example {DefaultApi})");
        }

        int? fromUrl = null;
        var path = uri.AbsolutePath.TrimEnd('/');
        var marker = path.LastIndexOf("/v1.0/", StringComparison.Ordinal);
        if (marker >= 0 && int.TryParse(path[(marker + 6)..], NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
        {
            fromUrl = parsed;
            path = path[..marker];
        }

        var account = parse.GetValue(Account) ?? fromUrl ?? EnvironmentAccount() ?? 1;
        if (account < 1)
        {
            throw new CliUsageException($"--account: must be 1 or more (got {account})");
        }

        return (new UriBuilder(uri) { Path = path + "/", Query = "" }.Uri, account);
    }

    /// <summary>The token: <c>--token</c>, <c>TETHER_TOKEN</c>, then the local data directory's <c>admin-token</c>.</summary>
    /// <exception cref="CliUsageException">None of them gives one.</exception>
    public static string ResolveToken(ParseResult parse)
    {
        var token = parse.GetValue(Token) ?? Environment.GetEnvironmentVariable("TETHER_TOKEN");
        if (!string.IsNullOrWhiteSpace(token))
        {
            return token.Trim();
        }

        var directory = Path.GetFullPath(Environment.GetEnvironmentVariable("TETHER_DATADIRECTORY") ?? "data");
        var file = Path.Combine(directory, "admin-token");
        try
        {
            var stored = File.ReadAllText(file).Trim();
            if (stored.Length > 0)
            {
                return stored;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliUsageException($"no API token: give --token or TETHER_TOKEN, or run where {file} is readable ({e.Message.TrimEnd('.')})");
        }

        throw new CliUsageException($"no API token: give --token or TETHER_TOKEN ({file} is empty)");
    }

    private static int? EnvironmentAccount()
    {
        var text = Environment.GetEnvironmentVariable("TETHER_ACCOUNT");
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var account)
            ? account
            : throw new CliUsageException($"TETHER_ACCOUNT: '{text}' is not an account number");
    }

    private static Option<string> CreateOutput()
    {
        var option = new Option<string>("--output", "-o")
        {
            Description = "Output format: table (default) or json (the API's answer).",
            DefaultValueFactory = _ => "table",
            Recursive = true,
        };
        option.AcceptOnlyFromAmong("table", "json");
        return option;
    }
}

/// <summary>A command line that cannot be used (exit code 2), found after parsing (a malformed ADDRESS:PORT, no token).</summary>
internal sealed class CliUsageException(string message) : Exception(message);
