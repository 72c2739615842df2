using Tether.FunctionalTests.Infrastructure;

namespace Tether.FunctionalTests.Cluster;

/// <summary>Issue 14's failover with real processes: clients run through instance a, a is killed with SIGKILL (no
/// shutdown, nothing flushed) and the clients switch to instance b, as when the virtual IP moves. Every pinned client
/// keeps its node and every configuration change a acknowledged before it died is on b.</summary>
public sealed class ClusterFailoverTests : TetherClusterTestBase
{
    private const int ClientsPerType = 12;

    [Fact]
    public async Task KillA_ClientsSwitchToB_PinsKeptAndAcknowledgedChangesOnB()
    {
        await using var b4 = await TestBackend.StartAsync("b4");
        var (a, b) = await StartPairAsync();
        var (sourceIp, sourceIpPort) = await CreateServedAsync(a, """{"persistenceType":"SOURCE_IP"}""", b);
        var (httpCookie, httpCookiePort) = await CreateServedAsync(a, """{"persistenceType":"HTTP_COOKIE"}""", b);
        var (appCookie, appCookiePort) = await CreateServedAsync(a, """{"persistenceType":"APP_COOKIE","cookieName":"SESSIONID"}""", b);

        await using var load = new ClusterLoad();
        for (var i = 0; i < ClientsPerType; i++)
        {
            load.Add(StickyClient.SourceIp(i), a.Address, sourceIpPort);
            load.Add(StickyClient.HttpCookie(i), a.Address, httpCookiePort);
            load.Add(StickyClient.AppCookie(i), a.Address, appCookiePort);
        }

        await load.WaitAnswersAsync(0, 3, Deadline);

        // Changes through a while the clients run, each acknowledged before the next; the node added to the SOURCE_IP
        // load balancer makes consistent hashing map some clients to b4, so only the stick table keeps them.
        foreach (var id in new[] { sourceIp, httpCookie, appCookie })
        {
            await AddNodeAsync(a, id, b4);
        }

        await AssertAcceptedAsync(a, HttpMethod.Post, $"loadbalancers/{Text(appCookie)}/metadata", """{"metadata":[{"key":"acknowledged","value":"before-kill"}]}""");
        await AssertAcceptedAsync(a, HttpMethod.Put, $"loadbalancers/{Text(httpCookie)}", """{"loadBalancer":{"name":"renamed-before-kill"}}""");
        await load.WaitAnswersAsync(0, 6, Deadline);
        var early = load.Lanes.SelectMany(l => l.Failures(0).Select(f => $"{l.Client}: {f}")).ToList();
        Assert.True(early.Count == 0, $"requests through a failed before the kill: {string.Join("; ", early.Take(5))}\n{Tail(a.Output)}");

        // The last change, acknowledged by a just before it dies.
        await AssertAcceptedAsync(a, HttpMethod.Put, $"loadbalancers/{Text(sourceIp)}", """{"loadBalancer":{"name":"last-before-kill"}}""");
        var dying = load.NextPhase();
        a.Kill();
        var switched = load.SwitchAll(b.Address);
        await load.WaitAnswersAsync(switched, 5, Deadline);
        await load.StopAsync();

        var moved = new List<string>();
        foreach (var lane in load.Lanes)
        {
            var before = lane.Answers(0).Concat(lane.Answers(dying)).Distinct().ToList();
            Assert.True(before.Count == 1, $"{lane.Client} changed node through a before the kill: {string.Join(", ", before)}");
            Assert.True(lane.Failures(switched).Count == 0, $"{lane.Client} failed through b: {string.Join("; ", lane.Failures(switched))}\n{Tail(b.Output)}");
            var after = lane.Answers(switched).Distinct().ToList();
            if (after.Count != 1 || after[0] != before[0])
            {
                moved.Add($"{lane.Client}: {before[0]} -> {string.Join(", ", after)}");
            }
        }

        Assert.True(moved.Count == 0, $"{Text(moved.Count)} of {Text(load.Lanes.Count)} clients lost their node: {string.Join("; ", moved)}");
        Assert.Equal(137, a.ExitCode);

        // Every change a acknowledged is on b.
        var missing = new List<string>();
        await WaitUntilAsync(async () =>
        {
            missing.Clear();
            foreach (var id in new[] { sourceIp, httpCookie, appCookie })
            {
                if (!HasNode(await LoadBalancerAsync(b, id), b4.Port))
                {
                    missing.Add($"node b4 of load balancer {Text(id)}");
                }
            }

            if ((await LoadBalancerAsync(b, httpCookie))["name"]!.GetValue<string>() != "renamed-before-kill")
            {
                missing.Add("the rename of the HTTP_COOKIE load balancer");
            }

            if ((await LoadBalancerAsync(b, sourceIp))["name"]!.GetValue<string>() != "last-before-kill")
            {
                missing.Add("the last rename, acknowledged just before the kill");
            }

            if (!(await LoadBalancerAsync(b, appCookie))["metadata"]!.AsArray().Any(m => m!["key"]!.GetValue<string>() == "acknowledged"))
            {
                missing.Add("the metadata item");
            }

            return missing.Count == 0;
        }, () => "changes acknowledged by a are missing on b: " + string.Join(", ", missing));
    }

    /// <summary>The last lines of an instance's output, for a failure message.</summary>
    private static string Tail(string output) => string.Join('\n', output.Split('\n').TakeLast(40));
}
