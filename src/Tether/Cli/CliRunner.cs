using System.CommandLine;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tether.Cli;

/// <summary>
/// Runs one API command: resolves the endpoint and token (<see cref="CliOptions"/>), calls it with an
/// <see cref="ApiClient"/>, and maps the outcome to the exit code: 0 done, 1 the API refused or could not be reached
/// (its error body printed on standard error as it came: the message, the details and every validation message on a
/// line of its own; with <c>-o json</c> the body itself), 2 a command line that cannot be used (System.CommandLine's
/// parse errors exit 2 in Program.cs; here a malformed value or no token).
/// </summary>
internal static class CliRunner
{
    /// <summary>What a command does with the API; returns its exit code.</summary>
    public delegate Task<int> Body(ApiClient api, CliOutput output, CancellationToken cancellationToken);

    /// <summary>Sets <paramref name="command"/>'s action to run <paramref name="body"/> as <c>tether NAME</c>.</summary>
    public static void SetAction(Command command, string name, Func<ParseResult, Body> body) =>
        command.SetAction((parse, cancellationToken) => RunAsync(parse, name, body(parse), cancellationToken));

    public static async Task<int> RunAsync(ParseResult parse, string name, Body body, CancellationToken cancellationToken)
    {
        Uri root;
        try
        {
            (root, var account) = CliOptions.Endpoint(parse);
            var token = CliOptions.ResolveToken(parse);
            using var api = new ApiClient(root, account, token);
            return await body(api, new CliOutput(CliOptions.IsJson(parse), Console.Out), cancellationToken).ConfigureAwait(false);
        }
        catch (CliUsageException e)
        {
            await Console.Error.WriteLineAsync($"tether {name}: {e.Message}").ConfigureAwait(false);
            return 2;
        }
        catch (ApiException e)
        {
            await Console.Error.WriteAsync(Describe(name, e, CliOptions.IsJson(parse))).ConfigureAwait(false);
            return 1;
        }
        catch (HttpRequestException e)
        {
            var api = parse.GetValue(CliOptions.Api) ?? Environment.GetEnvironmentVariable("TETHER_API") ?? CliOptions.DefaultApi;
            await Console.Error.WriteLineAsync($"tether {name}: cannot reach the API at {api}: {e.Message.TrimEnd('.')} (is tether serve running? give --api or TETHER_API)").ConfigureAwait(false);
            return 1;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync($"tether {name}: the API did not answer within 60 seconds").ConfigureAwait(false);
            return 1;
        }
        catch (WaitException e)
        {
            await Console.Error.WriteLineAsync($"tether {name}: {e.Message}").ConfigureAwait(false);
            return 1;
        }
    }

    /// <summary>The lines printed for an API error: with <paramref name="json"/> the body as it came; else
    /// <c>tether NAME: MESSAGE (CODE): DETAILS</c> and each validation message on its own line, indented.</summary>
    public static string Describe(string name, ApiException e, bool json)
    {
        if (json && e.Note is null && e.Body.Length > 0)
        {
            return e.Body.EndsWith('\n') ? e.Body : e.Body + "\n";
        }

        JsonObject? error = null;
        try
        {
            error = JsonNode.Parse(e.Body) as JsonObject;
        }
        catch (JsonException)
        {
        }

        if (error?["overLimit"] is JsonObject overLimit)
        {
            error = overLimit;
        }

        var code = (int)e.Status;
        if (error?["message"] is not JsonValue message)
        {
            var text = e.Note ?? (e.Body.Length == 0 ? $"the API answered {code} {e.Status} without a body" : e.Body);
            return $"tether {name}: {code}: {text}\n";
        }

        var lines = new System.Text.StringBuilder($"tether {name}: {message} ({code})");
        if (error["details"] is JsonValue details)
        {
            lines.Append(": ").Append(details);
        }

        lines.Append('\n');
        foreach (var line in (error["validationErrors"]?["messages"] as JsonArray) ?? [])
        {
            lines.Append("  ").Append(line).Append('\n');
        }

        if (e.Status == HttpStatusCode.Unauthorized && error["details"]?.ToString().Contains("does not belong to account", StringComparison.Ordinal) == true)
        {
            lines.Append("  (the token is of another account: give --account or TETHER_ACCOUNT)\n");
        }

        return lines.ToString();
    }
}
