using System.Globalization;
using System.Text.Json.Nodes;
using Tether.FunctionalTests.Infrastructure;

namespace Tether.FunctionalTests.Cli;

/// <summary><c>tether lb list|show|create|update|delete</c> against a running Tether.</summary>
public sealed class LbCommandTests
{
    [Fact]
    public async Task LbList_FreshInstallWithTheTokenFileOfDotData_PrintsAnEmptyTableAndExits0()
    {
        // A real tether serve whose data directory is ./data of the directory the CLI runs in: no --token, no
        // TETHER_TOKEN; the CLI reads data/admin-token as serve wrote it.
        var home = TetherCli.TempPath("tether-cli-home-");
        Directory.CreateDirectory(home);
        try
        {
            await using var tether = await TetherProcess.StartAsync(dataDirectory: Path.Combine(home, "data"));

            var result = await TetherCli.RunAsync(["lb", "list", "--api", $"http://127.0.0.1:{tether.ApiPort}"], workingDirectory: home);

            Assert.Equal(0, result.Code);
            Assert.Equal("", result.Error);
            var lines = result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(3, lines.Length);
            Assert.Matches(@"^│ ID │ NAME │ PROTOCOL │ PORT │ ALGORITHM │ STATUS │ NODES │ VIRTUAL IPS │$", lines[1]);
            Assert.StartsWith("╭", lines[0], StringComparison.Ordinal);
            Assert.StartsWith("╰", lines[2], StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }

    [Fact]
    public async Task LbCreateShowUpdateDelete_EachVerb_ChangesTheLoadBalancerAsTheApiShowsIt()
    {
        await using var cli = await CliTether.StartAsync();
        await using var b1 = await TestBackend.StartAsync("b1");
        await using var b2 = await TestBackend.StartAsync("b2");
        var port = FreePort.Next().ToString(CultureInfo.InvariantCulture);

        var created = await cli.RunAsync("lb", "create", "web", "--protocol", "HTTP", "--port", port, "--algorithm", "ROUND_ROBIN",
            "--node", $"127.0.0.1:{b1.Port}", "--node", $"127.0.0.1:{b2.Port}");
        var list = await cli.RunAsync("lb", "list");
        var id = (await cli.Tether.GetJsonAsync("loadbalancers"))["loadBalancers"]![0]!["id"]!.GetValue<int>().ToString(CultureInfo.InvariantCulture);
        using var client = Clients.WithoutCookies(int.Parse(port, CultureInfo.InvariantCulture));
        var spread = await Clients.SpreadAsync(client, 4);
        var updated = await cli.RunAsync("lb", "update", id, "--name", "web-renamed", "--timeout", "45");
        var shown = await cli.RunAsync("lb", "show", id);
        var apiAfterUpdate = (await cli.Tether.GetJsonAsync($"loadbalancers/{id}"))["loadBalancer"]!;
        var deleted = await cli.RunAsync("lb", "delete", id);
        using var gone = await cli.Tether.Api.GetAsync($"loadbalancers/{id}");

        Assert.Equal(0, created.Code);
        Assert.Equal($"load balancer {id} created\n", created.Error);
        Assert.Matches(@"│ nodes\s+│ \d+: 127\.0\.0\.1:\d+ ENABLED ONLINE weight 1 PRIMARY", created.Output);
        Assert.Matches($@"│ {id}\s+│ web\s+│ HTTP\s+│ {port} │ ROUND_ROBIN\s+│ ACTIVE\s+│ 2\s+│ 127\.0\.0\.1 \(SERVICENET\) │", list.Output);
        Assert.Equal(2, spread["b1"]);
        Assert.Equal(2, spread["b2"]);
        Assert.Equal(0, updated.Code);
        Assert.Equal("web-renamed", apiAfterUpdate["name"]!.GetValue<string>());
        Assert.Equal(45, apiAfterUpdate["timeout"]!.GetValue<int>());
        Assert.Matches(@"│ name\s+│ web-renamed\s+│", shown.Output);
        Assert.Matches(@"│ timeout\s+│ 45\s+│", shown.Output);
        Assert.Equal(0, deleted.Code);
        Assert.Equal($"load balancer {id} deleted\n", deleted.Error);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task LbCreate_InvalidFields_PrintsEveryValidationMessageAsTheApiWroteItAndExits1()
    {
        await using var cli = await CliTether.StartAsync();

        var result = await cli.RunAsync("lb", "create", "", "--protocol", "HTTPX", "--port", "70000", "--timeout", "500");
        var json = await cli.RunAsync("lb", "create", "", "--protocol", "HTTPX", "-o", "json");

        Assert.Equal(1, result.Code);
        Assert.Equal("", result.Output);
        Assert.Equal(
            "tether lb create: Validation Failure (400): The object is not valid\n" +
            "  name: must be 1 to 128 characters (got 0)\n" +
            "  protocol: must be one of DNS_TCP, DNS_UDP, FTP, HTTP, HTTPS, IMAPS, IMAPv4, LDAP, LDAPS, MYSQL, POP3, POP3S, SMTP, TCP, TCP_CLIENT_FIRST, UDP, UDP_STREAM, SFTP, TCP_STREAM (got 'HTTPX')\n" +
            "  port: must be from 1 to 65535 (got 70000)\n" +
            "  timeout: must be from 1 to 120 seconds (got 500)\n" +
            "  nodes: at least one node is required\n",
            result.Error);
        Assert.Equal(1, json.Code);
        var body = JsonNode.Parse(json.Error)!;
        Assert.Equal(400, body["code"]!.GetValue<int>());
        Assert.Contains("name: must be 1 to 128 characters (got 0)", body["validationErrors"]!["messages"]!.AsArray().Select(m => m!.GetValue<string>()));
        Assert.Empty((await cli.Tether.GetJsonAsync("loadbalancers"))["loadBalancers"]!.AsArray());
    }

    [Theory]
    [InlineData("lb", "show", "one")]
    [InlineData("lb", "list", "--bogus")]
    [InlineData("lb", "create", "web")]
    [InlineData("lb", "list", "-o", "yaml")]
    [InlineData("lb", "create", "web", "--protocol", "HTTP", "--node", "127.0.0.1")]
    [InlineData("lb", "frobnicate")]
    public async Task Lb_UsageError_Exits2WithoutCallingTheApi(params string[] args)
    {
        await using var cli = await CliTether.StartAsync();

        var result = await cli.RunAsync(args);

        Assert.Equal(2, result.Code);
        Assert.NotEqual("", result.Error);
        Assert.Empty((await cli.Tether.GetJsonAsync("loadbalancers"))["loadBalancers"]!.AsArray());
    }

    [Fact]
    public async Task LbCreateAndDelete_Wait_PollUntilActiveAndUntilGone()
    {
        await using var cli = await CliTether.StartAsync();
        await using var b1 = await TestBackend.StartAsync("b1");
        var port = FreePort.Next().ToString(CultureInfo.InvariantCulture);

        var created = await cli.RunAsync("lb", "create", "web", "--protocol", "HTTP", "--port", port, "--node", $"127.0.0.1:{b1.Port}", "--wait", "--wait-timeout", "30");
        var id = (await cli.Tether.GetJsonAsync("loadbalancers"))["loadBalancers"]![0]!["id"]!.ToString();
        var deleted = await cli.RunAsync("lb", "delete", id, "--wait");
        var again = await cli.RunAsync("lb", "delete", id, "--wait");

        Assert.Equal(0, created.Code);
        Assert.Equal($"load balancer {id} created\nload balancer {id} is ACTIVE\n", created.Error);
        Assert.Matches(@"│ status\s+│ ACTIVE\s+│", created.Output);
        Assert.Equal(0, deleted.Code);
        Assert.Equal($"load balancer {id} deleted\nload balancer {id} is gone\n", deleted.Error);
        Assert.Equal(1, again.Code);
        Assert.Equal("tether lb delete: Load balancer not found (404)\n", again.Error);
    }

    [Fact]
    public async Task LbListAndShow_OutputJson_IsTheApiAnswerAsValidJson()
    {
        await using var cli = await CliTether.StartAsync();
        await using var b1 = await TestBackend.StartAsync("b1");
        var (id, _) = await cli.CreateLoadBalancerAsync([b1]);

        var list = await cli.JsonAsync("lb", "list");
        var show = await cli.JsonAsync("lb", "show", id.ToString(CultureInfo.InvariantCulture));

        Assert.Equal(id, list["loadBalancers"]![0]!["id"]!.GetValue<int>());
        Assert.True(JsonNode.DeepEquals(await cli.Tether.GetJsonAsync($"loadbalancers/{id}"), show));
    }
}
