using System.CommandLine;
using System.Text.Json.Nodes;

namespace Tether.Cli;

/// <summary>
/// <c>tether stats ID</c>: a load balancer's statistics (<c>GET /loadbalancers/{id}/stats</c>,
/// docs/api.md#get-loadbalancersidstats): the connection counters, the persistence decisions and each node's
/// requests, failures and share of the traffic against its share of the weight.
/// </summary>
internal static class StatsCommand
{
    public static Command Create()
    {
        var lb = LbCommands.IdArgument();
        var command = new Command("stats", "Show a load balancer's statistics: connections, persistence decisions, each node's share.") { lb };
        CliRunner.SetAction(command, "stats", parse => async (api, output, ct) =>
        {
            var answer = await api.GetAsync($"loadbalancers/{parse.GetValue(lb)}/stats", ct).ConfigureAwait(false);
            output.Write(answer, () =>
            {
                var stats = answer as JsonObject ?? [];
                output.Table(["COUNTER", "VALUE"], stats.Where(p => p.Value is JsonValue).Select(p => (IReadOnlyList<string>)[p.Key, CliOutput.Cell(p.Value)]));
                if (stats["persistence"] is JsonObject persistence)
                {
                    output.Table(["PERSISTENCE", "REQUESTS"], persistence.Select(p => (IReadOnlyList<string>)[p.Key, CliOutput.Cell(p.Value)]));
                }

                output.Table(["NODE", "REQUESTS", "ACTIVE", "FAILURES", "SHARE", "WEIGHT SHARE"],
                    ((stats["nodes"] as JsonArray) ?? []).OfType<JsonObject>().Select(n => (IReadOnlyList<string>)
                    [
                        CliOutput.Cell(n["id"]), CliOutput.Cell(n["requests"]), CliOutput.Cell(n["activeConnections"]), CliOutput.Cell(n["failures"]),
                        CliOutput.Number(n["share"]), CliOutput.Number(n["weightShare"]),
                    ]));
            });
            return 0;
        });
        return CliOptions.WithGlobals(command);
    }
}
