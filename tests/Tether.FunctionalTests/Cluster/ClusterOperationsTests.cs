using System.Buffers.Text;
using System.Globalization;
using System.Net;
using Tether.FunctionalTests.Infrastructure;

namespace Tether.FunctionalTests.Cluster;

/// <summary>Issue 14, what an operator of a cluster sees and does, with real processes and a real
/// <c>redis-server</c>: <c>/metrics</c> names the instance, <c>tether token</c> and <c>tether keys</c> with
/// <c>--redis</c> act on every instance, and a key rotated through one instance is honoured by another at once.</summary>
public sealed class ClusterOperationsTests : TetherClusterTestBase
{
    [Fact]
    public async Task Metrics_ClusterMode_EverySeriesCarriesTheInstanceLabel()
    {
        var a = await StartInstanceAsync("127.0.0.2", "lb-a");
        var (_, port) = await a.CreateLoadBalancerAsync("ROUND_ROBIN", Backends, """{"persistenceType":"HTTP_COOKIE"}""");
        await WaitServedAsync(a, port);

        var samples = await ScrapeAsync(a);

        // Data plane series (per node and per load balancer) and the cluster's own gauges, every one labelled.
        Assert.Contains(samples, s => s.StartsWith("tether_requests_total{", StringComparison.Ordinal));
        Assert.Contains(samples, s => s.StartsWith("tether_node_up{", StringComparison.Ordinal));
        Assert.Contains(samples, s => s.StartsWith("tether_cluster_store_up{", StringComparison.Ordinal));
        var unlabelled = samples.Where(s => !s.Contains("instance=\"lb-a\"", StringComparison.Ordinal)).ToList();
        Assert.True(unlabelled.Count == 0, "series without instance=\"lb-a\": " + string.Join("\n", unlabelled));
    }

