using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Time.Testing;
using Tether.FunctionalTests.Infrastructure;

namespace Tether.FunctionalTests;

/// <summary>Moving sessions end to end (issue 13): real clients pinned through a real listener to real backends,
/// then <c>POST .../sessionpersistence/sessions/move</c>; every client of the old node reaches the new one, none
/// lands elsewhere, and HTTP_COOKIE clients get a re-issued cookie that alone keeps them there.</summary>
public sealed class SessionMoveTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private TetherInstance _tether = null!;
    private DemoBackendInstance[] _backends = null!;

    private IEnumerable<int> Ports => _backends.Select(b => b.Port);

    public async Task InitializeAsync()
    {
        _tether = await TetherInstance.StartAsync(time: _clock);
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

    [Fact]
    public async Task HttpCookie_MoveAllThenDisable_EveryClientOfTheNodeKeepsItsSessionOnTheNewNode()
    {
        var (id, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", Ports, """{"persistenceType":"HTTP_COOKIE"}""");
        var browsers = Enumerable.Range(0, 12).Select(_ => Clients.WithCookieJar(port, out System.Net.CookieContainer _)).ToList();
        var before = new List<string>();
        foreach (var browser in browsers)
        {
            var first = await NameAsync(browser);
            Assert.Equal(first, await NameAsync(browser)); // back with its cookie: the session view knows it
            before.Add(first);
        }

        var (a, b) = (before[0], before.First(n => n != before[0]));
        _clock.Advance(TimeSpan.FromSeconds(1)); // cookies carry whole seconds: the move concerns those used before it

        var move = await MoveAsync(id, a, b, fraction: null);

        Assert.Equal(HttpStatusCode.OK, move.StatusCode);
        Assert.Equal($$"""{"moved":{{before.Count(n => n == a)}},"remaining":0}""", await move.Content.ReadAsStringAsync());
        for (var i = 0; i < browsers.Count; i++)
        {
            using var response = await browsers[i].GetAsync("/");
            var now = (await response.Content.ReadAsStringAsync()).Trim();
            Assert.Equal(before[i] == a ? b : before[i], now);
            Assert.Equal(before[i] == a, response.Headers.Contains("Set-Cookie")); // re-issued, naming the new node
        }

        await SetConditionAsync(id, a, "DISABLED");
        for (var i = 0; i < browsers.Count; i++)
        {
            using var response = await browsers[i].GetAsync("/");
            Assert.Equal(before[i] == a ? b : before[i], (await response.Content.ReadAsStringAsync()).Trim());
            Assert.False(response.Headers.Contains("Set-Cookie"), $"client {i} kept its cookie");
        }

        browsers.ForEach(c => c.Dispose());
    }

    [Fact]
    public async Task SourceIp_MoveHalf_TheMovedShareReachesTheNewNodeAndNoClientLandsElsewhere()
    {
        var (id, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", Ports, """{"persistenceType":"SOURCE_IP"}""");
        var clients = Enumerable.Range(1, 30).Select(i => FromAddress(port, IPAddress.Parse($"127.0.1.{i}"))).ToList();
        var before = new List<string>();
        foreach (var client in clients)
        {
            before.Add(await NameAsync(client));
        }

        var a = before.GroupBy(n => n).OrderByDescending(g => g.Count()).First().Key;
        var b = _backends.Select(x => x.Name).First(n => n != a);

        var move = await MoveAsync(id, a, b, fraction: 0.5);
        var moved = System.Text.Json.Nodes.JsonNode.Parse(await move.Content.ReadAsStringAsync())!["moved"]!.GetValue<int>();
        var after = new List<string>();
        foreach (var client in clients)
        {
            after.Add(await NameAsync(client));
        }

        var onA = before.Count(n => n == a);
        Assert.Equal((int)Math.Round(onA * 0.5, MidpointRounding.AwayFromZero), moved);
        Assert.Equal(moved, before.Zip(after).Count(p => p.First == a && p.Second == b));
        Assert.All(before.Zip(after), p => Assert.True(p.First == p.Second || (p.First == a && p.Second == b), $"{p.First} -> {p.Second}"));
        clients.ForEach(c => c.Dispose());
    }

    private async Task<HttpResponseMessage> MoveAsync(int id, string from, string to, double? fraction)
    {
        var body = $"{{\"fromNodeId\":{await NodeIdAsync(id, from)},\"toNodeId\":{await NodeIdAsync(id, to)}"
            + (fraction is { } f ? $",\"fraction\":{f.ToString(System.Globalization.CultureInfo.InvariantCulture)}" : "") + "}";
        return await _tether.SendJsonAsync(HttpMethod.Post, $"loadbalancers/{id}/sessionpersistence/sessions/move", body);
    }

    private static async Task<string> NameAsync(HttpClient client) => (await client.GetStringAsync("/")).Trim();

    /// <summary>A client whose connections come from <paramref name="source"/> (SOURCE_IP sees one client per address).</summary>
    private static HttpClient FromAddress(int port, IPAddress source) =>
        new(new SocketsHttpHandler
        {
            UseProxy = false,
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(new IPEndPoint(source, 0));
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        })
        {
            BaseAddress = new Uri($"http://127.0.0.1:{port}/"),
        };

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
