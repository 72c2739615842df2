using System.Globalization;
using System.Net;
using Tether.FunctionalTests.Infrastructure;

namespace Tether.FunctionalTests;

/// <summary>Access list, connection throttle, error page and connection logging over real sockets (issue 6): one
/// Tether for the class; each test makes its own load balancer and backends.</summary>
public sealed class AccessControlTests(TetherFixture fixture) : IClassFixture<TetherFixture>
{
    private readonly TetherInstance _tether = fixture.Tether;

    [Fact]
    public async Task AccessList_DenyLoopbackThenAllowClient_BlocksThenAdmits()
    {
        await using var backend = await TestBackend.StartAsync("a1");
        var (id, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", [backend]);
        using var client = Clients.WithoutCookies(port);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/")).StatusCode);

        await PostAccessListAsync(id, """{"accessList":[{"address":"127.0.0.0/8","type":"DENY"}]}""");
        await Assert.ThrowsAsync<HttpRequestException>(() => NewClientGetAsync(port));
        var before = backend.Requests;

        await PostAccessListAsync(id, """{"accessList":[{"address":"127.0.0.1/32","type":"ALLOW"}]}""");
        using var response = await NewClientGetAsync(port);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(before + 1, backend.Requests);
    }

    [Fact]
    public async Task AccessList_DenyOnTcpLoadBalancer_ClosesConnection()
    {
        await using var backend = TcpEchoBackend.Start("t1");
        var (id, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", [backend.Port], protocol: "TCP");
        Assert.Equal("t1", await TcpTestClient.ReachAsync(port));

        await PostAccessListAsync(id, """[{"address":"0.0.0.0/0","type":"DENY"}]""");

        using var denied = await TcpTestClient.ConnectAsync(port);
        Assert.Equal("", await denied.ReadToEndAsync());
    }

    [Fact]
    public async Task Throttle_HttpConnectionOverLimit_Gets503UntilOneCloses()
    {
        await using var backend = await TestBackend.StartAsync("h1");
        var (id, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", [backend]);
        await PutAsync($"loadbalancers/{id}/connectionthrottle", """{"connectionThrottle":{"maxConnections":2}}""", HttpStatusCode.Accepted);
        using var first = await TcpTestClient.ConnectAsync(port);
        using var second = await TcpTestClient.ConnectAsync(port);
        Assert.StartsWith("HTTP/1.1 200", await RequestAsync(first));
        Assert.StartsWith("HTTP/1.1 200", await RequestAsync(second));

        using (var third = await TcpTestClient.ConnectAsync(port))
        {
            Assert.StartsWith("HTTP/1.1 503", await RequestAsync(third));
            var rest = await third.ReadToEndAsync();
            Assert.Contains("Connection: close", rest, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("Service Unavailable", rest);
        }

        first.Dispose();
        var status = "";
        for (var i = 0; i < 50 && !status.StartsWith("HTTP/1.1 200", StringComparison.Ordinal); i++)
        {
            await Task.Delay(20);
            using var again = await TcpTestClient.ConnectAsync(port);
            status = await RequestAsync(again);
        }

        Assert.StartsWith("HTTP/1.1 200", status);
    }

    [Fact]
    public async Task Throttle_TcpConnectionOverLimit_IsClosed()
    {
        await using var backend = TcpEchoBackend.Start("t2");
        var (id, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", [backend.Port], protocol: "TCP");
        await PutAsync($"loadbalancers/{id}/connectionthrottle", """{"maxConnections":1}""", HttpStatusCode.Accepted);
        using var first = await TcpTestClient.ConnectAsync(port);
        Assert.Equal("t2", await first.ReadLineAsync());

        using (var second = await TcpTestClient.ConnectAsync(port))
        {
            Assert.Equal("", await second.ReadToEndAsync());
        }

        first.Dispose();
        var reached = "";
        for (var i = 0; i < 50 && reached != "t2"; i++)
        {
            await Task.Delay(20);
            try
            {
                reached = await TcpTestClient.ReachAsync(port);
            }
            catch (EndOfStreamException)
            {
            }
        }

        Assert.Equal("t2", reached);
    }

    [Fact]
    public async Task ErrorPage_AllNodesDisabled_Serves503WithCustomPage()
    {
        await using var backend = await TestBackend.StartAsync("e1");
        var (id, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", [backend]);
        var nodeId = (await _tether.GetJsonAsync($"loadbalancers/{id}/nodes"))["nodes"]![0]!["id"]!.GetValue<int>();
        await PutAsync($"loadbalancers/{id}/nodes/{nodeId}", """{"node":{"condition":"DISABLED"}}""", HttpStatusCode.Accepted);
        using var client = Clients.WithoutCookies(port);

        using var defaultPage = await client.GetAsync("/");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, defaultPage.StatusCode);
        Assert.Equal("text/html", defaultPage.Content.Headers.ContentType!.MediaType);
        Assert.Contains("Service Unavailable", await defaultPage.Content.ReadAsStringAsync());

        await PutAsync($"loadbalancers/{id}/errorpage", """{"errorpage":{"content":"<html><body>Back soon</body></html>"}}""", HttpStatusCode.OK);
        using var custom = await client.GetAsync("/");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, custom.StatusCode);
        Assert.Equal("text/html", custom.Content.Headers.ContentType!.MediaType);
        Assert.Equal("<html><body>Back soon</body></html>", await custom.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ConnectionLogging_Enabled_WritesOneLinePerRequestWithFields()
    {
        await using var backend = await TestBackend.StartAsync("l1");
        var (id, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", [backend]);
        await PutAsync($"loadbalancers/{id}/connectionlogging", """{"connectionLogging":{"enabled":true}}""", HttpStatusCode.Accepted);
        using var client = Clients.WithoutCookies(port);
        var started = DateTime.UtcNow.AddSeconds(-1);

        for (var i = 0; i < 3; i++)
        {
            (await client.GetAsync("/")).EnsureSuccessStatusCode();
        }

        var lines = await _tether.WaitForConnectionLogLinesAsync(id, 3);
        Assert.Equal(3, lines.Length);
        foreach (var line in lines)
        {
            var f = line.Split(' ', 11);
            Assert.Equal(11, f.Length);
            Assert.StartsWith("127.0.0.1:", f[0]);
            var time = DateTime.Parse(f[1].Trim('[', ']'), CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);
            Assert.EndsWith("Z]", f[1]);
            Assert.InRange(time, started, DateTime.UtcNow.AddSeconds(1));
            Assert.Equal(id.ToString(CultureInfo.InvariantCulture), f[2]);
            Assert.EndsWith($"/127.0.0.1:{backend.Port}", f[3]);
            Assert.True(long.Parse(f[4].Split('/')[3], CultureInfo.InvariantCulture) >= 0);
            Assert.Equal("200", f[5]);
            Assert.Equal("0", f[6]);
            Assert.Equal("none", f[8]);
            Assert.Equal("--", f[9]);
            Assert.Equal("\"GET /\"", f[10]);
        }
    }

    [Fact]
    public async Task ConnectionLogging_TcpConnection_LogsBytesAndNode()
    {
        await using var backend = TcpEchoBackend.Start("t3");
        var (id, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", [backend.Port], protocol: "TCP");
        await PutAsync($"loadbalancers/{id}/connectionlogging", """{"enabled":true}""", HttpStatusCode.Accepted);

        using (var client = await TcpTestClient.ConnectAsync(port))
        {
            Assert.Equal("t3", await client.ReadLineAsync());
            await client.SendAsync("hello\n");
            Assert.Equal("hello", await client.ReadLineAsync());
        }

        var line = Assert.Single(await _tether.WaitForConnectionLogLinesAsync(id, 1));
        var f = line.Split(' ');
        Assert.EndsWith($"/127.0.0.1:{backend.Port}", f[3]);
        Assert.Equal("-", f[5]);
        Assert.Equal("6", f[6]);
        Assert.Equal("9", f[7]);
        Assert.Equal("none", f[8]);
        Assert.Equal("--", f[9]);
        Assert.Equal("-", f[10]);
    }

    private static async Task<HttpResponseMessage> NewClientGetAsync(int port)
    {
        using var client = Clients.WithoutCookies(port);
        return await client.GetAsync("/");
    }

    /// <summary>Sends one HTTP/1.1 GET on the raw connection and returns the status line.</summary>
    private static async Task<string> RequestAsync(TcpTestClient client)
    {
        await client.SendAsync("GET / HTTP/1.1\r\nHost: test\r\n\r\n");
        try
        {
            return (await client.ReadLineAsync()).TrimEnd('\r');
        }
        catch (EndOfStreamException)
        {
            return "";
        }
    }

    private async Task PostAccessListAsync(int id, string body)
    {
        using var response = await _tether.SendJsonAsync(HttpMethod.Post, $"loadbalancers/{id}/accesslist", body);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    private async Task PutAsync(string path, string body, HttpStatusCode expected)
    {
        using var response = await _tether.SendJsonAsync(HttpMethod.Put, path, body);
        Assert.True(response.StatusCode == expected, $"PUT {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }
}
