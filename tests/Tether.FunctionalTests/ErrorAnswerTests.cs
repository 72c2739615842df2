using System.Net;
using Tether.FunctionalTests.Infrastructure;

namespace Tether.FunctionalTests;

/// <summary>What a client gets when a node fails (docs/operations.md "What clients see", docs/architecture.md): the
/// 502 and 504 Tether answers carry the load balancer's error page on both HTTP paths (the HTTP/1.1 fast path and the
/// Kestrel path, reached here with HTTP/1.0), and a 504 does not hold the node out.</summary>
public sealed class ErrorAnswerTests : TetherTestBase
{
    [Theory]
    [InlineData("1.1")]
    [InlineData("1.0")]
    public async Task NodeRefuses_NotRetried_Answers502WithTheErrorPage(string version)
    {
        var dead = await TestBackend.StartAsync("dead");
        await dead.DisposeAsync();
        var (_, port) = await _tether.CreateLoadBalancerAsync("RANDOM", [dead]);
        using var client = Clients.WithoutCookies(port);

        using var response = await client.SendAsync(Request(version, "/"));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<html", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1.1")]
    [InlineData("1.0")]
    public async Task NodeSlowerThanTimeout_Answers504WithTheErrorPage_AndKeepsTheNodeInRotation(string version)
    {
        var (_, port) = await _tether.CreateLoadBalancerAsync("RANDOM", _backends.Take(1), extra: ""","timeout":1""");
        using var client = Clients.WithoutCookies(port);

        using var slow = await client.SendAsync(Request(version, "/slow?ms=3000"));
        var body = await slow.Content.ReadAsStringAsync();
        using var next = await client.SendAsync(Request(version, "/"));

        Assert.Equal(HttpStatusCode.GatewayTimeout, slow.StatusCode);
        Assert.Equal("text/html", slow.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<html", body, StringComparison.Ordinal);
        // Passive health would answer 503 here (the only node held out); a slow answer does not hold it out.
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
    }

    private static HttpRequestMessage Request(string version, string path) => new(HttpMethod.Get, path)
    {
        Version = Version.Parse(version),
        VersionPolicy = HttpVersionPolicy.RequestVersionExact,
    };
}
