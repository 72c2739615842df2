using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Tether.FunctionalTests.Infrastructure;
using Xunit.Abstractions;

namespace Tether.FunctionalTests;

/// <summary>
/// Issue 6, active health monitoring end to end over real sockets: a killed backend goes OFFLINE and a restarted one
/// ONLINE within <c>delay × attempts</c> plus one delay, traffic and persisted clients follow, and SECONDARY takes over
/// and gives back. Every monitor here has delay 1 s, timeout 1 s and 2 attempts. The rules (regexes, disableFallback,
/// deleting the monitor) are in <see cref="HealthMonitorRuleTests"/>, a second class so that both run in parallel.
/// </summary>
public sealed class HealthMonitorTests(HealthMonitorFixture fixture, ITestOutputHelper output)
    : HealthMonitorTestBase(fixture, output), IClassFixture<HealthMonitorFixture>
{
    [Fact]
    public async Task KilledBackend_GoesOfflineThenOnlineAfterRestart_TrafficAndEventsFollow()
    {
        await using var a = await TestBackend.StartAsync("a");
        var b = await TestBackend.StartAsync("b");
        var (id, port, nodes) = await CreateAsync([(a, "PRIMARY"), (b, "PRIMARY")], Connect, algorithm: "ROUND_ROBIN");
        using var client = Clients.WithoutCookies(port);
        Assert.Equal(["a", "b"], (await Clients.SpreadAsync(client, 4)).Keys.Order());

        var bPort = b.Port;
        await b.DisposeAsync();
        var offline = await WaitForStatusAsync(id, nodes[1], "OFFLINE", OfflineBound);
        Output.WriteLine($"CONNECT: killed backend OFFLINE after {offline.TotalMilliseconds:F0} ms (bound {OfflineBound.TotalMilliseconds} ms)");

        Assert.Equal(new Dictionary<string, int> { ["a"] = 10 }, await Clients.SpreadAsync(client, 10));

        await using var restarted = await TestBackend.StartAsync("b", bPort);
        var online = await WaitForStatusAsync(id, nodes[1], "ONLINE", OnlineBound);
        Output.WriteLine($"CONNECT: restarted backend ONLINE after {online.TotalMilliseconds:F0} ms (bound {OnlineBound.TotalMilliseconds} ms)");

        Assert.Equal(["a", "b"], (await Clients.SpreadAsync(client, 4)).Keys.Order());
        Assert.Equal("ONLINE", await StatusAsync(id, nodes[0]));
        var events = await EventsAsync(id);
        Assert.Equal(2, events.Count);
        Assert.All(events, e => Assert.Equal(nodes[1], e!["nodeId"]!.GetValue<int>()));
        Assert.Equal($"Node '{nodes[1]}' status changed to 'OFFLINE' for load balancer '{id}'", events[0]!["description"]!.GetValue<string>());
        Assert.Equal("Connection refused", events[0]!["detailedMessage"]!.GetValue<string>());
        Assert.Equal($"Node '{nodes[1]}' status changed to 'ONLINE' for load balancer '{id}'", events[1]!["description"]!.GetValue<string>());
        Assert.Equal("Node is working", events[1]!["detailedMessage"]!.GetValue<string>());
    }

    [Fact]
    public async Task CookieClientPinnedToKilledNode_IsRepinnedAfterOffline()
    {
        await using var a = await TestBackend.StartAsync("a");
        await using var b = await TestBackend.StartAsync("b");
        var backends = new Dictionary<string, TestBackend> { ["a"] = a, ["b"] = b };
        var (id, port, nodes) = await CreateAsync([(a, "PRIMARY"), (b, "PRIMARY")], Http(), """{"persistenceType":"HTTP_COOKIE"}""");
        using var browser = Clients.WithCookieJar(port, out var jar);
        var pinned = await browser.GetStringAsync("/");
        Assert.Equal(pinned, await browser.GetStringAsync("/"));
        var other = pinned == "a" ? "b" : "a";

        await backends[pinned].DisposeAsync();
        var offline = await WaitForStatusAsync(id, nodes[pinned == "a" ? 0 : 1], "OFFLINE", OfflineBound);
        Output.WriteLine($"HTTP: killed backend OFFLINE after {offline.TotalMilliseconds:F0} ms (bound {OfflineBound.TotalMilliseconds} ms)");

        using var response = await browser.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(other, await response.Content.ReadAsStringAsync());
        Assert.True(response.Headers.Contains("Set-Cookie"), "the repinned client gets a new cookie");
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(other, await browser.GetStringAsync("/"));
        }

        Assert.Single(jar.GetCookies(new Uri($"http://127.0.0.1:{port}/")));
    }

    [Fact]
    public async Task OnlyPrimaryOffline_SecondaryTakesOverAndGivesBack()
    {
        await using var primary = await TestBackend.StartAsync("primary");
        await using var secondary = await TestBackend.StartAsync("secondary");
        var (id, port, nodes) = await CreateAsync([(primary, "PRIMARY"), (secondary, "SECONDARY")], Http());
        using var client = Clients.WithoutCookies(port);
        Assert.Equal(new Dictionary<string, int> { ["primary"] = 4 }, await Clients.SpreadAsync(client, 4));

        primary.HealthStatus = 503;
        await WaitForStatusAsync(id, nodes[0], "OFFLINE", OfflineBound);
        Assert.Equal(new Dictionary<string, int> { ["secondary"] = 4 }, await Clients.SpreadAsync(client, 4));

        primary.HealthStatus = 200;
        await WaitForStatusAsync(id, nodes[0], "ONLINE", OnlineBound);
        Assert.Equal(new Dictionary<string, int> { ["primary"] = 4 }, await Clients.SpreadAsync(client, 4));
        Assert.Equal("ONLINE", await StatusAsync(id, nodes[1]));
    }
}

