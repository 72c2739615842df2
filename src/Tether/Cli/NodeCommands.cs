using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;

namespace Tether.Cli;

/// <summary>
/// <c>tether node list|add|update|remove</c>: a load balancer's nodes (<c>/loadbalancers/{id}/nodes</c>,
/// docs/api.md#nodes), as <c>openstack loadbalancer member list|create|set|delete</c>.
/// </summary>
internal static class NodeCommands
{
    private static readonly string[] Conditions = ["ENABLED", "DRAINING", "DISABLED"];
    private static readonly string[] Types = ["PRIMARY", "SECONDARY"];

    public static Command Create()
    {
        var group = new Command("node", "A load balancer's nodes: list, add, update, remove.");
        group.Subcommands.Add(List());
        group.Subcommands.Add(Add());
        group.Subcommands.Add(Update());
        group.Subcommands.Add(Remove());
        return CliOptions.WithGlobals(group);
    }

    /// <summary><c>ADDRESS:PORT</c> or <c>[IPv6]:PORT</c> as the API's <c>{"address","port"}</c>; the address is
    /// sent as given (the API checks it).</summary>
    /// <exception cref="CliUsageException">No port, or a port that is not a number.</exception>
    public static JsonObject ParseEndpoint(string text)
    {
        var colon = text.LastIndexOf(':');
        var address = colon > 0 ? text[..colon] : "";
        if (address.StartsWith('[') && address.EndsWith(']'))
        {
            address = address[1..^1];
        }

        if (colon <= 0 || address.Length == 0 || !int.TryParse(text[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port))
        {
            throw new CliUsageException($"'{text}' is not ADDRESS:PORT (for example 127.0.0.1:9001, [::1]:9001 or app.example.com:80)");
        }

        return new JsonObject { ["address"] = address, ["port"] = port };
    }

    /// <summary>A node's <c>ADDRESS:PORT</c> (<c>[IPv6]:PORT</c>).</summary>
    public static string Endpoint(JsonObject node)
    {
        var address = CliOutput.Cell(node["address"]);
        return (address.Contains(':', StringComparison.Ordinal) ? $"[{address}]" : address) + ":" + CliOutput.Cell(node["port"]);
    }

    private static void WriteNodes(CliOutput output, JsonNode? answer) => output.Write(answer, () => output.Table(
        ["ID", "ADDRESS", "CONDITION", "STATUS", "WEIGHT", "TYPE", "SESSIONS", "ACTIVE"],
        ((answer?["nodes"] as JsonArray) ?? (answer?["node"] is JsonObject one ? [one.DeepClone()] : [])).OfType<JsonObject>().Select(n => (IReadOnlyList<string>)
        [
            CliOutput.Cell(n["id"]), Endpoint(n),
            CliOutput.Cell(n["condition"]) + (n["drained"] is JsonValue d && d.GetValue<bool>() ? " (drained)" : ""),
            CliOutput.Cell(n["status"]), CliOutput.Cell(n["weight"]), CliOutput.Cell(n["type"]),
            CliOutput.Cell(n["persistedSessions"]), CliOutput.Cell(n["activeConnections"]),
        ])));

    private static Command List()
    {
        var lb = LbCommands.IdArgument();
        var command = new Command("list", "List a load balancer's nodes with their condition, status, weight and persisted sessions.") { lb };
        CliRunner.SetAction(command, "node list", parse => async (api, output, ct) =>
        {
            WriteNodes(output, await api.GetAsync($"loadbalancers/{parse.GetValue(lb)}/nodes", ct).ConfigureAwait(false));
            return 0;
        });
        return command;
    }

    private static Command Add()
    {
        var lb = LbCommands.IdArgument();
        var endpoints = new Argument<string[]>("address:port") { Description = "The nodes to add, ADDRESS:PORT each.", Arity = ArgumentArity.OneOrMore };
        var (condition, weight, type) = Settings();
        var command = CliOptions.WithWait(new Command("add", "Add nodes to a load balancer.") { lb, endpoints, condition, weight, type });
        CliRunner.SetAction(command, "node add", parse => async (api, output, ct) =>
        {
            var nodes = new JsonArray();
            foreach (var endpoint in parse.GetValue(endpoints) ?? [])
            {
                var node = ParseEndpoint(endpoint);
                ApplySettings(parse, node, condition, weight, type);
                nodes.Add(node);
            }

            var id = parse.GetValue(lb);
            var answer = await api.SendAsync(HttpMethod.Post, $"loadbalancers/{id}/nodes", new JsonObject { ["nodes"] = nodes }, ct).ConfigureAwait(false);
            CliOutput.Note($"{nodes.Count} node(s) added to load balancer {id}");
            await Waiter.IfAskedAsync(parse, api, id, gone: false, ct).ConfigureAwait(false);
            WriteNodes(output, answer);
            return 0;
        });
        return command;
    }

    private static Command Update()
    {
        var lb = LbCommands.IdArgument();
        var node = new Argument<int>("node-id") { Description = "The node's id (tether node list)." };
        var (condition, weight, type) = Settings();
        var command = CliOptions.WithWait(new Command("update", "Change a node's condition, weight or type.") { lb, node, condition, weight, type });
        CliRunner.SetAction(command, "node update", parse => async (api, output, ct) =>
        {
            var body = new JsonObject();
            ApplySettings(parse, body, condition, weight, type);
            var (id, nodeId) = (parse.GetValue(lb), parse.GetValue(node));
            await api.SendAsync(HttpMethod.Put, $"loadbalancers/{id}/nodes/{nodeId}", new JsonObject { ["node"] = body }, ct).ConfigureAwait(false);
            CliOutput.Note($"node {nodeId} of load balancer {id} updated");
            await Waiter.IfAskedAsync(parse, api, id, gone: false, ct).ConfigureAwait(false);
            WriteNodes(output, await api.GetAsync($"loadbalancers/{id}/nodes/{nodeId}", ct).ConfigureAwait(false));
            return 0;
        });
        return command;
    }

    private static Command Remove()
    {
        var lb = LbCommands.IdArgument();
        var nodes = new Argument<int[]>("node-id") { Description = "The ids of the nodes to remove (1 to 10; all or nothing).", Arity = ArgumentArity.OneOrMore };
        var command = CliOptions.WithWait(new Command("remove", "Remove nodes from a load balancer (their persisted clients are balanced afresh).") { lb, nodes });
        CliRunner.SetAction(command, "node remove", parse => async (api, output, ct) =>
        {
            var id = parse.GetValue(lb);
            var given = parse.GetValue(nodes) ?? [];
            var path = given.Length == 1
                ? $"loadbalancers/{id}/nodes/{given[0]}"
                : $"loadbalancers/{id}/nodes?" + string.Join('&', given.Select(n => string.Create(CultureInfo.InvariantCulture, $"id={n}")));
            await api.SendAsync(HttpMethod.Delete, path, null, ct).ConfigureAwait(false);
            CliOutput.Note($"node(s) {string.Join(", ", given)} removed from load balancer {id}");
            await Waiter.IfAskedAsync(parse, api, id, gone: false, ct).ConfigureAwait(false);
            if (output.Json)
            {
                output.WriteJson(new JsonObject { ["removed"] = new JsonArray([.. given.Select(n => (JsonNode)n)]) });
            }

            return 0;
        });
        return command;
    }

    private static (Option<string?> Condition, Option<int?> Weight, Option<string?> Type) Settings()
    {
        var condition = new Option<string?>("--condition") { Description = "ENABLED (takes traffic), DRAINING (only its persisted clients) or DISABLED." };
        condition.CompletionSources.Add(Conditions);
        var weight = new Option<int?>("--weight") { Description = "1 to 100 (weighted algorithms and SOURCE_IP)." };
        var type = new Option<string?>("--type") { Description = "PRIMARY, or SECONDARY (traffic only while no PRIMARY node is available)." };
        type.CompletionSources.Add(Types);
        return (condition, weight, type);
    }

    private static void ApplySettings(ParseResult parse, JsonObject node, Option<string?> condition, Option<int?> weight, Option<string?> type)
    {
        LbCommands.Set(node, "condition", JsonValue.Create(parse.GetValue(condition)));
        LbCommands.Set(node, "weight", JsonValue.Create(parse.GetValue(weight)));
        LbCommands.Set(node, "type", JsonValue.Create(parse.GetValue(type)));
    }
}
