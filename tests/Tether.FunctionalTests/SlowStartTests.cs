using System.Net;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Tether.FunctionalTests.Infrastructure;
using Xunit.Abstractions;

namespace Tether.FunctionalTests;

/// <summary>Slow start end to end (issue 13): a real Tether on a fake clock, three real Kestrel backends, real HTTP
/// clients. A node added to a load balancer with <c>slowStartSeconds</c> takes a growing share of the new clients,
/// second by second, and the clients pinned to the other nodes stay where they are.</summary>
public sealed class SlowStartTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int RequestsPerSecond = 205;
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private TetherInstance _tether = null!;
    private TestBackend[] _backends = null!;

    public async Task InitializeAsync()
    {
        _tether = await TetherInstance.StartAsync(time: _clock);
        _backends = [await TestBackend.StartAsync("b1"), await TestBackend.StartAsync("b2"), await TestBackend.StartAsync("b3")];
    }

    public async Task DisposeAsync()
    {
        await _tether.DisposeAsync();
        foreach (var b in _backends)
        {
            await b.DisposeAsync();
        }
    }

    [Fact]
    public async Task AddNode_SlowStart20s_NewClientShareRampsAndPinnedClientsStay()
    {
        var (id, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", _backends[..2],
            """{"persistenceType":"HTTP_COOKIE"}""", extra: ""","slowStartSeconds":20""");
        using var fresh = Clients.WithoutCookies(port);
        var pinned = new List<(string Cookie, string Backend)>();
        for (var i = 0; i < 20; i++)
        {
            using var first = await fresh.GetAsync("/");
            pinned.Add((first.Headers.GetValues("Set-Cookie").Single().Split(';')[0], await first.Content.ReadAsStringAsync()));
        }

        var added = await _tether.SendJsonAsync(HttpMethod.Post, $"loadbalancers/{id}/nodes",
            $$"""{"nodes":[{"address":"127.0.0.1","port":{{_backends[2].Port}},"condition":"ENABLED"}]}""");
        Assert.Equal(HttpStatusCode.Accepted, added.StatusCode);

        var shares = new List<double>();
        var table = new StringBuilder("second  share of b3 (new clients)  expected k/(40+k)\n");
        for (var second = 0; second <= 21; second++)
        {
            var toNew = 0;
            for (var i = 0; i < RequestsPerSecond; i++)
            {
                if (await fresh.GetStringAsync("/") == "b3")
                {
                    toNew++;
                }
            }

            foreach (var (cookie, backend) in pinned)
            {
                Assert.Equal(backend, await GetWithCookieAsync(fresh, cookie));
            }

            var share = (double)toNew / RequestsPerSecond;
            var k = Math.Min(20, second + 1);
            shares.Add(share);
            table.Append($"{second,6}  {share,28:P1}  {(double)k / (40 + k),17:P1}\n");
            Assert.InRange(share, (double)k / (40 + k) - 0.02, (double)k / (40 + k) + 0.02);
            _clock.Advance(TimeSpan.FromSeconds(1));
        }

        output.WriteLine(table.ToString());
        Assert.True(shares[0] < 0.05, $"first second: {shares[0]:P1}");
        Assert.InRange(shares[^1], 0.32, 0.34);
        var node = (await _tether.GetJsonAsync($"loadbalancers/{id}/nodes")).AsObject()["nodes"]!.AsArray()
            .Single(n => n!["port"]!.GetValue<int>() == _backends[2].Port)!;
        Assert.Equal("ENABLED", node["condition"]!.GetValue<string>());
    }

    private static async Task<string> GetWithCookieAsync(HttpClient client, string cookie)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/");
        request.Headers.Add("Cookie", cookie);
        using var response = await client.SendAsync(request);
        return await response.Content.ReadAsStringAsync();
    }
}