/// <summary>
/// Issue 6 end to end: statusRegex and bodyRegex decide (and hostHeader is sent), a pinned node OFFLINE answers 502
/// with disableFallback until it is ONLINE, deleting the monitor brings every node back ONLINE at once, and node events
/// are recorded.
/// </summary>
public sealed class HealthMonitorRuleTests(HealthMonitorFixture fixture, ITestOutputHelper output)
    : HealthMonitorTestBase(fixture, output), IClassFixture<HealthMonitorFixture>
{
    [Fact]
    public async Task DisableFallback_PinnedNodeOfflineByStatusRegex_Gets502UntilOnline()
    {
        await using var a = await TestBackend.StartAsync("a");
        await using var b = await TestBackend.StartAsync("b");
        var backends = new Dictionary<string, TestBackend> { ["a"] = a, ["b"] = b };
        var (id, port, nodes) = await CreateAsync([(a, "PRIMARY"), (b, "PRIMARY")], Http(),
            """{"persistenceType":"HTTP_COOKIE","disableFallback":true}""");
        using var browser = Clients.WithCookieJar(port, out _);
        var pinned = await browser.GetStringAsync("/");
        var node = nodes[pinned == "a" ? 0 : 1];

        // The node still answers its traffic: only the monitor's status code (500) takes it out.
        backends[pinned].HealthStatus = 500;
        var offline = await WaitForStatusAsync(id, node, "OFFLINE", OfflineBound);
        Output.WriteLine($"HTTP: /health 500 OFFLINE after {offline.TotalMilliseconds:F0} ms (bound {OfflineBound.TotalMilliseconds} ms)");
        var requestsBefore = backends[pinned].Requests;

        for (var i = 0; i < 3; i++)
        {
            using var rejected = await browser.GetAsync("/");
            Assert.Equal(HttpStatusCode.BadGateway, rejected.StatusCode);
        }

        Assert.Equal(requestsBefore, backends[pinned].Requests);
        using (var fresh = Clients.WithoutCookies(port))
        {
            Assert.Equal(new Dictionary<string, int> { [pinned == "a" ? "b" : "a"] = 4 }, await Clients.SpreadAsync(fresh, 4));
        }

        backends[pinned].HealthStatus = 200;
        var online = await WaitForStatusAsync(id, node, "ONLINE", OnlineBound);
        Output.WriteLine($"HTTP: /health 200 ONLINE after {online.TotalMilliseconds:F0} ms (bound {OnlineBound.TotalMilliseconds} ms)");

        Assert.Equal(pinned, await browser.GetStringAsync("/"));
        var events = await EventsAsync(id);
        Assert.Equal("Status code 500 did not match statusRegex '^[234][0-9][0-9]$'", events[0]!["detailedMessage"]!.GetValue<string>());
    }

    [Fact]
    public async Task BodyRegexAndStatusRegex_Decide_HostHeaderIsSent()
    {
        await using var a = await TestBackend.StartAsync("a");
        await using var b = await TestBackend.StartAsync("b");
        await using var c = await TestBackend.StartAsync("c");
        a.HealthBody = "status: healthy";
        b.HealthBody = "status: degraded";
        c.HealthBody = "status: healthy";
        c.HealthStatus = 204;
        var (id, _, nodes) = await CreateAsync([(a, "PRIMARY"), (b, "PRIMARY"), (c, "PRIMARY")],
            Http(""","statusRegex":"^200$","bodyRegex":"healthy","hostHeader":"health.example.com" """));

        await Task.WhenAll(
            WaitForStatusAsync(id, nodes[1], "OFFLINE", OfflineBound),
            WaitForStatusAsync(id, nodes[2], "OFFLINE", OfflineBound));

        Assert.Equal("ONLINE", await StatusAsync(id, nodes[0]));
        Assert.Equal("health.example.com", a.LastHealthHost);
        var details = (await EventsAsync(id)).ToDictionary(e => e!["nodeId"]!.GetValue<int>(), e => e!["detailedMessage"]!.GetValue<string>());
        Assert.Equal("Response body did not match bodyRegex 'healthy' within the first 2048 bytes", details[nodes[1]]);
        Assert.Equal("Status code 204 did not match statusRegex '^200$'", details[nodes[2]]);
        Assert.DoesNotContain(nodes[0], details.Keys);
    }

    [Fact]
    public async Task DeleteMonitor_OfflineNodes_AreOnlineAgainAtOnce()
    {
        await using var a = await TestBackend.StartAsync("a");
        await using var b = await TestBackend.StartAsync("b");
        a.HealthStatus = 500;
        b.HealthStatus = 500;
        var (id, port, nodes) = await CreateAsync([(a, "PRIMARY"), (b, "PRIMARY")], Http(), algorithm: "ROUND_ROBIN");
        await Task.WhenAll(
            WaitForStatusAsync(id, nodes[0], "OFFLINE", OfflineBound),
            WaitForStatusAsync(id, nodes[1], "OFFLINE", OfflineBound));
        using var client = Clients.WithoutCookies(port);
        using (var none = await client.GetAsync("/"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, none.StatusCode);
        }

        using (var delete = await Tether.SendJsonAsync(HttpMethod.Delete, $"loadbalancers/{id}/healthmonitor", null))
        {
            Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);
        }

        Assert.Equal("ONLINE", await StatusAsync(id, nodes[0]));
        Assert.Equal("ONLINE", await StatusAsync(id, nodes[1]));
        Assert.Equal(["a", "b"], (await Clients.SpreadAsync(client, 4)).Keys.Order());
        var healthChecks = a.HealthChecks + b.HealthChecks;
        await Task.Delay(TimeSpan.FromSeconds(Delay * 1.2));
        Assert.Equal(healthChecks, a.HealthChecks + b.HealthChecks);
        var events = await EventsAsync(id);
        Assert.Equal(4, events.Count);
        Assert.All(events.Skip(2), e => Assert.Equal("Health monitor removed", e!["detailedMessage"]!.GetValue<string>()));
    }
}

