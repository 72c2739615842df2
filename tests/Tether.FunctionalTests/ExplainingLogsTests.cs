using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Tether.FunctionalTests.Infrastructure;
using Tether.Proxy;

namespace Tether.FunctionalTests;

/// <summary>Two Tethers, one serving HTTP/1.1 on the fast path and one on Kestrel and YARP, each logging to a captured
/// logger.</summary>
public sealed class BothPathsFixture : IAsyncLifetime
{
    public CapturingLoggerProvider FastLogs { get; } = new();

    public CapturingLoggerProvider KestrelLogs { get; } = new();

    public TetherInstance Fast { get; private set; } = null!;

    public TetherInstance Kestrel { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Fast = await TetherInstance.StartAsync(logs: FastLogs);
        Kestrel = await TetherInstance.StartAsync(proxyOptions: new ProxyOptions { Http1FastPath = false, ShutdownTimeoutSeconds = 5 }, logs: KestrelLogs);
    }

    public async Task DisposeAsync()
    {
        await Fast.DisposeAsync();
        await Kestrel.DisposeAsync();
    }
}

/// <summary>Answers that explain themselves (issue 11, item 4) over real sockets on both HTTP data paths: Tether's
/// own 502/503/504 answers are logged with the reason and the node and name their status in the default page; the
/// connection log carries the fields of HAProxy's httplog.</summary>
public sealed class ExplainingLogsTests(BothPathsFixture fixture) : IClassFixture<BothPathsFixture>
{
    private (TetherInstance Tether, CapturingLoggerProvider Logs) Path(bool fastPath) =>
        fastPath ? (fixture.Fast, fixture.FastLogs) : (fixture.Kestrel, fixture.KestrelLogs);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task BadGateway_NodeRefuses_LoggedWithReasonAndNodeAndConnectionLogLine(bool fastPath)
    {
        var (tether, logs) = Path(fastPath);
        var closed = ClosedPort();
        var (id, port) = await tether.CreateLoadBalancerAsync("ROUND_ROBIN", [closed]);
        await EnableLoggingAsync(tether, id);
        var nodeId = (await tether.GetJsonAsync($"loadbalancers/{id}/nodes"))["nodes"]![0]!["id"]!.GetValue<int>();
        using var client = Clients.WithoutCookies(port);

        using var answer = await client.GetAsync("/page?secret=1");

        Assert.Equal(HttpStatusCode.BadGateway, answer.StatusCode);
        Assert.Contains("502 Bad Gateway", await answer.Content.ReadAsStringAsync());
        Assert.Contains(logs.Messages, m => m.EventId == 1010
            && m.Message.StartsWith($"Load balancer {id}: answered 502 Bad Gateway (connect refused), node {nodeId} (127.0.0.1:{closed})", StringComparison.Ordinal));
        var f = Fields(Assert.Single(await tether.WaitForConnectionLogLinesAsync(id, 1)));
        Assert.Equal($"{nodeId}/127.0.0.1:{closed}", f[3]);
        Assert.Equal("502", f[5]);
        Assert.Equal("SC", f[9]);
        Assert.Equal("\"GET /page\"", f[10]);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ServiceUnavailable_NoNodeEnabled_LoggedWithReasonAndPageNamesStatus(bool fastPath)
    {
        var (tether, logs) = Path(fastPath);
        await using var backend = await TestBackend.StartAsync("u1");
        var (id, port) = await tether.CreateLoadBalancerAsync("ROUND_ROBIN", [backend]);
        var nodeId = (await tether.GetJsonAsync($"loadbalancers/{id}/nodes"))["nodes"]![0]!["id"]!.GetValue<int>();
        using (var disable = await tether.SendJsonAsync(HttpMethod.Put, $"loadbalancers/{id}/nodes/{nodeId}", """{"node":{"condition":"DISABLED"}}"""))
        {
            Assert.Equal(HttpStatusCode.Accepted, disable.StatusCode);
        }

        using var client = Clients.WithoutCookies(port);
        using var answer = await client.GetAsync("/");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, answer.StatusCode);
        Assert.Contains("<h1>503 Service Unavailable</h1>", await answer.Content.ReadAsStringAsync());
        Assert.Contains(logs.Messages, m => m.EventId == 1011
            && m.Message.StartsWith($"Load balancer {id}: answered 503 Service Unavailable (no node available), node - (-)", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task GatewayTimeout_NodeSilent_LoggedWithReasonAndNodeAndPageNamesStatus(bool fastPath)
    {
        var (tether, logs) = Path(fastPath);
        await using var backend = await TestBackend.StartAsync("s1");
        var (id, port) = await tether.CreateLoadBalancerAsync("ROUND_ROBIN", [backend], extra: ",\"timeout\":1");
        await EnableLoggingAsync(tether, id);
        var nodeId = (await tether.GetJsonAsync($"loadbalancers/{id}/nodes"))["nodes"]![0]!["id"]!.GetValue<int>();
        using var client = Clients.WithoutCookies(port);

        using var answer = await client.GetAsync("/slow?ms=30000");

        Assert.Equal(HttpStatusCode.GatewayTimeout, answer.StatusCode);
        Assert.Contains("504 Gateway Timeout", await answer.Content.ReadAsStringAsync());
        Assert.Contains(logs.Messages, m => m.EventId == 1012
            && m.Message.StartsWith($"Load balancer {id}: answered 504 Gateway Timeout (node timeout), node {nodeId} (127.0.0.1:{backend.Port})", StringComparison.Ordinal));
        var f = Fields(Assert.Single(await tether.WaitForConnectionLogLinesAsync(id, 1)));
        Assert.Equal("504", f[5]);
        Assert.Equal("sH", f[9]);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ConnectionLog_RealRequests_CarriesHttplogFields(bool fastPath)
    {
        var (tether, _) = Path(fastPath);
        await using var backend = await TestBackend.StartAsync("c1");
        var (id, port) = await tether.CreateLoadBalancerAsync("ROUND_ROBIN", [backend], persistenceJson: """{"persistenceType":"HTTP_COOKIE"}""");
        await EnableLoggingAsync(tether, id);
        var nodeId = (await tether.GetJsonAsync($"loadbalancers/{id}/nodes"))["nodes"]![0]!["id"]!.GetValue<int>();
        using var client = Clients.WithCookieJar(port, out _);
        var before = DateTime.UtcNow.AddSeconds(-1);

        (await client.GetAsync("/bytes?size=100&token=abc")).EnsureSuccessStatusCode();
        using (var post = await client.PostAsync("/echo", new StringContent("hello", Encoding.ASCII)))
        {
            post.EnsureSuccessStatusCode();
        }

        var lines = await tether.WaitForConnectionLogLinesAsync(id, 2);
        Assert.Equal(2, lines.Length);
        var get = Fields(lines[0]);
        var echo = Fields(lines[1]);
        Assert.StartsWith("127.0.0.1:", get[0]);
        Assert.Matches(@"^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\]$", get[1]);
        var accepted = DateTime.Parse(get[1].Trim('[', ']'), CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);
        Assert.InRange(accepted, before, DateTime.UtcNow.AddSeconds(1));
        Assert.Equal(id.ToString(CultureInfo.InvariantCulture), get[2]);
        Assert.Equal($"{nodeId}/127.0.0.1:{backend.Port}", get[3]);
        var timers = get[4].Split('/').Select(t => int.Parse(t, CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(4, timers.Length);
        Assert.True(timers[2] >= 0, get[4]);
        Assert.True(timers[3] >= timers[2], get[4]);
        Assert.True(fastPath ? timers[0] >= 0 && timers[1] >= 0 : timers[0] == -1 && timers[1] == -1, get[4]);
        Assert.Equal("200", get[5]);
        Assert.Equal("0", get[6]);
        Assert.Equal("100", get[7]);
        Assert.Equal("miss", get[8]);
        Assert.Equal("--", get[9]);
        Assert.Equal("\"GET /bytes\"", get[10]);
        Assert.DoesNotContain("token", lines[0]);

        Assert.Equal("5", echo[6]);
        Assert.Equal("hit", echo[8]);
        Assert.Equal("\"POST /echo\"", echo[10]);
    }

    [Fact]
    public async Task GatewayErrors_Repeated_OneLinePerIntervalWithTheCount()
    {
        var logs = new CapturingLoggerProvider();
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await using var tether = await TetherInstance.StartAsync(time: time, logs: logs);
        await using var backend = await TestBackend.StartAsync("r1");
        var (id, port) = await tether.CreateLoadBalancerAsync("ROUND_ROBIN", [backend]);
        var nodeId = (await tether.GetJsonAsync($"loadbalancers/{id}/nodes"))["nodes"]![0]!["id"]!.GetValue<int>();
        using (var disable = await tether.SendJsonAsync(HttpMethod.Put, $"loadbalancers/{id}/nodes/{nodeId}", """{"node":{"condition":"DISABLED"}}"""))
        {
            Assert.Equal(HttpStatusCode.Accepted, disable.StatusCode);
        }

        using var client = Clients.WithoutCookies(port);
        for (var i = 0; i < 3; i++)
        {
            using var answer = await client.GetAsync("/");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, answer.StatusCode);
        }

        Assert.Single(logs.Messages, m => m.EventId == 1011);
        Assert.EndsWith("; 1 such answers since the last such line", logs.Messages.Single(m => m.EventId == 1011).Message);

        time.Advance(TimeSpan.FromSeconds(6));
        using (var answer = await client.GetAsync("/"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, answer.StatusCode);
        }

        var lines = logs.Messages.Where(m => m.EventId == 1011).ToList();
        Assert.Equal(2, lines.Count);
        Assert.EndsWith("; 3 such answers since the last such line", lines[1].Message);
    }

    private static string[] Fields(string line) => line.Split(' ', 11);

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static async Task EnableLoggingAsync(TetherInstance tether, int id)
    {
        using var response = await tether.SendJsonAsync(HttpMethod.Put, $"loadbalancers/{id}/connectionlogging", """{"connectionLogging":{"enabled":true}}""");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }
}
