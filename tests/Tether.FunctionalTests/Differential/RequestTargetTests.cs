using Tether.FunctionalTests.Infrastructure;
using Tether.Proxy;

namespace Tether.FunctionalTests.Differential;

/// <summary>
/// The request target reaches the node exactly as the client sent it, on both HTTP paths and through the content
/// cache (the Kestrel path hands YARP a URI built from the raw target: Kestrel's <c>Request.Path</c> is decoded and has
/// its dot segments removed, so <c>/a/%2e%2e/b</c> would reach the node as <c>/b</c>).
/// </summary>
public sealed class RequestTargetTests
{
    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        string[] targets = ["/a/%2e%2e/b?x=1&x=2", "/a/../b", "/a/./b", "/a//b;p?q=%00&r=%C3%A9", "/%7C1%7C/x", "/A/b?Q=1", "/x?"];
        foreach (var path in new[] { "fast", "kestrel", "cache" })
        {
            foreach (var target in targets)
            {
                data.Add(path, target);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Forward_OddButLegalTarget_ReachesTheNodeByteForByte(string path, string target)
    {
        await using var node = CaptureNode.Start();
        await using var tether = await TetherInstance.StartAsync(proxyOptions: new ProxyOptions { Http1FastPath = path == "fast" });
        var (id, port) = await tether.CreateLoadBalancerAsync("ROUND_ROBIN", [node.Port]);
        if (path == "cache")
        {
            using var put = await tether.Api.PutAsync($"loadbalancers/{id}/contentcaching",
                new StringContent("""{"contentCaching":{"enabled":true}}""", System.Text.Encoding.UTF8, "application/json"));
            Assert.Equal(202, (int)put.StatusCode);
        }

        using var client = await RawHttpConnection.ConnectAsync(port);
        var response = await client.RoundTripAsync($"GET {target} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");

        Assert.Equal(200, response.Status);
        Assert.Equal(target, response.Header("X-Capture-Target"));
        Assert.Empty(node.Failures);
    }
}