/// <summary>Helpers of the health monitor scenarios: create a monitored load balancer, read and wait for a node's
/// status. Each test's load balancers are deleted after it, so that their monitors stop.</summary>
public abstract class HealthMonitorTestBase(HealthMonitorFixture fixture, ITestOutputHelper output) : IAsyncLifetime
{
    protected const int Delay = 1;
    protected const int Attempts = 2;
    protected const string Connect = """{"type":"CONNECT","delay":1,"timeout":1,"attemptsBeforeDeactivation":2}""";

    /// <summary>The bound the issue sets: delay × attempts plus one delay.</summary>
    protected static readonly TimeSpan OfflineBound = TimeSpan.FromSeconds((Delay * Attempts) + Delay);

    /// <summary>One passing probe brings a node back: at most one delay, plus one delay of margin as for OFFLINE.</summary>
    protected static readonly TimeSpan OnlineBound = TimeSpan.FromSeconds(Delay + Delay);

    private readonly List<int> _created = [];

    protected ITestOutputHelper Output => output;

    protected TetherInstance Tether => fixture.Tether;

    protected static string Http(string extra = "") =>
        $$"""{"type":"HTTP","delay":1,"timeout":1,"attemptsBeforeDeactivation":2,"path":"/health"{{extra}}}""";

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var id in _created)
        {
            using var response = await Tether.SendJsonAsync(HttpMethod.Delete, $"loadbalancers/{id}", null);
        }
    }

    /// <summary>Creates an HTTP load balancer over <paramref name="nodes"/> with <paramref name="monitor"/>; returns
    /// its id, port and node ids in the given order.</summary>
    protected async Task<(int Id, int Port, int[] Nodes)> CreateAsync((TestBackend Backend, string Type)[] nodes, string monitor,
        string? persistence = null, string algorithm = "RANDOM")
    {
        var port = FreePort.Next();
        var nodeJson = string.Join(',', nodes.Select(n => $$"""{"address":"127.0.0.1","port":{{n.Backend.Port}},"condition":"ENABLED","type":"{{n.Type}}"}"""));
        var persistenceJson = persistence is null ? "" : ",\"sessionPersistence\":" + persistence;
        var body = $$$"""
            {"loadBalancer":{"name":"hm","protocol":"HTTP","port":{{{port}}},"algorithm":"{{{algorithm}}}","virtualIps":[{"type":"SERVICENET"}],
             "nodes":[{{{nodeJson}}}],"healthMonitor":{{{monitor}}}{{{persistenceJson}}}}}
            """;
        using var response = await Tether.SendJsonAsync(HttpMethod.Post, "loadbalancers", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, text);
        var created = JsonNode.Parse(text)!["loadBalancer"]!;
        var id = created["id"]!.GetValue<int>();
        _created.Add(id);
        var ids = created["nodes"]!.AsArray().ToDictionary(n => n!["port"]!.GetValue<int>(), n => n!["id"]!.GetValue<int>());
        return (id, port, [.. nodes.Select(n => ids[n.Backend.Port])]);
    }

    protected async Task<string> StatusAsync(int id, int nodeId) =>
        (await Tether.GetJsonAsync($"loadbalancers/{id}/nodes/{nodeId}"))["node"]!["status"]!.GetValue<string>();

    protected async Task<JsonArray> EventsAsync(int id) =>
        (await Tether.GetJsonAsync($"loadbalancers/{id}/nodes/events"))["nodeServiceEvents"]!.AsArray();

    /// <summary>Polls the API every 25 ms until the node shows <paramref name="status"/>; fails after
    /// <paramref name="bound"/> plus 500 ms of grace for a loaded test machine. Returns the time it took.</summary>
    protected async Task<TimeSpan> WaitForStatusAsync(int id, int nodeId, string status, TimeSpan bound)
    {
        var watch = Stopwatch.StartNew();
        var limit = bound + TimeSpan.FromMilliseconds(500);
        while (true)
        {
            if (await StatusAsync(id, nodeId) == status)
            {
                return watch.Elapsed;
            }

            Assert.True(watch.Elapsed < limit, $"node {nodeId} not {status} after {watch.Elapsed.TotalMilliseconds:F0} ms (bound {bound.TotalMilliseconds} ms)");
            await Task.Delay(25);
        }
    }
}

/// <summary>One Tether host per test class; each test has its own load balancers and backends.</summary>
public sealed class HealthMonitorFixture : IAsyncLifetime
{
    public TetherInstance Tether { get; private set; } = null!;

    public async Task InitializeAsync() => Tether = await TetherInstance.StartAsync();

    public async Task DisposeAsync() => await Tether.DisposeAsync();
}
