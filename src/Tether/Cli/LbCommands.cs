using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Tether.Core.LoadBalancing;
using Tether.Core.Model;

namespace Tether.Cli;

/// <summary>
/// <c>tether lb list|show|create|update|delete</c>: the load balancers of the account (<c>/loadbalancers</c>,
/// docs/api.md#load-balancers), as <c>openstack loadbalancer list|show|create|set|delete</c>. Every rule is the API's:
/// the CLI sends what it is given and prints what the API refuses.
/// </summary>
internal static class LbCommands
{
    public static Command Create()
    {
        var group = new Command("lb", "Load balancers: list, show, create, update, delete.");
        group.Subcommands.Add(List());
        group.Subcommands.Add(Show());
        group.Subcommands.Add(CreateCommand());
        group.Subcommands.Add(Update());
        group.Subcommands.Add(Delete());
        return CliOptions.WithGlobals(group);
    }

    /// <summary>An <c>ID</c> argument of a load balancer.</summary>
    public static Argument<int> IdArgument() => new("id") { Description = "The load balancer's id (tether lb list)." };

    /// <summary>The list's table: id, name, protocol, port, algorithm, status, node count, virtual IPs.</summary>
    public static void WriteList(CliOutput output, JsonNode? answer) => output.Write(answer, () => output.Table(
        ["ID", "NAME", "PROTOCOL", "PORT", "ALGORITHM", "STATUS", "NODES", "VIRTUAL IPS"],
        ((answer?["loadBalancers"] as JsonArray) ?? []).OfType<JsonObject>().Select(lb => (IReadOnlyList<string>)
        [
            CliOutput.Cell(lb["id"]), CliOutput.Cell(lb["name"]), CliOutput.Cell(lb["protocol"]), CliOutput.Cell(lb["port"]),
            CliOutput.Cell(lb["algorithm"]), CliOutput.Cell(lb["status"]), CliOutput.Cell(lb["nodeCount"]), VirtualIps(lb["virtualIps"]),
        ])));

    /// <summary>One load balancer as FIELD / VALUE, nodes and virtual IPs in a readable form.</summary>
    public static void WriteOne(CliOutput output, JsonNode? answer) => output.Write(answer, () =>
    {
        if (answer?["loadBalancer"] is JsonObject lb)
        {
            output.Fields(lb, (key, value) => key switch
            {
                "virtualIps" => VirtualIps(value),
                "nodes" => string.Join("\n", ((value as JsonArray) ?? []).OfType<JsonObject>().Select(n =>
                    $"{n["id"]}: {NodeCommands.Endpoint(n)} {n["condition"]} {n["status"]} weight {n["weight"]} {n["type"]}")),
                _ => null,
            });
        }
    });

    private static Command List()
    {
        var status = new Option<string?>("--status") { Description = "Only load balancers with this status (ACTIVE, ERROR, ...)." };
        var nodeAddress = new Option<string?>("--node-address") { Description = "Only load balancers with a node at this address (Rackspace's reduced shape: id, name, status)." };
        var command = new Command("list", "List the account's load balancers.") { status, nodeAddress };
        CliRunner.SetAction(command, "lb list", parse => async (api, output, ct) =>
        {
            var query = new List<string>();
            if (parse.GetValue(status) is { } s)
            {
                query.Add("status=" + Uri.EscapeDataString(s));
            }

            if (parse.GetValue(nodeAddress) is { } a)
            {
                query.Add("nodeaddress=" + Uri.EscapeDataString(a));
            }

            WriteList(output, await api.GetAsync("loadbalancers" + (query.Count > 0 ? "?" + string.Join('&', query) : ""), ct).ConfigureAwait(false));
            return 0;
        });
        return command;
    }

    private static Command Show()
    {
        var id = IdArgument();
        var command = new Command("show", "Show a load balancer: its settings, virtual IPs and nodes.") { id };
        CliRunner.SetAction(command, "lb show", parse => async (api, output, ct) =>
        {
            WriteOne(output, await api.GetAsync($"loadbalancers/{parse.GetValue(id)}", ct).ConfigureAwait(false));
            return 0;
        });
        return command;
    }

