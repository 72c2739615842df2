using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using Tether.FunctionalTests.Infrastructure;

namespace Tether.FunctionalTests;

/// <summary>Issue 3 end to end: a logged-in browser-like client through HTTP_COOKIE and APP_COOKIE, logout ending
/// APP_COOKIE persistence, fallback with and without disableFallback, the idle timeout on a fake clock, a killed
/// backend under load, and the persistence API (sessions, lookup, unpin, stats).</summary>
public sealed class PersistenceBehaviourTests : IAsyncLifetime
{
    private TetherInstance _tether = null!;
    private DemoBackendInstance[] _backends = null!;

    private IEnumerable<int> Ports => _backends.Select(b => b.Port);

    public async Task InitializeAsync()
    {
        _tether = await TetherInstance.StartAsync();
        _backends = [await DemoBackendInstance.StartAsync("b1"), await DemoBackendInstance.StartAsync("b2"), await DemoBackendInstance.StartAsync("b3")];
    }

    public async Task DisposeAsync()
    {
        await _tether.DisposeAsync();
        foreach (var b in _backends)
        {
            await b.DisposeAsync();
        }
    }

    [Theory]
    [InlineData("""{"persistenceType":"HTTP_COOKIE"}""")]
    [InlineData("""{"persistenceType":"APP_COOKIE","cookieName":"SESSIONID"}""")]
    [InlineData("""{"persistenceType":"APP_COOKIE","cookieName":"*"}""")]
    public async Task Login_WithPersistence_StaysLoggedInFor100Requests(string persistence)
    {
        var (_, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", Ports, persistence);
        using var browser = Clients.WithCookieJar(port, out _);

        var login = await browser.GetStringAsync("/login?user=alice");
        for (var i = 0; i < 100; i++)
        {
            using var response = await browser.GetAsync("/whoami");
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"request {i}: {body} (logged in at {login})");
            Assert.EndsWith("alice\n", body);
        }
    }

