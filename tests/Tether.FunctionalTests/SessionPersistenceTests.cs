using System.Net;
using Tether.FunctionalTests.Infrastructure;

namespace Tether.FunctionalTests;

/// <summary>Session persistence end to end: HTTP_COOKIE with a browser-like cookie jar, SOURCE_IP, draining,
/// tampered cookies, and persistence across a restart of Tether.</summary>
public sealed class SessionPersistenceTests : TetherTestBase
{
    [Fact]
    public async Task HttpCookie_ClientWithCookieJar_StaysOnOneNode()
    {
        var (id, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", _backends, """{"persistenceType":"HTTP_COOKIE"}""");
        using var client = Clients.WithCookieJar(port, out var jar);

        var spread = await Clients.SpreadAsync(client, 100);

        Assert.Single(spread);
        var cookie = jar.GetCookies(new Uri($"http://127.0.0.1:{port}/"))[$"tether-{id}"];
        Assert.NotNull(cookie);
        Assert.True(cookie.HttpOnly);
        foreach (var b in _backends)
        {
            Assert.DoesNotContain(b.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), cookie.Value);
        }

        Assert.DoesNotContain("127.0.0.1", cookie.Value);
    }

    [Fact]
    public async Task HttpCookie_ClientsWithoutCookies_AreBalanced()
    {
        var (_, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", _backends, """{"persistenceType":"HTTP_COOKIE"}""");
        using var client = Clients.WithoutCookies(port);

        var spread = await Clients.SpreadAsync(client, 30);

        Assert.Equal(3, spread.Count);
    }

    [Fact]
    public async Task HttpCookie_SetCookieAttributes_FollowDefaults()
    {
        var (id, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", _backends, """{"persistenceType":"HTTP_COOKIE"}""");
        using var client = Clients.WithoutCookies(port);

        using var response = await client.GetAsync("/");

        var setCookie = Assert.Single(response.Headers.GetValues("Set-Cookie"));
        Assert.StartsWith($"tether-{id}=", setCookie);
        Assert.Contains("; Max-Age=1200", setCookie);
        Assert.Contains("; Path=/", setCookie);
        Assert.Contains("; HttpOnly", setCookie);
        Assert.Contains("; SameSite=Lax", setCookie);
    }

    [Fact]
    public async Task HttpCookie_ValidCookie_IsNotReissuedOnEveryResponse()
    {
        var (_, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", _backends, """{"persistenceType":"HTTP_COOKIE"}""");
        using var client = Clients.WithCookieJar(port, out _);

        using var first = await client.GetAsync("/");
        using var second = await client.GetAsync("/");

        Assert.True(first.Headers.Contains("Set-Cookie"));
        Assert.False(second.Headers.Contains("Set-Cookie"));
    }

    [Fact]
    public async Task HttpCookie_TamperedCookie_IsReplacedAndBalanced()
    {
        var (id, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", _backends, """{"persistenceType":"HTTP_COOKIE"}""");
        using var client = Clients.WithoutCookies(port);
        using var first = await client.GetAsync("/");
        var value = first.Headers.GetValues("Set-Cookie").Single().Split(';')[0].Split('=', 2)[1];
        var tampered = value[..10] + (value[10] == 'A' ? 'B' : 'A') + value[11..];

        var seen = new HashSet<string>();
        for (var i = 0; i < 6; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/");
            request.Headers.Add("Cookie", $"tether-{id}={tampered}");
            using var response = await client.SendAsync(request);
            seen.Add(await response.Content.ReadAsStringAsync());
            Assert.True(response.Headers.Contains("Set-Cookie"), "a tampered cookie is replaced");
        }

        Assert.True(seen.Count > 1, "a tampered cookie pins nothing");
    }

    [Fact]
    public async Task HttpCookie_PinnedNodeDisabled_FallsBackAndReissuesCookie()
    {
        var (id, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", _backends, """{"persistenceType":"HTTP_COOKIE"}""");
        using var client = Clients.WithCookieJar(port, out _);
        var pinned = await client.GetStringAsync("/");
        var nodeId = await NodeIdAsync(id, pinned);

        await _tether.SendJsonAsync(HttpMethod.Put, $"loadbalancers/{id}/nodes/{nodeId}", """{"condition":"DISABLED"}""");
        using var response = await client.GetAsync("/");
        var next = await response.Content.ReadAsStringAsync();

        Assert.NotEqual(pinned, next);
        Assert.True(response.Headers.Contains("Set-Cookie"));
        Assert.Single(await Clients.SpreadAsync(client, 10));
    }

    [Fact]
    public async Task HttpCookie_PinnedNodeDraining_KeepsPinnedClientAndTakesNoNewOne()
    {
        var (id, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", _backends, """{"persistenceType":"HTTP_COOKIE"}""");
        using var client = Clients.WithCookieJar(port, out _);
        var pinned = await client.GetStringAsync("/");
        var nodeId = await NodeIdAsync(id, pinned);

        await _tether.SendJsonAsync(HttpMethod.Put, $"loadbalancers/{id}/nodes/{nodeId}", """{"condition":"DRAINING"}""");

        Assert.Equal(20, (await Clients.SpreadAsync(client, 20))[pinned]);
        using var fresh = Clients.WithoutCookies(port);
        Assert.False((await Clients.SpreadAsync(fresh, 20)).ContainsKey(pinned));
    }

    [Fact]
    public async Task SourceIp_HttpLoadBalancer_KeepsClientOnOneNode()
    {
        var (_, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", _backends, """{"persistenceType":"SOURCE_IP"}""");
        using var client = Clients.WithoutCookies(port);

        var spread = await Clients.SpreadAsync(client, 50);

        Assert.Single(spread);
    }

    [Fact]
    public async Task SessionPersistence_Disabled_ClientIsBalancedAgain()
    {
        var (id, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", _backends, """{"persistenceType":"HTTP_COOKIE"}""");
        using var client = Clients.WithCookieJar(port, out _);
        Assert.Single(await Clients.SpreadAsync(client, 10));

        var delete = await _tether.SendJsonAsync(HttpMethod.Delete, $"loadbalancers/{id}/sessionpersistence", null);

        Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);
        Assert.Equal(3, (await Clients.SpreadAsync(client, 30)).Count);
    }

    [Fact]
    public async Task Restart_SameDataDirectory_RestoresLoadBalancerAndAcceptsOldCookies()
    {
        var (id, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", _backends, """{"persistenceType":"HTTP_COOKIE","persistenceTimeout":600}""");
        using var client = Clients.WithCookieJar(port, out _);
        var pinned = await client.GetStringAsync("/");
        var dataDirectory = _tether.DataDirectory;
        await _tether.DisposeAsync();

        _tether = await TetherInstance.StartAsync(dataDirectory);

        var persistence = await _tether.GetJsonAsync($"loadbalancers/{id}/sessionpersistence");
        Assert.Equal("HTTP_COOKIE", persistence["sessionPersistence"]!["persistenceType"]!.GetValue<string>());
        Assert.Equal(600, persistence["sessionPersistence"]!["persistenceTimeout"]!.GetValue<int>());
        Assert.Equal(3, (await _tether.GetJsonAsync($"loadbalancers/{id}/nodes"))["nodes"]!.AsArray().Count);
        Assert.Equal(20, (await Clients.SpreadAsync(client, 20))[pinned]);
    }

    [Fact]
    public async Task HttpCookie_ForeignCookieFromAnotherLoadBalancer_IsIgnoredAndReplaced()
    {
        var (idA, portA) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", _backends, """{"persistenceType":"HTTP_COOKIE","cookieName":"shared"}""");
        var (idB, portB) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", _backends, """{"persistenceType":"HTTP_COOKIE","cookieName":"shared"}""");
        using var clientA = Clients.WithoutCookies(portA);
        using var first = await clientA.GetAsync("/");
        var cookieFromA = first.Headers.GetValues("Set-Cookie").Single().Split(';')[0];
        using var clientB = Clients.WithoutCookies(portB);

        var seen = new HashSet<string>();
        for (var i = 0; i < 6; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/");
            request.Headers.Add("Cookie", cookieFromA);
            using var response = await clientB.SendAsync(request);
            seen.Add(await response.Content.ReadAsStringAsync());
            Assert.True(response.Headers.Contains("Set-Cookie"), "a foreign cookie is replaced");
        }

        Assert.NotEqual(idA, idB);
        Assert.Equal(3, seen.Count);
    }

    [Fact]
    public async Task HttpCookie_PinnedNodeRemoved_RepinsToAnotherNode()
    {
        var (id, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", _backends, """{"persistenceType":"HTTP_COOKIE"}""");
        using var client = Clients.WithCookieJar(port, out _);
        var pinned = await client.GetStringAsync("/");
        var nodeId = await NodeIdAsync(id, pinned);

        var delete = await _tether.SendJsonAsync(HttpMethod.Delete, $"loadbalancers/{id}/nodes/{nodeId}", null);
        Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);
        using var response = await client.GetAsync("/");

        Assert.True(response.Headers.Contains("Set-Cookie"));
        var next = await response.Content.ReadAsStringAsync();
        Assert.NotEqual(pinned, next);
        Assert.Equal(10, (await Clients.SpreadAsync(client, 10))[next]);
    }

    private async Task<int> NodeIdAsync(int loadBalancerId, string backendName)
    {
        var backend = _backends.Single(b => b.Name == backendName);
        var nodes = await _tether.GetJsonAsync($"loadbalancers/{loadBalancerId}/nodes");
        return nodes["nodes"]!.AsArray().First(n => n!["port"]!.GetValue<int>() == backend.Port)!["id"]!.GetValue<int>();
    }
}
