using System.Net;
using System.Text.Json.Nodes;
using Tether.FunctionalTests.Infrastructure;

namespace Tether.FunctionalTests.Cluster;

/// <summary>Issue 14, Redis stopped and started under load, with real processes: the data plane serves on from local
/// state, configuration writes answer 503 while Redis is down, and once Redis is back (empty: the test server has no
/// persistence, so the instances refill it from their local copies) writes are accepted again and both instances
/// converge on one configuration.</summary>
public sealed class ClusterStoreOutageTests : TetherClusterTestBase
{
    private const int ClientsPerLane = 6;

    [Fact]
    public async Task RedisStoppedAndStarted_UnderLoad_NoFailedRequestWritesRefusedThenAcceptedAndInstancesConverge()
    {
        await using var b4 = await TestBackend.StartAsync("b4");
        var (a, b) = await StartPairAsync();
        var (sourceIp, sourceIpPort) = await CreateServedAsync(a, """{"persistenceType":"SOURCE_IP"}""", b);
        var (httpCookie, httpCookiePort) = await CreateServedAsync(a, """{"persistenceType":"HTTP_COOKIE"}""", b);

        // Clients through both instances (distinct clients: each instance has its own pins).
        await using var load = new ClusterLoad();
        for (var i = 0; i < ClientsPerLane; i++)
        {
            load.Add(StickyClient.SourceIp(i), a.Address, sourceIpPort);
            load.Add(StickyClient.SourceIp(100 + i), b.Address, sourceIpPort);
            load.Add(StickyClient.HttpCookie(i), a.Address, httpCookiePort);
            load.Add(StickyClient.HttpCookie(100 + i), b.Address, httpCookiePort);
        }

        await load.WaitAnswersAsync(0, 3, Deadline);

        await Redis.StopAsync();
        var down = load.NextPhase();

        // Writes are refused with the reason, on both instances; the instances stay ready (they serve their last
        // configuration).
        await AssertRefusedAsync(a, HttpMethod.Put, $"loadbalancers/{Text(sourceIp)}", """{"loadBalancer":{"name":"written-while-down"}}""");
        await AssertRefusedAsync(b, HttpMethod.Post, $"loadbalancers/{Text(sourceIp)}/nodes",
            $$"""{"nodes":[{"address":"127.0.0.1","port":{{Text(b4.Port)}},"condition":"ENABLED"}]}""");
        foreach (var instance in new[] { a, b })
        {
            using var health = await instance.Api.GetAsync(new Uri("/healthz", UriKind.Relative));
            Assert.True(health.StatusCode == HttpStatusCode.OK, $"{instance.Address} /healthz while Redis is down: {(int)health.StatusCode} {await health.Content.ReadAsStringAsync()}");
        }

        await load.WaitAnswersAsync(down, 3, Deadline);

        await Redis.StartAgainAsync(); // same port, empty
        var back = load.NextPhase();

        // Writes are accepted again once the instances have reconnected (and refilled the empty store).
        var refusals = new List<string>();
        await WaitUntilAsync(async () => await AcceptedAsync(a, HttpMethod.Put, $"loadbalancers/{Text(httpCookie)}", """{"loadBalancer":{"name":"renamed-after"}}""", refusals),
            () => "a never accepted a write after Redis came back: " + string.Join("; ", refusals.TakeLast(3)));
        await WaitUntilAsync(async () => await AcceptedAsync(b, HttpMethod.Post, $"loadbalancers/{Text(sourceIp)}/nodes",
            $$"""{"nodes":[{"address":"127.0.0.1","port":{{Text(b4.Port)}},"condition":"ENABLED"}]}""", refusals),
            () => "b never accepted a write after Redis came back: " + string.Join("; ", refusals.TakeLast(3)));

        // Both instances converge on one configuration holding both changes and not the refused one.
        var differences = "";
        await WaitUntilAsync(async () =>
        {
            differences = "";
            foreach (var id in new[] { sourceIp, httpCookie })
            {
                var onA = Shared(await LoadBalancerAsync(a, id));
                var onB = Shared(await LoadBalancerAsync(b, id));
                if (onA != onB)
                {
                    differences += $"load balancer {Text(id)}: a {onA} b {onB}; ";
                }
            }

            var listA = (await a.GetJsonAsync("loadbalancers")).ToJsonString();
            var listB = (await b.GetJsonAsync("loadbalancers")).ToJsonString();
            if (listA != listB)
            {
                differences += $"listing: a {listA} b {listB}";
            }

            return differences.Length == 0;
        }, () => "a and b did not converge: " + differences);

        var converged = await LoadBalancerAsync(b, sourceIp);
        Assert.True(HasNode(converged, b4.Port), "the node added through b after the outage is missing");
        Assert.Equal("lb", converged["name"]!.GetValue<string>()); // the write refused while down changed nothing
        Assert.Equal("renamed-after", (await LoadBalancerAsync(b, httpCookie))["name"]!.GetValue<string>());

        await load.WaitAnswersAsync(back, 3, Deadline);
        await load.StopAsync();
        foreach (var lane in load.Lanes)
        {
            var failures = Enumerable.Range(0, back + 1).SelectMany(lane.Failures).ToList();
            Assert.True(failures.Count == 0, $"{lane.Client} had {Text(failures.Count)} failed requests: {string.Join("; ", failures.Take(3))}");
            var nodes = Enumerable.Range(0, back + 1).SelectMany(lane.Answers).Distinct().ToList();
            Assert.True(nodes.Count == 1, $"{lane.Client} changed node: {string.Join(", ", nodes)}");
        }
    }

    /// <summary>The load balancer's JSON without <c>sourceAddresses</c> (the addresses this instance connects to
    /// nodes from: its own, by design).</summary>
    private static string Shared(JsonNode loadBalancer)
    {
        var copy = loadBalancer.DeepClone().AsObject();
        copy.Remove("sourceAddresses");
        return copy.ToJsonString();
    }

    /// <summary>Asserts that the write answers 503 and says that the cluster store is unavailable.</summary>
    private static async Task AssertRefusedAsync(TetherProcess through, HttpMethod method, string path, string json)
    {
        using var answer = await through.SendJsonAsync(method, path, json);
        var body = await answer.Content.ReadAsStringAsync();
        Assert.True(answer.StatusCode == HttpStatusCode.ServiceUnavailable, $"{method} {path} through {through.Address} while Redis is down: {(int)answer.StatusCode} {body}");
        Assert.Contains("cluster store is unavailable", body, StringComparison.Ordinal);
    }

    /// <summary>Sends the write; true when accepted, else records the answer in <paramref name="refusals"/>.</summary>
    private static async Task<bool> AcceptedAsync(TetherProcess through, HttpMethod method, string path, string json, List<string> refusals)
    {
        using var answer = await through.SendJsonAsync(method, path, json);
        if (answer.StatusCode is HttpStatusCode.Accepted)
        {
            return true;
        }

        refusals.Add($"{through.Address} {(int)answer.StatusCode} {await answer.Content.ReadAsStringAsync()}");
        return false;
    }
}
