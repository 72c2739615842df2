using Tether.FunctionalTests.Infrastructure;
using Tether.Proxy;

namespace Tether.FunctionalTests;

/// <summary>HEADER persistence end to end (issue 13), on the fast path and on the Kestrel path: every request with the
/// same header value reaches one backend; a request without the header is balanced by the algorithm; the header's
/// name is matched without regard to case, as RFC 9110 section 5.1 says.</summary>
public sealed class HeaderPersistenceTests : IAsyncLifetime
{
    private TestBackend[] _backends = null!;

    public async Task InitializeAsync() =>
        _backends = [await TestBackend.StartAsync("b1"), await TestBackend.StartAsync("b2"), await TestBackend.StartAsync("b3")];

    public async Task DisposeAsync()
    {
        foreach (var b in _backends)
        {
            await b.DisposeAsync();
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Requests_SameHeaderValue_ReachOneBackend_AndWithoutHeaderAreBalanced(bool fastPath)
    {
        await using var tether = await TetherInstance.StartAsync(proxyOptions: new ProxyOptions { Http1FastPath = fastPath, ShutdownTimeoutSeconds = 5 });
        var (_, port) = await tether.CreateLoadBalancerAsync("ROUND_ROBIN", _backends,
            """{"persistenceType":"HEADER","headerName":"X-Session-Id"}""");
        using var client = Clients.WithoutCookies(port);

        var perValue = new Dictionary<string, HashSet<string>>();
        for (var round = 0; round < 5; round++)
        {
            for (var i = 0; i < 60; i++)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, "/");
                // Alternate the spelling of the name: field names are case-insensitive.
                request.Headers.Add(round % 2 == 0 ? "X-Session-Id" : "x-session-id", $"user-{i}");
                using var response = await client.SendAsync(request);
                response.EnsureSuccessStatusCode();
                var backend = response.Headers.GetValues("X-Backend").Single();
                (perValue.TryGetValue($"user-{i}", out var seen) ? seen : perValue[$"user-{i}"] = []).Add(backend);
            }
        }

        var withoutHeader = await Clients.SpreadAsync(client, 30);

        Assert.All(perValue, p => Assert.True(p.Value.Count == 1, $"{p.Key} reached {string.Join(", ", p.Value)}"));
        Assert.Equal(3, perValue.Values.Select(v => v.Single()).Distinct().Count()); // 60 values spread over the 3 nodes
        Assert.Equal("b1=10 b2=10 b3=10", string.Join(' ', withoutHeader.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => $"{s.Key}={s.Value}")));
    }

    [Fact]
    public async Task Sessions_HeaderValues_AreListedAsDigestsNotValues()
    {
        await using var tether = await TetherInstance.StartAsync();
        var (id, port) = await tether.CreateLoadBalancerAsync("ROUND_ROBIN", _backends,
            """{"persistenceType":"HEADER","headerName":"X-Session-Id"}""");
        using var client = Clients.WithoutCookies(port);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/");
        request.Headers.Add("X-Session-Id", "secret-session-value");
        using var response = await client.SendAsync(request);

        var sessions = (await tether.GetJsonAsync($"loadbalancers/{id}/sessionpersistence/sessions"))["sessions"]!.AsArray();

        var session = Assert.Single(sessions);
        Assert.Equal("HEADER", session!["persistenceType"]!.GetValue<string>());
        Assert.StartsWith("header:", session["key"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.DoesNotContain("secret", session.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Lookup_Header_NeedsTheValueAndNamesTheNodeARequestReaches()
    {
        await using var tether = await TetherInstance.StartAsync();
        var (id, port) = await tether.CreateLoadBalancerAsync("ROUND_ROBIN", _backends,
            """{"persistenceType":"HEADER","headerName":"X-Session-Id"}""");
        using var client = Clients.WithoutCookies(port);

        var missing = await tether.Api.GetAsync($"loadbalancers/{id}/sessionpersistence/lookup?address=10.0.0.1");
        var lookup = (await tether.GetJsonAsync($"loadbalancers/{id}/sessionpersistence/lookup?header=carol"))["lookup"]!;
        using var request = new HttpRequestMessage(HttpMethod.Get, "/");
        request.Headers.Add("X-Session-Id", "carol");
        using var response = await client.SendAsync(request);
        var nodes = (await tether.GetJsonAsync($"loadbalancers/{id}/nodes"))["nodes"]!.AsArray();
        var reached = _backends.Single(b => b.Name == response.Headers.GetValues("X-Backend").Single()).Port;

        Assert.Equal(System.Net.HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Contains("header: required for HEADER persistence", await missing.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("HEADER", lookup["persistenceType"]!.GetValue<string>());
        Assert.Equal("hashed", lookup["reason"]!.GetValue<string>());
        Assert.Equal(reached, nodes.Single(n => n!["id"]!.GetValue<int>() == lookup["nodeId"]!.GetValue<int>())!["port"]!.GetValue<int>());
        Assert.Equal("persisted", (await tether.GetJsonAsync($"loadbalancers/{id}/sessionpersistence/lookup?header=carol"))["lookup"]!["reason"]!.GetValue<string>());
    }
}
