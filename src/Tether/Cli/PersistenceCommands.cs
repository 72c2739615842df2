using System.CommandLine;
using System.Text.Json.Nodes;
using Tether.Core.Model;

namespace Tether.Cli;

/// <summary>
/// <c>tether persistence show|enable|disable</c>: a load balancer's session persistence
/// (<c>/loadbalancers/{id}/sessionpersistence</c>, docs/api.md#session-persistence). <c>enable</c> is a PUT, which
/// replaces the whole object: options left out go back to their defaults (seed 000). The ranges (persistence timeout
/// 60 to 86,400 seconds on HTTP, 60 to 3,600 elsewhere; the cookie attributes; which type on which protocol) are the
/// API's, printed as it words them.
/// </summary>
internal static class PersistenceCommands
{
    /// <summary>The persistence types, for completion.</summary>
    public static readonly string[] Types = [PersistenceTypeNames.HttpCookie, PersistenceTypeNames.AppCookie, PersistenceTypeNames.SourceIp, PersistenceTypeNames.Header];

    public static Command Create()
    {
        var group = new Command("persistence", "A load balancer's session persistence: show, enable, disable.");
        group.Subcommands.Add(Show());
        group.Subcommands.Add(Enable());
        group.Subcommands.Add(Disable());
        return CliOptions.WithGlobals(group);
    }

    private static void WritePersistence(CliOutput output, JsonNode? answer) => output.Write(answer, () =>
    {
        var persistence = answer?["sessionPersistence"] as JsonObject ?? [];
        if (persistence.Count == 0)
        {
            output.Table(["FIELD", "VALUE"], [["persistenceType", "(disabled)"]]);
            return;
        }

        output.Fields(persistence);
    });

    private static Command Show()
    {
        var lb = LbCommands.IdArgument();
        var command = new Command("show", "Show a load balancer's session persistence (the fields that were set).") { lb };
        CliRunner.SetAction(command, "persistence show", parse => async (api, output, ct) =>
        {
            WritePersistence(output, await api.GetAsync($"loadbalancers/{parse.GetValue(lb)}/sessionpersistence", ct).ConfigureAwait(false));
            return 0;
        });
        return command;
    }

    private static Command Enable()
    {
        var lb = LbCommands.IdArgument();
        var type = new Option<string>("--type") { Description = "HTTP_COOKIE, APP_COOKIE, SOURCE_IP or HEADER.", Required = true };
        type.CompletionSources.Add(Types);
        var cookieName = new Option<string?>("--cookie-name") { Description = "HTTP_COOKIE: the cookie Tether sets (default tether-ID); APP_COOKIE (required): the application's cookie, or * for any." };
        var timeout = new Option<int?>("--timeout") { Description = "Stickiness: seconds a client stays pinned while idle (default 1200; 60 to 86400 on HTTP, 60 to 3600 elsewhere)." };
        var disableFallback = new Option<bool?>("--disable-fallback") { Description = "true: a client whose node cannot serve gets 502 instead of another node." };
        var cookiePath = new Option<string?>("--cookie-path") { Description = "HTTP_COOKIE: the cookie's Path (default /)." };
        var cookieDomain = new Option<string?>("--cookie-domain") { Description = "HTTP_COOKIE: the cookie's Domain (default none: host only)." };
        var cookieSecure = new Option<bool?>("--cookie-secure") { Description = "HTTP_COOKIE: Secure (true/false, default false)." };
        var cookieHttpOnly = new Option<bool?>("--cookie-http-only") { Description = "HTTP_COOKIE: HttpOnly (true/false, default true)." };
        var sameSite = new Option<string?>("--cookie-same-site") { Description = "HTTP_COOKIE: Lax (default), Strict or None (None needs --cookie-secure true)." };
        sameSite.CompletionSources.Add("Lax", "Strict", "None");
        var headerName = new Option<string?>("--header-name") { Description = "HEADER (required): the request header whose value pins the client." };
        var factor = new Option<int?>("--hash-balance-factor") { Description = "SOURCE_IP, HEADER: bounded loads in percent, 0 (off) or 101 to 1000." };
        var command = CliOptions.WithWait(new Command("enable", "Enable (or replace) session persistence.")
        {
            lb, type, cookieName, timeout, disableFallback, cookiePath, cookieDomain, cookieSecure, cookieHttpOnly, sameSite, headerName, factor,
        });
        CliRunner.SetAction(command, "persistence enable", parse => async (api, output, ct) =>
        {
            var body = new JsonObject { ["persistenceType"] = parse.GetValue(type) };
            LbCommands.Set(body, "cookieName", JsonValue.Create(parse.GetValue(cookieName)));
            LbCommands.Set(body, "persistenceTimeout", JsonValue.Create(parse.GetValue(timeout)));
            LbCommands.Set(body, "disableFallback", JsonValue.Create(parse.GetValue(disableFallback)));
            LbCommands.Set(body, "cookiePath", JsonValue.Create(parse.GetValue(cookiePath)));
            LbCommands.Set(body, "cookieDomain", JsonValue.Create(parse.GetValue(cookieDomain)));
            LbCommands.Set(body, "cookieSecure", JsonValue.Create(parse.GetValue(cookieSecure)));
            LbCommands.Set(body, "cookieHttpOnly", JsonValue.Create(parse.GetValue(cookieHttpOnly)));
            LbCommands.Set(body, "cookieSameSite", JsonValue.Create(parse.GetValue(sameSite)));
            LbCommands.Set(body, "headerName", JsonValue.Create(parse.GetValue(headerName)));
            LbCommands.Set(body, "hashBalanceFactor", JsonValue.Create(parse.GetValue(factor)));
            var id = parse.GetValue(lb);
            var path = $"loadbalancers/{id}/sessionpersistence";
            await api.SendAsync(HttpMethod.Put, path, new JsonObject { ["sessionPersistence"] = body }, ct).ConfigureAwait(false);
            CliOutput.Note($"session persistence {parse.GetValue(type)} enabled on load balancer {id}");
            await Waiter.IfAskedAsync(parse, api, id, gone: false, ct).ConfigureAwait(false);
            WritePersistence(output, await api.GetAsync(path, ct).ConfigureAwait(false));
            return 0;
        });
        return command;
    }

    private static Command Disable()
    {
        var lb = LbCommands.IdArgument();
        var command = CliOptions.WithWait(new Command("disable", "Disable session persistence and forget every pinned client.") { lb });
        CliRunner.SetAction(command, "persistence disable", parse => async (api, output, ct) =>
        {
            var id = parse.GetValue(lb);
            var path = $"loadbalancers/{id}/sessionpersistence";
            await api.SendAsync(HttpMethod.Delete, path, null, ct).ConfigureAwait(false);
            CliOutput.Note($"session persistence disabled on load balancer {id}");
            await Waiter.IfAskedAsync(parse, api, id, gone: false, ct).ConfigureAwait(false);
            WritePersistence(output, await api.GetAsync(path, ct).ConfigureAwait(false));
            return 0;
        });
        return command;
    }
}
