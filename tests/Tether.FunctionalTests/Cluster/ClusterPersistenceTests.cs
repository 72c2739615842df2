using Tether.FunctionalTests.Infrastructure;

namespace Tether.FunctionalTests.Cluster;

/// <summary>Issue 14 with real processes: two <c>tether serve --redis</c> instances on 127.0.0.2 and 127.0.0.3 and a
/// real <c>redis-server</c>. A change made through one instance is live on the other, and a client that moves from one
/// instance to the other (the virtual IP moved) keeps its node: HTTP_COOKIE through the shared cookie keys, SOURCE_IP,
/// APP_COOKIE and HEADER through the shared stick table.</summary>
public sealed class ClusterPersistenceTests : TetherClusterTestBase
{
    [Fact]
    public async Task LoadBalancer_CreatedThroughA_ServedThroughB_NodeAddedThroughB_UsedByA()
    {
        var (a, b) = await StartPairAsync();
        var (id, port) = await a.CreateLoadBalancerAsync("ROUND_ROBIN", [Backends[0]]);

        await WaitServedAsync(b, port);
        using (var throughB = b.Client(port))
        {
            Assert.Equal("b1", await throughB.GetStringAsync(new Uri("/", UriKind.Relative)));
        }

        await AddNodeAsync(b, id, Backends[1]);
        using var throughA = a.Client(port);
        var seen = new HashSet<string>();
        await WaitUntilAsync(async () =>
        {
            seen.Add(await throughA.GetStringAsync(new Uri("/", UriKind.Relative)));
            return seen.Contains("b2");
        }, "A never sent a request to the node added through B");

        // One node id for the node on both instances (ids are allocated by the store).
        var nodesA = (await a.GetJsonAsync($"loadbalancers/{Text(id)}/nodes")).ToJsonString();
        Assert.Equal(nodesA, (await b.GetJsonAsync($"loadbalancers/{Text(id)}/nodes")).ToJsonString());
        Assert.True(Backends[1].Requests > 0);
    }

    [Fact]
    public async Task HttpCookie_IssuedThroughA_HonouredThroughB()
    {
        var (a, b) = await StartPairAsync();
        var (_, port) = await CreateServedAsync(a, """{"persistenceType":"HTTP_COOKIE"}""", b);

        var client = StickyClient.HttpCookie(0);
        var node = await client.GetAsync(a.Address, port);
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(node, await client.GetAsync(b.Address, port));
        }
    }

    [Fact]
    public Task SourceIp_PinnedThroughA_NodeAddedThroughB_KeepsItsNodeThroughB() =>
        AssertPinnedThroughAKeepNodeThroughBAfterNodeAddedThroughBAsync("""{"persistenceType":"SOURCE_IP"}""", StickyClient.SourceIp);

    [Fact]
    public Task AppCookie_PinnedThroughA_NodeAddedThroughB_KeepsItsNodeThroughB() =>
        AssertPinnedThroughAKeepNodeThroughBAfterNodeAddedThroughBAsync("""{"persistenceType":"APP_COOKIE","cookieName":"SESSIONID"}""", StickyClient.AppCookie);

    [Fact]
    public Task Header_PinnedThroughA_NodeAddedThroughB_KeepsItsNodeThroughB() =>
        AssertPinnedThroughAKeepNodeThroughBAfterNodeAddedThroughBAsync("""{"persistenceType":"HEADER","headerName":"X-Session-Id"}""", StickyClient.Header);
}
