using System.Globalization;
using System.Net;
using Tether.FunctionalTests.Infrastructure;

namespace Tether.FunctionalTests.Cli;

/// <summary><c>tether sessions list|lookup|unpin</c> against a running Tether with real pinned clients.</summary>
public sealed class SessionCommandTests
{
    [Fact]
    public async Task SessionsListLookupUnpin_HttpCookieClient_ShowsItsPinAndUnpinsIt()
    {
        await using var cli = await CliTether.StartAsync();
        await using var b1 = await TestBackend.StartAsync("b1");
        await using var b2 = await TestBackend.StartAsync("b2");
        var (id, port) = await cli.CreateLoadBalancerAsync([b1, b2], """{"persistenceType":"HTTP_COOKIE"}""");
        var lb = id.ToString(CultureInfo.InvariantCulture);
        using var browser = Clients.WithCookieJar(port, out var jar);
        await Clients.SpreadAsync(browser, 2); // the second request brings the cookie back: the session enters the view
        var cookie = jar.GetCookies(new Uri($"http://127.0.0.1:{port}/"))[$"tether-{lb}"]!.Value;

        var list = await cli.JsonAsync("sessions", "list", lb);
        var node = list["sessions"]![0]!["nodeId"]!.ToString();
        var table = await cli.RunAsync("sessions", "list", lb, "--node", node);
        var lookup = await cli.RunAsync("sessions", "lookup", lb, "--cookie", cookie);
        var unpin = await cli.RunAsync("sessions", "unpin", lb, "--node", node);
        var afterUnpin = await cli.JsonAsync("sessions", "list", lb);
        var noKey = await cli.RunAsync("sessions", "lookup", lb);

        Assert.Single(list["sessions"]!.AsArray());
        Assert.Matches($@"│ [0-9a-f]{{16}} │ HTTP_COOKIE │ session:[0-9a-f]+ │ {node}\s+│ \d{{4}}-\d\d-\d\dT", table.Output);
        Assert.Equal(0, lookup.Code);
        Assert.Matches($@"│ nodeId\s+│ {node}\s+│", lookup.Output);
        Assert.Matches(@"│ reason\s+│ persisted\s+│", lookup.Output);
        Assert.Equal(0, unpin.Code);
        Assert.Equal($"the clients of node {node} on load balancer {lb} are unpinned\n", unpin.Error);
        Assert.Empty(afterUnpin["sessions"]!.AsArray());
        Assert.Equal(1, noKey.Code);
        Assert.StartsWith("tether sessions lookup: Validation Failure (400)", noKey.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SessionsUnpin_NoNode_IsAUsageErrorAndUnknownNodeIsAnApiError()
    {
        await using var cli = await CliTether.StartAsync();
        await using var b1 = await TestBackend.StartAsync("b1");
        var (id, _) = await cli.CreateLoadBalancerAsync([b1], """{"persistenceType":"SOURCE_IP"}""");
        var lb = id.ToString(CultureInfo.InvariantCulture);

        var usage = await cli.RunAsync("sessions", "unpin", lb);
        var unknown = await cli.RunAsync("sessions", "unpin", lb, "--node", "999");
        using var check = await cli.Tether.Api.GetAsync($"loadbalancers/{lb}");

        Assert.Equal(2, usage.Code);
        Assert.Equal(1, unknown.Code);
        Assert.StartsWith("tether sessions unpin: Node not found (404)", unknown.Error, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, check.StatusCode);
    }
}