    [Fact]
    public async Task Login_WithoutPersistence_LosesTheLogin()
    {
        var (_, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", Ports);
        using var browser = Clients.WithCookieJar(port, out _);

        await browser.GetStringAsync("/login?user=alice");
        var lost = 0;
        for (var i = 0; i < 100; i++)
        {
            using var response = await browser.GetAsync("/whoami");
            lost += response.StatusCode == HttpStatusCode.Unauthorized ? 1 : 0;
        }

        Assert.True(lost >= 60, $"only {lost} of 100 requests lost the login");
    }

    [Fact]
    public async Task AppCookie_BackendDeletesCookie_PersistenceEnds()
    {
        var (id, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", Ports, """{"persistenceType":"APP_COOKIE","cookieName":"SESSIONID"}""");
        using var browser = Clients.WithCookieJar(port, out var jar);
        await browser.GetStringAsync("/login");
        var session = jar.GetCookies(new Uri($"http://127.0.0.1:{port}/"))["SESSIONID"]!.Value;
        Assert.Equal(1, await SessionCountAsync(id));
        Assert.Equal("persisted", (await LookupAsync(id, $"cookie={session}"))["reason"]!.GetValue<string>());

        var logout = await browser.GetStringAsync("/logout");

        Assert.EndsWith("logged out\n", logout);
        Assert.Equal(0, await SessionCountAsync(id));
        Assert.Equal("balanced", (await LookupAsync(id, $"cookie={session}"))["reason"]!.GetValue<string>());
        using var stale = Clients.WithoutCookies(port);
        var seen = new HashSet<string>();
        for (var i = 0; i < 6; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/");
            request.Headers.Add("Cookie", $"SESSIONID={session}");
            using var response = await stale.SendAsync(request);
            seen.Add(await response.Content.ReadAsStringAsync());
        }

        Assert.Equal(3, seen.Count);
    }

    [Fact]
    public async Task AppCookie_Restart_KeepsTheClientOnItsNode()
    {
        var (_, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", Ports, """{"persistenceType":"APP_COOKIE","cookieName":"SESSIONID"}""");
        using var browser = Clients.WithCookieJar(port, out _);
        var login = await browser.GetStringAsync("/login?user=bob");
        var dataDirectory = _tether.DataDirectory;
        await _tether.DisposeAsync();

        _tether = await TetherInstance.StartAsync(dataDirectory);

        for (var i = 0; i < 20; i++)
        {
            Assert.EndsWith("bob\n", await browser.GetStringAsync("/whoami"));
        }

        Assert.StartsWith(login.Split(':')[0], await browser.GetStringAsync("/whoami"));
    }

    [Fact]
    public async Task DisableFallback_PinnedNodeDisabled_Answers502UntilCookieDropped()
    {
        var (id, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", Ports, """{"persistenceType":"HTTP_COOKIE","disableFallback":true}""");
        using var browser = Clients.WithCookieJar(port, out var jar);
        var pinned = (await browser.GetStringAsync("/")).Trim();
        await SetConditionAsync(id, pinned, "DISABLED");

        for (var i = 0; i < 3; i++)
        {
            using var rejected = await browser.GetAsync("/");
            Assert.Equal(HttpStatusCode.BadGateway, rejected.StatusCode);
        }

        foreach (Cookie cookie in jar.GetCookies(new Uri($"http://127.0.0.1:{port}/")))
        {
            cookie.Expired = true;
        }

        using var balanced = await browser.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, balanced.StatusCode);
        Assert.NotEqual(pinned, (await balanced.Content.ReadAsStringAsync()).Trim());
        Assert.True((await StatsAsync(id))["persistence"]!["rejected"]!.GetValue<long>() >= 3);
    }

    [Fact]
    public async Task Fallback_PinnedNodeKilled_RetriesAndRepinsWithoutErrors()
    {
        var victim = await DemoBackendInstance.StartAsync("victim");
        var (_, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", Ports.Append(victim.Port), """{"persistenceType":"HTTP_COOKIE"}""");
        var clients = Enumerable.Range(0, 8).Select(_ => Clients.WithCookieJar(port, out var _)).ToArray();
        var failures = 0;
        var requests = 0;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(4));
        var killed = Task.Run(async () =>
        {
            await Task.Delay(1000);
            await victim.DisposeAsync();
        });

        var load = clients.Select(client => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var response = await client.GetAsync("/");
                Interlocked.Increment(ref requests);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        })).ToArray();
        await Task.WhenAll(load);
        await killed;

        Assert.True(requests > 100, $"only {requests} requests");
        Assert.Equal(0, failures);
        foreach (var client in clients)
        {
            var spread = await Clients.SpreadAsync(client, 5);
            Assert.Single(spread);
            Assert.DoesNotContain("victim\n", spread.Keys);
            client.Dispose();
        }
    }

    [Fact]
    public async Task IdleTimeout_FakeClockPastTimeout_CookieIsReplaced()
    {
        await _tether.DisposeAsync();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        _tether = await TetherInstance.StartAsync(time: clock);
        var (_, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", Ports, """{"persistenceType":"HTTP_COOKIE","persistenceTimeout":60}""");
        using var client = Clients.WithoutCookies(port);
        using var first = await client.GetAsync("/");
        var cookie = first.Headers.GetValues("Set-Cookie").Single().Split(';')[0];

        clock.Advance(TimeSpan.FromSeconds(59));
        using var within = await Send(client, cookie);
        clock.Advance(TimeSpan.FromSeconds(61));
        using var after = await Send(client, cookie);

        Assert.Equal(await first.Content.ReadAsStringAsync(), await within.Content.ReadAsStringAsync());
        Assert.True(after.Headers.Contains("Set-Cookie"), "an expired cookie is replaced");
        Assert.NotEqual(cookie.Split('=')[1], after.Headers.GetValues("Set-Cookie").Single().Split(';')[0].Split('=')[1]);

        static Task<HttpResponseMessage> Send(HttpClient client, string cookie)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, "/");
            request.Headers.Add("Cookie", cookie);
            return client.SendAsync(request);
        }
    }

    [Fact]
    public async Task SourceIp_SessionsApi_ListsLooksUpAndUnpins()
    {
        var (id, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", Ports, """{"persistenceType":"SOURCE_IP"}""");
        using var client = Clients.WithoutCookies(port);
        var pinned = (await client.GetStringAsync("/")).Trim();
        var nodeId = await NodeIdAsync(id, pinned);

        var sessions = (await _tether.GetJsonAsync($"loadbalancers/{id}/sessionpersistence/sessions"))["sessions"]!.AsArray();
        var session = Assert.Single(sessions)!;
        Assert.Equal("SOURCE_IP", session["persistenceType"]!.GetValue<string>());
        Assert.Equal("127.0.0.x", session["key"]!.GetValue<string>());
        Assert.Equal(nodeId, session["nodeId"]!.GetValue<int>());
        var lookup = await LookupAsync(id, "address=127.0.0.1");
        Assert.Equal("persisted", lookup["reason"]!.GetValue<string>());
        Assert.Equal(nodeId, lookup["nodeId"]!.GetValue<int>());
        var nodes = (await _tether.GetJsonAsync($"loadbalancers/{id}/nodes"))["nodes"]!.AsArray();
        Assert.Equal(1, nodes.Single(n => n!["id"]!.GetValue<int>() == nodeId)!["persistedSessions"]!.GetValue<int>());

        var unpin = await _tether.SendJsonAsync(HttpMethod.Delete, $"loadbalancers/{id}/sessionpersistence/sessions?nodeId={nodeId}", null);

        Assert.Equal(HttpStatusCode.Accepted, unpin.StatusCode);
        Assert.Empty((await _tether.GetJsonAsync($"loadbalancers/{id}/sessionpersistence/sessions"))["sessions"]!.AsArray());
        Assert.Equal("hashed", (await LookupAsync(id, "address=127.0.0.1"))["reason"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.BadRequest, (await _tether.SendJsonAsync(HttpMethod.Delete, $"loadbalancers/{id}/sessionpersistence/sessions", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _tether.SendJsonAsync(HttpMethod.Delete, $"loadbalancers/{id}/sessionpersistence/sessions?nodeId=999999", null)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _tether.Api.GetAsync($"loadbalancers/{id}/sessionpersistence/lookup?address=nope")).StatusCode);
    }

    [Fact]
    public async Task HttpCookie_UnpinNode_ClientIsBalancedAfresh()
    {
        var (id, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", Ports, """{"persistenceType":"HTTP_COOKIE"}""");
        using var browser = Clients.WithCookieJar(port, out _);
        var pinned = (await browser.GetStringAsync("/")).Trim();
        var nodeId = await NodeIdAsync(id, pinned);
        Assert.Equal(0, await SessionCountAsync(id)); // a session is known once the client comes back with its cookie
        Assert.Equal(pinned, (await browser.GetStringAsync("/")).Trim());
        Assert.Equal(1, await SessionCountAsync(id));

        await Task.Delay(1100); // cookies carry whole seconds: unpin applies to cookies last used before now
        var unpin = await _tether.SendJsonAsync(HttpMethod.Delete, $"loadbalancers/{id}/sessionpersistence/sessions?nodeId={nodeId}", null);
        Assert.Equal(HttpStatusCode.Accepted, unpin.StatusCode);
        using var next = await browser.GetAsync("/");

        Assert.True(next.Headers.Contains("Set-Cookie"), "an unpinned client gets a new cookie");
        Assert.Single(await Clients.SpreadAsync(browser, 10));
    }

    [Fact]
    public async Task Draining_NodeWithPinnedClient_ReportsSessionsAndLastPinnedRequest()
    {
        var (id, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", Ports, """{"persistenceType":"HTTP_COOKIE"}""");
        using var browser = Clients.WithCookieJar(port, out _);
        var pinned = (await browser.GetStringAsync("/")).Trim();
        var nodeId = await NodeIdAsync(id, pinned);
        await SetConditionAsync(id, pinned, "DRAINING");

        Assert.Equal(pinned, (await browser.GetStringAsync("/")).Trim());

        var node = (await _tether.GetJsonAsync($"loadbalancers/{id}/nodes"))["nodes"]!.AsArray().Single(n => n!["id"]!.GetValue<int>() == nodeId)!;
        Assert.Equal("DRAINING", node["condition"]!.GetValue<string>());
        Assert.Equal(1, node["persistedSessions"]!.GetValue<int>());
        Assert.NotNull(node["lastPinnedRequest"]?["time"]);
    }

    [Fact]
    public async Task Stats_AfterRequests_CountsHitsMissesAndShares()
    {
        var (id, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", Ports, """{"persistenceType":"HTTP_COOKIE"}""");
        using var browser = Clients.WithCookieJar(port, out _);
        await Clients.SpreadAsync(browser, 10);
        using var anonymous = Clients.WithoutCookies(port);
        await Clients.SpreadAsync(anonymous, 30);

        var stats = await StatsAsync(id);

        Assert.Equal(9, stats["persistence"]!["hit"]!.GetValue<long>());
        Assert.Equal(31, stats["persistence"]!["miss"]!.GetValue<long>());
        var nodes = stats["nodes"]!.AsArray();
        Assert.Equal(40, nodes.Sum(n => n!["requests"]!.GetValue<long>()));
        Assert.All(nodes, n => Assert.Equal(0.3333, n!["weightShare"]!.GetValue<double>()));
    }

    private async Task<int> SessionCountAsync(int id) =>
        (await _tether.GetJsonAsync($"loadbalancers/{id}/sessionpersistence/sessions"))["sessions"]!.AsArray().Count;

    private async Task<JsonNode> LookupAsync(int id, string query) =>
        (await _tether.GetJsonAsync($"loadbalancers/{id}/sessionpersistence/lookup?{query}"))["lookup"]!;

    private async Task<JsonNode> StatsAsync(int id) => await _tether.GetJsonAsync($"loadbalancers/{id}/stats");

    private async Task<int> NodeIdAsync(int id, string backendName)
    {
        var port = _backends.Single(b => b.Name == backendName).Port;
        var nodes = await _tether.GetJsonAsync($"loadbalancers/{id}/nodes");
        return nodes["nodes"]!.AsArray().First(n => n!["port"]!.GetValue<int>() == port)!["id"]!.GetValue<int>();
    }

    private async Task SetConditionAsync(int id, string backendName, string condition)
    {
        var nodeId = await NodeIdAsync(id, backendName);
        var response = await _tether.SendJsonAsync(HttpMethod.Put, $"loadbalancers/{id}/nodes/{nodeId}", $$$"""{"node":{"condition":"{{{condition}}}"}}""");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }
}