    [Fact]
    public async Task Metrics_SingleMode_NoInstanceLabel()
    {
        await using var single = await TetherProcess.StartAsync("127.0.0.2");
        var (_, port) = await single.CreateLoadBalancerAsync("ROUND_ROBIN", Backends);
        await WaitServedAsync(single, port);

        var samples = await ScrapeAsync(single);

        Assert.Contains(samples, s => s.StartsWith("tether_requests_total{", StringComparison.Ordinal));
        Assert.DoesNotContain(samples, s => s.Contains("instance=", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TokenCreateWithRedis_AcceptedByEveryInstance_RevokeRefusedByEvery()
    {
        var a = await StartInstanceAsync("127.0.0.2", "a");
        var b = await StartInstanceAsync("127.0.0.3", "b");

        var created = await TetherCli.RunAsync(["token", "create", "--account", "7", "--role", "observer", "--redis", Redis.Connection]);
        var token = created.Output.Trim();
        var listed = await TetherCli.RunAsync(["token", "list", "--redis", Redis.Connection]);
        var before = (await StatusAsync(a, token), await StatusAsync(b, token));
        var revoked = await TetherCli.RunAsync(["token", "revoke", Tether.Management.Auth.TokenId.Of(token), "--redis", Redis.Connection]);
        var after = (await StatusAsync(a, token), await StatusAsync(b, token));
        var again = await TetherCli.RunAsync(["token", "revoke", token, "--redis", Redis.Connection]);

        Assert.Equal(0, created.Code);
        Assert.Contains($"cluster store {Redis.Connection}", created.Error, StringComparison.Ordinal);
        Assert.Contains($"{Tether.Management.Auth.TokenId.Of(token)}  7        observer", listed.Output, StringComparison.Ordinal);
        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), before);
        Assert.Equal(0, revoked.Code);
        Assert.Equal((HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized), after);
        Assert.Equal(1, again.Code);
        // The data directories were not touched: the token never was in a's SQLite store.
        var local = await TetherCli.RunAsync(["token", "list", "--data-dir", a.DataDirectory]);
        Assert.DoesNotContain(Tether.Management.Auth.TokenId.Of(token), local.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AdminCommandsWithRedis_StoreDown_ExitCode2AndSaysSo()
    {
        await Redis.StopAsync();

        var rotate = await TetherCli.RunAsync(["keys", "rotate", "--redis", Redis.Connection]);
        var create = await TetherCli.RunAsync(["token", "create", "--account", "1", "--redis", Redis.Connection]);

        Assert.Equal(2, rotate.Code);
        Assert.Contains("The cluster store is unavailable", rotate.Error, StringComparison.Ordinal);
        Assert.Equal(2, create.Code);
        Assert.Equal("", create.Output);
    }

    [Fact]
    public async Task KeysRotateWithRedis_EmptyStore_Refused()
    {
        var rotate = await TetherCli.RunAsync(["keys", "rotate", "--redis", Redis.Connection]);

        Assert.Equal(2, rotate.Code);
        Assert.Contains("holds no cookie keys yet", rotate.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KeysRotateWithRedis_CookieOfTheNewKeyFromA_HonouredByBAtOnce()
    {
        // A reloads its keys every second; B only every hour, so B can know key 2 only by re-reading on demand.
        await using var a = await TetherProcess.StartAsync("127.0.0.2", ["--redis", Redis.Connection, "--instance", "a"],
            environment: new Dictionary<string, string> { ["TETHER_Proxy__PurgeIntervalSeconds"] = "1" });
        await using var b = await TetherProcess.StartAsync("127.0.0.3", ["--redis", Redis.Connection, "--instance", "b"],
            environment: new Dictionary<string, string> { ["TETHER_Proxy__PurgeIntervalSeconds"] = "3600" }, token: a.Token);
        var (_, port) = await a.CreateLoadBalancerAsync("ROUND_ROBIN", Backends, """{"persistenceType":"HTTP_COOKIE"}""");
        await WaitServedAsync(a, port);
        await WaitServedAsync(b, port);

        var rotated = await TetherCli.RunAsync(["keys", "rotate", "--redis", Redis.Connection]);
        var listed = await TetherCli.RunAsync(["keys", "list", "--redis", Redis.Connection]);
        // A signs with key 2 once it has reloaded (within a second or two).
        string cookie = "", node = "";
        await WaitUntilAsync(async () =>
        {
            using var throughA = a.Client(port);
            using var first = await throughA.GetAsync(new Uri("/", UriKind.Relative));
            cookie = first.Headers.GetValues("Set-Cookie").First().Split(';')[0];
            node = await first.Content.ReadAsStringAsync();
            return KeyIdOf(cookie) == 2;
        }, "A never signed with key 2");

        using var throughB = b.Client(port);
        var nodes = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/");
            request.Headers.Add("Cookie", cookie);
            using var answer = await throughB.SendAsync(request);
            nodes.Add(await answer.Content.ReadAsStringAsync());
        }

        Assert.Equal(0, rotated.Code);
        Assert.Equal("key 2 now signs new cookies (2 keys validate)", rotated.Output.Trim());
        Assert.Equal(["1", "2"], listed.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.All(nodes, n => Assert.Equal(node, n));
        Assert.Contains("Cookie signing keys", b.Output, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The key id inside a persistence cookie (<c>name=value</c>): the second byte of the base64url value.</summary>
    private static int KeyIdOf(string cookie) => Base64Url.DecodeFromChars(cookie.AsSpan()[(cookie.IndexOf('=', StringComparison.Ordinal) + 1)..])[1];

    /// <summary>Every sample line of the instance's <c>/metrics</c> (no comments).</summary>
    private static async Task<List<string>> ScrapeAsync(TetherProcess instance)
    {
        using var client = new HttpClient();
        var text = await client.GetStringAsync(new Uri($"http://{instance.Address}:{instance.ApiPort.ToString(CultureInfo.InvariantCulture)}/metrics"));
        return [.. text.Split('\n').Where(l => l.Length > 0 && !l.StartsWith('#'))];
    }

    private static async Task<HttpStatusCode> StatusAsync(TetherProcess instance, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"http://{instance.Address}:{instance.ApiPort.ToString(CultureInfo.InvariantCulture)}/v1.0/7/loadbalancers"));
        request.Headers.Add("X-Auth-Token", token);
        using var client = new HttpClient();
        using var answer = await client.SendAsync(request);
        return answer.StatusCode;
    }
}
