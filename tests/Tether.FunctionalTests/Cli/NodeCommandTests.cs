using System.Globalization;
using Tether.FunctionalTests.Infrastructure;

namespace Tether.FunctionalTests.Cli;

/// <summary><c>tether node list|add|update|remove</c> against a running Tether.</summary>
public sealed class NodeCommandTests
{
    [Fact]
    public async Task NodeAddUpdateListRemove_EachVerb_ChangesTheNodesAsTheApiShowsThem()
    {
        await using var cli = await CliTether.StartAsync();
        await using var b1 = await TestBackend.StartAsync("b1");
        await using var b2 = await TestBackend.StartAsync("b2");
        var (id, port) = await cli.CreateLoadBalancerAsync([b1]);
        var lb = id.ToString(CultureInfo.InvariantCulture);

        var added = await cli.RunAsync("node", "add", lb, $"127.0.0.1:{b2.Port}", "--weight", "3", "--wait");
        var nodes = (await cli.Tether.GetJsonAsync($"loadbalancers/{lb}/nodes"))["nodes"]!.AsArray();
        var second = nodes.Single(n => n!["port"]!.GetValue<int>() == b2.Port)!["id"]!.ToString();
        var first = nodes.Single(n => n!["port"]!.GetValue<int>() == b1.Port)!["id"]!.ToString();
        var updated = await cli.RunAsync("node", "update", lb, first, "--condition", "DISABLED");
        using var client = Clients.WithoutCookies(port);
        var spread = await Clients.SpreadAsync(client, 4);
        var list = await cli.RunAsync("node", "list", lb);
        var removed = await cli.RunAsync("node", "remove", lb, first);
        var after = (await cli.Tether.GetJsonAsync($"loadbalancers/{lb}/nodes"))["nodes"]!.AsArray();

        Assert.Equal(0, added.Code);
        Assert.Equal($"1 node(s) added to load balancer {lb}\nload balancer {lb} is ACTIVE\n", added.Error);
        Assert.Matches($@"│ {second}\s+│ 127\.0\.0\.1:{b2.Port} │ ENABLED\s+│ ONLINE │ 3\s+│ PRIMARY │", added.Output);
        Assert.Equal(0, updated.Code);
        Assert.Matches($@"│ {first}\s+│ 127\.0\.0\.1:{b1.Port} │ DISABLED\s+│ ONLINE │ 1\s+│ PRIMARY │ 0\s+│ 0\s+│", updated.Output);
        Assert.Equal(4, spread["b2"]);
        Assert.Equal(0, list.Code);
        Assert.Contains($"127.0.0.1:{b1.Port}", list.Output, StringComparison.Ordinal);
        Assert.Contains($"127.0.0.1:{b2.Port}", list.Output, StringComparison.Ordinal);
        Assert.Equal(0, removed.Code);
        Assert.Equal(second, after.Single()!["id"]!.ToString());
    }

    [Fact]
    public async Task NodeAddAndUpdate_InvalidValues_PrintTheApiMessagesAndExit1()
    {
        await using var cli = await CliTether.StartAsync();
        await using var b1 = await TestBackend.StartAsync("b1");
        var (id, _) = await cli.CreateLoadBalancerAsync([b1]);
        var lb = id.ToString(CultureInfo.InvariantCulture);
        var node = (await cli.Tether.GetJsonAsync($"loadbalancers/{lb}/nodes"))["nodes"]![0]!["id"]!.ToString();

        var add = await cli.RunAsync("node", "add", lb, "1.2.3:80", "--weight", "0", "--condition", "UP");
        var update = await cli.RunAsync("node", "update", lb, node);
        var removeLast = await cli.RunAsync("node", "remove", lb, node);

        Assert.Equal(1, add.Code);
        Assert.Equal(
            "tether node add: Validation Failure (400): The object is not valid\n" +
            "  nodes[0].address: must be an IPv4 (dotted quad) or IPv6 address literal (got '1.2.3')\n" +
            "  nodes[0].condition: must be one of ENABLED, DISABLED, DRAINING (got 'UP')\n" +
            "  nodes[0].weight: must be from 1 to 100 (got 0)\n",
            add.Error);
        Assert.Equal(1, update.Code);
        Assert.StartsWith("tether node update: Validation Failure (400): The object is not valid\n  ", update.Error, StringComparison.Ordinal);
        Assert.Equal(1, removeLast.Code);
        Assert.Contains("nodes: a load balancer must keep at least one node", removeLast.Error, StringComparison.Ordinal);
        Assert.Single((await cli.Tether.GetJsonAsync($"loadbalancers/{lb}/nodes"))["nodes"]!.AsArray());
    }

    [Fact]
    public async Task NodeList_OutputJson_IsTheApiAnswer()
    {
        await using var cli = await CliTether.StartAsync();
        await using var b1 = await TestBackend.StartAsync("b1");
        var (id, _) = await cli.CreateLoadBalancerAsync([b1]);

        var json = await cli.JsonAsync("node", "list", id.ToString(CultureInfo.InvariantCulture));

        Assert.Equal(b1.Port, json["nodes"]![0]!["port"]!.GetValue<int>());
        Assert.Equal("ENABLED", json["nodes"]![0]!["condition"]!.GetValue<string>());
    }
}