    private static Command CreateCommand()
    {
        var name = new Argument<string>("name") { Description = "The load balancer's name (1 to 128 characters)." };
        var protocol = new Option<string>("--protocol") { Description = "HTTP, HTTPS, TCP, UDP, ... (GET /loadbalancers/protocols).", Required = true };
        protocol.CompletionSources.Add([.. Protocols.All.Select(p => p.Name)]);
        var port = new Option<int?>("--port") { Description = "The port it listens on (default: the protocol's)." };
        var algorithm = AlgorithmOption();
        var timeout = new Option<int?>("--timeout") { Description = "Seconds a request may wait on a node without activity (1 to 120, default 30)." };
        var vips = new Option<string[]>("--vip")
        {
            Description = "A virtual IP: SERVICENET (the private address, the default), PUBLIC, PUBLIC_IPV6, or the id of another load balancer's virtual IP to share; repeat for two.",
            AllowMultipleArgumentsPerToken = false,
        };
        vips.CompletionSources.Add("SERVICENET", "PUBLIC", "PUBLIC_IPV6");
        var nodes = new Option<string[]>("--node") { Description = "A node ADDRESS:PORT ([IPv6]:PORT); repeat for more. At least one is required by the API." };
        var persistence = new Option<string?>("--persistence") { Description = "Enable session persistence of this type with its defaults (tether persistence enable sets the details)." };
        persistence.CompletionSources.Add(PersistenceCommands.Types);
        var command = CliOptions.WithWait(new Command("create", "Create a load balancer.") { name, protocol, port, algorithm, timeout, vips, nodes, persistence });
        CliRunner.SetAction(command, "lb create", parse => async (api, output, ct) =>
        {
            var body = new JsonObject { ["name"] = parse.GetValue(name), ["protocol"] = parse.GetValue(protocol) };
            Set(body, "port", JsonValue.Create(parse.GetValue(port)));
            Set(body, "algorithm", JsonValue.Create(parse.GetValue(algorithm)));
            Set(body, "timeout", JsonValue.Create(parse.GetValue(timeout)));
            var given = parse.GetValue(vips) is { Length: > 0 } v ? v : ["SERVICENET"];
            body["virtualIps"] = new JsonArray([.. given.Select(VirtualIp)]);
            body["nodes"] = new JsonArray([.. (parse.GetValue(nodes) ?? []).Select(n => (JsonNode)NodeCommands.ParseEndpoint(n))]);
            if (parse.GetValue(persistence) is { } type)
            {
                body["sessionPersistence"] = new JsonObject { ["persistenceType"] = type };
            }

            var answer = await api.SendAsync(HttpMethod.Post, "loadbalancers", new JsonObject { ["loadBalancer"] = body }, ct).ConfigureAwait(false);
            var id = answer?["loadBalancer"]?["id"]?.GetValue<int>() ?? 0;
            CliOutput.Note($"load balancer {id} created");
            await Waiter.IfAskedAsync(parse, api, id, gone: false, ct).ConfigureAwait(false);
            WriteOne(output, parse.GetValue(CliOptions.Wait) ? await api.GetAsync($"loadbalancers/{id}", ct).ConfigureAwait(false) : answer);
            return 0;
        });
        return command;
    }

