using System.CommandLine;
using System.Text.Json.Nodes;

namespace Tether.Cli;

/// <summary>
/// <c>tether monitor show|set|delete</c>: a load balancer's active health monitor
/// (<c>/loadbalancers/{id}/healthmonitor</c>, docs/api.md#health-monitor), as
/// <c>openstack loadbalancer healthmonitor show|create|delete</c>. <c>set</c> replaces the monitor (PUT).
/// </summary>
internal static class MonitorCommands
{
    public static Command Create()
    {
        var group = new Command("monitor", "A load balancer's health monitor: show, set, delete.");
        group.Subcommands.Add(Show());
        group.Subcommands.Add(Set());
        group.Subcommands.Add(Delete());
        return CliOptions.WithGlobals(group);
    }

    private static void WriteMonitor(CliOutput output, JsonNode? answer) => output.Write(answer, () =>
    {
        var monitor = answer?["healthMonitor"] as JsonObject ?? [];
        if (monitor.Count == 0)
        {
            output.Table(["FIELD", "VALUE"], [["type", "(none)"]]);
            return;
        }

        output.Fields(monitor);
    });

    private static Command Show()
    {
        var lb = LbCommands.IdArgument();
        var command = new Command("show", "Show a load balancer's health monitor.") { lb };
        CliRunner.SetAction(command, "monitor show", parse => async (api, output, ct) =>
        {
            WriteMonitor(output, await api.GetAsync($"loadbalancers/{parse.GetValue(lb)}/healthmonitor", ct).ConfigureAwait(false));
            return 0;
        });
        return command;
    }

    private static Command Set()
    {
        var lb = LbCommands.IdArgument();
        var type = new Option<string>("--type") { Description = "CONNECT (a TCP connection), HTTP (HTTP load balancers) or HTTPS (HTTPS load balancers).", Required = true };
        type.CompletionSources.Add("CONNECT", "HTTP", "HTTPS");
        var delay = new Option<int?>("--delay") { Description = "Seconds between probes of a node (1 to 3600; required by the API)." };
        var timeout = new Option<int?>("--timeout") { Description = "Seconds for one probe (1 to 300; required by the API)." };
        var attempts = new Option<int?>("--attempts") { Description = "Failed probes in a row before a node goes OFFLINE (1 to 10; required by the API)." };
        var path = new Option<string?>("--path") { Description = "HTTP/HTTPS (required): the path probed, starting with /." };
        var statusRegex = new Option<string?>("--status-regex") { Description = "HTTP/HTTPS: a regular expression on the status code (default ^[234][0-9][0-9]$)." };
        var bodyRegex = new Option<string?>("--body-regex") { Description = "HTTP/HTTPS: a regular expression on the first 2048 bytes of the body." };
        var hostHeader = new Option<string?>("--host-header") { Description = "HTTP/HTTPS: the Host header sent." };
        var command = CliOptions.WithWait(new Command("set", "Set (replace) a load balancer's health monitor.")
        {
            lb, type, delay, timeout, attempts, path, statusRegex, bodyRegex, hostHeader,
        });
        CliRunner.SetAction(command, "monitor set", parse => async (api, output, ct) =>
        {
            var body = new JsonObject { ["type"] = parse.GetValue(type) };
            LbCommands.Set(body, "delay", JsonValue.Create(parse.GetValue(delay)));
            LbCommands.Set(body, "timeout", JsonValue.Create(parse.GetValue(timeout)));
            LbCommands.Set(body, "attemptsBeforeDeactivation", JsonValue.Create(parse.GetValue(attempts)));
            LbCommands.Set(body, "path", JsonValue.Create(parse.GetValue(path)));
            LbCommands.Set(body, "statusRegex", JsonValue.Create(parse.GetValue(statusRegex)));
            LbCommands.Set(body, "bodyRegex", JsonValue.Create(parse.GetValue(bodyRegex)));
            LbCommands.Set(body, "hostHeader", JsonValue.Create(parse.GetValue(hostHeader)));
            var id = parse.GetValue(lb);
            var resource = $"loadbalancers/{id}/healthmonitor";
            await api.SendAsync(HttpMethod.Put, resource, new JsonObject { ["healthMonitor"] = body }, ct).ConfigureAwait(false);
            CliOutput.Note($"health monitor {parse.GetValue(type)} set on load balancer {id}");
            await Waiter.IfAskedAsync(parse, api, id, gone: false, ct).ConfigureAwait(false);
            WriteMonitor(output, await api.GetAsync(resource, ct).ConfigureAwait(false));
            return 0;
        });
        return command;
    }

    private static Command Delete()
    {
        var lb = LbCommands.IdArgument();
        var command = CliOptions.WithWait(new Command("delete", "Remove a load balancer's health monitor (every node is ONLINE again).") { lb });
        CliRunner.SetAction(command, "monitor delete", parse => async (api, output, ct) =>
        {
            var id = parse.GetValue(lb);
            var resource = $"loadbalancers/{id}/healthmonitor";
            await api.SendAsync(HttpMethod.Delete, resource, null, ct).ConfigureAwait(false);
            CliOutput.Note($"health monitor removed from load balancer {id}");
            await Waiter.IfAskedAsync(parse, api, id, gone: false, ct).ConfigureAwait(false);
            WriteMonitor(output, await api.GetAsync(resource, ct).ConfigureAwait(false));
            return 0;
        });
        return command;
    }
}
