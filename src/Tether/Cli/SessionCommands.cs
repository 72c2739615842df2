using System.CommandLine;
using System.Text.Json.Nodes;

namespace Tether.Cli;

/// <summary>
/// <c>tether sessions list|lookup|unpin</c>: the persisted sessions of a load balancer (Tether's persistence API,
/// docs/api.md#persistence-api): the live stick-table entries, where a client would go and why, and unpinning a
/// node's clients.
/// </summary>
internal static class SessionCommands
{
    public static Command Create()
    {
        var group = new Command("sessions", "A load balancer's persisted sessions: list, lookup, unpin.");
        group.Subcommands.Add(List());
        group.Subcommands.Add(Lookup());
        group.Subcommands.Add(Unpin());
        return CliOptions.WithGlobals(group);
    }

    private static Command List()
    {
        var lb = LbCommands.IdArgument();
        var node = new Option<int?>("--node") { Description = "Only the sessions pinned to this node id." };
        var limit = new Option<int?>("--limit") { Description = "At most this many (1 to 1000, default 100)." };
        var marker = new Option<string?>("--marker") { Description = "The id of the last session of the previous page." };
        var command = new Command("list", "List the live persisted sessions (keys are masked or digests: no address or cookie is revealed).") { lb, node, limit, marker };
        CliRunner.SetAction(command, "sessions list", parse => async (api, output, ct) =>
        {
            var query = new List<string>();
            if (parse.GetValue(node) is { } n)
            {
                query.Add($"nodeId={n}");
            }

            if (parse.GetValue(limit) is { } l)
            {
                query.Add($"limit={l}");
            }

            if (parse.GetValue(marker) is { } m)
            {
                query.Add("marker=" + Uri.EscapeDataString(m));
            }

            var path = $"loadbalancers/{parse.GetValue(lb)}/sessionpersistence/sessions" + (query.Count > 0 ? "?" + string.Join('&', query) : "");
            var answer = await api.GetAsync(path, ct).ConfigureAwait(false);
            output.Write(answer, () => output.Table(
                ["ID", "TYPE", "KEY", "NODE", "LAST SEEN", "EXPIRES"],
                ((answer?["sessions"] as JsonArray) ?? []).OfType<JsonObject>().Select(s => (IReadOnlyList<string>)
                [
                    CliOutput.Cell(s["id"]), CliOutput.Cell(s["persistenceType"]), CliOutput.Cell(s["key"]), CliOutput.Cell(s["nodeId"]),
                    CliOutput.Cell(s["lastSeen"]), CliOutput.Cell(s["expires"]),
                ])));
            return 0;
        });
        return command;
    }

    private static Command Lookup()
    {
        var lb = LbCommands.IdArgument();
        var address = new Option<string?>("--address") { Description = "SOURCE_IP: the client's address." };
        var cookie = new Option<string?>("--cookie") { Description = "HTTP_COOKIE: Tether's cookie value; APP_COOKIE: the application cookie's value (NAME=VALUE with cookie name *)." };
        var header = new Option<string?>("--header") { Description = "HEADER: the header's value." };
        var command = new Command("lookup", "Which node a client would reach now, and why (persisted, hashed, balanced, rejected); changes nothing.") { lb, address, cookie, header };
        CliRunner.SetAction(command, "sessions lookup", parse => async (api, output, ct) =>
        {
            var query = new List<string>();
            foreach (var (key, option) in new[] { ("address", address), ("cookie", cookie), ("header", header) })
            {
                if (parse.GetValue(option) is { } value)
                {
                    query.Add(key + "=" + Uri.EscapeDataString(value));
                }
            }

            var path = $"loadbalancers/{parse.GetValue(lb)}/sessionpersistence/lookup" + (query.Count > 0 ? "?" + string.Join('&', query) : "");
            var answer = await api.GetAsync(path, ct).ConfigureAwait(false);
            output.Write(answer, () => output.Fields(answer?["lookup"] as JsonObject ?? []));
            return 0;
        });
        return command;
    }

    private static Command Unpin()
    {
        var lb = LbCommands.IdArgument();
        var node = new Option<int>("--node") { Description = "The node whose clients are unpinned: their next request is balanced afresh.", Required = true };
        var command = new Command("unpin", "Unpin every client of a node.") { lb, node };
        CliRunner.SetAction(command, "sessions unpin", parse => async (api, output, ct) =>
        {
            var (id, nodeId) = (parse.GetValue(lb), parse.GetValue(node));
            await api.SendAsync(HttpMethod.Delete, $"loadbalancers/{id}/sessionpersistence/sessions?nodeId={nodeId}", null, ct).ConfigureAwait(false);
            CliOutput.Note($"the clients of node {nodeId} on load balancer {id} are unpinned");
            if (output.Json)
            {
                output.WriteJson(new JsonObject { ["unpinned"] = new JsonObject { ["loadBalancerId"] = id, ["nodeId"] = nodeId } });
            }

            return 0;
        });
        return command;
    }
}