    private static Command Update()
    {
        var id = IdArgument();
        var name = new Option<string?>("--name") { Description = "A new name." };
        var protocol = new Option<string?>("--protocol") { Description = "A new protocol (disables session persistence)." };
        protocol.CompletionSources.Add([.. Protocols.All.Select(p => p.Name)]);
        var port = new Option<int?>("--port") { Description = "A new port (disables session persistence; the old port serves until the new one is bound)." };
        var algorithm = AlgorithmOption();
        var timeout = new Option<int?>("--timeout") { Description = "Seconds a request may wait on a node without activity (1 to 120)." };
        var halfClosed = new Option<bool?>("--half-closed") { Description = "TCP: pass a FIN on and keep the other direction open (true/false)." };
        var httpsRedirect = new Option<bool?>("--https-redirect") { Description = "With SSL termination: redirect plain HTTP to HTTPS (true/false)." };
        var slowStart = new Option<int?>("--slow-start") { Description = "Slow start in seconds (0 off, up to 3600)." };
        var command = CliOptions.WithWait(new Command("update", "Change a load balancer's name, protocol, port, algorithm, timeout, half-closed, HTTPS redirect or slow start.")
        {
            id, name, protocol, port, algorithm, timeout, halfClosed, httpsRedirect, slowStart,
        });
        CliRunner.SetAction(command, "lb update", parse => async (api, output, ct) =>
        {
            var body = new JsonObject();
            Set(body, "name", JsonValue.Create(parse.GetValue(name)));
            Set(body, "protocol", JsonValue.Create(parse.GetValue(protocol)));
            Set(body, "port", JsonValue.Create(parse.GetValue(port)));
            Set(body, "algorithm", JsonValue.Create(parse.GetValue(algorithm)));
            Set(body, "timeout", JsonValue.Create(parse.GetValue(timeout)));
            Set(body, "halfClosed", JsonValue.Create(parse.GetValue(halfClosed)));
            Set(body, "httpsRedirect", JsonValue.Create(parse.GetValue(httpsRedirect)));
            Set(body, "slowStartSeconds", JsonValue.Create(parse.GetValue(slowStart)));
            var lb = parse.GetValue(id);
            await api.SendAsync(HttpMethod.Put, $"loadbalancers/{lb}", new JsonObject { ["loadBalancer"] = body }, ct).ConfigureAwait(false);
            CliOutput.Note($"load balancer {lb} updated");
            await Waiter.IfAskedAsync(parse, api, lb, gone: false, ct).ConfigureAwait(false);
            WriteOne(output, await api.GetAsync($"loadbalancers/{lb}", ct).ConfigureAwait(false));
            return 0;
        });
        return command;
    }

    private static Command Delete()
    {
        var ids = new Argument<int[]>("id") { Description = "The ids of the load balancers to delete (1 to 10; all or nothing).", Arity = ArgumentArity.OneOrMore };
        var command = CliOptions.WithWait(new Command("delete", "Delete load balancers: their listeners stop, requests in flight finish.") { ids });
        CliRunner.SetAction(command, "lb delete", parse => async (api, output, ct) =>
        {
            var given = parse.GetValue(ids) ?? [];
            var path = given.Length == 1
                ? $"loadbalancers/{given[0]}"
                : "loadbalancers?" + string.Join('&', given.Select(i => string.Create(CultureInfo.InvariantCulture, $"id={i}")));
            await api.SendAsync(HttpMethod.Delete, path, null, ct).ConfigureAwait(false);
            foreach (var lb in given)
            {
                CliOutput.Note($"load balancer {lb} deleted");
                await Waiter.IfAskedAsync(parse, api, lb, gone: true, ct).ConfigureAwait(false);
            }

            if (output.Json)
            {
                output.WriteJson(new JsonObject { ["deleted"] = new JsonArray([.. given.Select(i => (JsonNode)i)]) });
            }

            return 0;
        });
        return command;
    }

    private static Option<string?> AlgorithmOption()
    {
        var algorithm = new Option<string?>("--algorithm") { Description = "RANDOM (default), ROUND_ROBIN, WEIGHTED_ROUND_ROBIN, LEAST_CONNECTIONS or WEIGHTED_LEAST_CONNECTIONS." };
        algorithm.CompletionSources.Add([.. AlgorithmNames.All]);
        return algorithm;
    }

    private static JsonNode VirtualIp(string given) => given.ToUpperInvariant() switch
    {
        "PUBLIC_IPV6" or "IPV6" => new JsonObject { ["type"] = "PUBLIC", ["ipVersion"] = "IPV6" },
        var t when int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var shared) => new JsonObject { ["id"] = shared },
        var t => new JsonObject { ["type"] = t },
    };

    private static string VirtualIps(JsonNode? value) => string.Join(", ", ((value as JsonArray) ?? []).OfType<JsonObject>().Select(v => $"{v["address"]} ({v["type"]})"));

    /// <summary>Sets <paramref name="key"/> when the option was given (an option left out sends nothing).</summary>
    public static void Set(JsonObject body, string key, JsonNode? value)
    {
        if (value is not null)
        {
            body[key] = value;
        }
    }
}
