using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Tether.FunctionalTests.Infrastructure;

namespace Tether.FunctionalTests;

/// <summary><c>/metrics</c> on the management port: Prometheus text format, counts that match the traffic sent.</summary>
public sealed partial class MetricsTests : IAsyncLifetime
{
    private TetherInstance _tether = null!;
    private TestBackend[] _backends = null!;

    public async Task InitializeAsync()
    {
        _tether = await TetherInstance.StartAsync();
        _backends = [await TestBackend.StartAsync("b1"), await TestBackend.StartAsync("b2")];
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
    public async Task Metrics_AfterTraffic_AreValidTextFormatAndCountRequests()
    {
        var (id, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", _backends, """{"persistenceType":"HTTP_COOKIE"}""");
        using var browser = Clients.WithCookieJar(port, out _);
        await Clients.SpreadAsync(browser, 10);
        using var anonymous = Clients.WithoutCookies(port);
        await Clients.SpreadAsync(anonymous, 20);
        for (var i = 0; i < 3; i++)
        {
            using var missing = await anonymous.GetAsync("/headers-nope");
        }

        using var scrape = new HttpClient();
        var text = await scrape.GetStringAsync(new Uri(_tether.Api.BaseAddress!, "/metrics"));
        var samples = Parse(text);

        var lb = id.ToString(CultureInfo.InvariantCulture);
        double Sum(string name, Func<IReadOnlyDictionary<string, string>, bool> match) =>
            samples.Where(s => s.Name == name && match(s.Labels)).Sum(s => s.Value);
        Assert.Equal(33, Sum("tether_requests_total", l => l["load_balancer"] == lb && l["code"] == "200"));
        Assert.Equal(9, Sum("tether_persistence_decisions_total", l => l["load_balancer"] == lb && l["outcome"] == "persisted"));
        Assert.Equal(24, Sum("tether_persistence_decisions_total", l => l["load_balancer"] == lb && l["outcome"] == "balanced"));
        Assert.Equal(33, Sum("tether_request_duration_seconds_count", l => l["load_balancer"] == lb));
        Assert.Equal(2, Sum("tether_node_up", l => l["load_balancer"] == lb));
    }

    [Fact]
    public async Task Metrics_DeadNodeAndDeletedLoadBalancer_Count502AndDropTheSeries()
    {
        var dead = await TestBackend.StartAsync("dead");
        await dead.DisposeAsync();
        var (id, port) = await _tether.CreateLoadBalancerAsync("RANDOM", [dead]);
        using var client = Clients.WithoutCookies(port);
        using (var response = await client.GetAsync("/"))
        {
            Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        }

        using var scrape = new HttpClient();
        var metricsUri = new Uri(_tether.Api.BaseAddress!, "/metrics");
        var lb = id.ToString(CultureInfo.InvariantCulture);
        var before = Parse(await scrape.GetStringAsync(metricsUri));
        Assert.Equal(1, before.Where(s => s.Name == "tether_requests_total" && s.Labels["load_balancer"] == lb && s.Labels["code"] == "502").Sum(s => s.Value));
        Assert.Equal(0, before.Where(s => s.Name == "tether_requests_total" && s.Labels["load_balancer"] == lb && s.Labels["code"] == "503").Sum(s => s.Value));

        Assert.Equal(HttpStatusCode.Accepted, (await _tether.SendJsonAsync(HttpMethod.Delete, $"loadbalancers/{id}", null)).StatusCode);
        var after = Parse(await scrape.GetStringAsync(metricsUri));

        Assert.DoesNotContain(after, s => s.Labels.TryGetValue("load_balancer", out var v) && v == lb);
    }

    [Fact]
    public async Task Metrics_NodeConditions_AreOneHotAndUpFollowsHealthOnly()
    {
        await using var drained = await TestBackend.StartAsync("drained");
        var port = FreePort.Next();
        var body = $$$"""
            {"loadBalancer":{"name":"shop front","protocol":"HTTP","port":{{{port}}},"virtualIps":[{"type":"SERVICENET"}],"nodes":[
              {"address":"127.0.0.1","port":{{{_backends[0].Port}}},"condition":"ENABLED"},
              {"address":"127.0.0.1","port":{{{_backends[1].Port}}},"condition":"DISABLED"},
              {"address":"127.0.0.1","port":{{{drained.Port}}},"condition":"DRAINING"}]}}
            """;
        var (id, nodes) = await CreateAsync(body);

        var samples = await ScrapeAsync();
        var lb = id.ToString(CultureInfo.InvariantCulture);
        var expected = new Dictionary<int, string> { [_backends[0].Port] = "ENABLED", [_backends[1].Port] = "DISABLED", [drained.Port] = "DRAINING" };
        foreach (var (nodePort, condition) in expected)
        {
            var node = nodes[nodePort].ToString(CultureInfo.InvariantCulture);
            var series = samples.Where(s => s.Labels.GetValueOrDefault("node") == node).ToList();
            Assert.All(series, s =>
            {
                Assert.Equal(lb, s.Labels["load_balancer"]);
                Assert.Equal("shop front", s.Labels["load_balancer_name"]);
                Assert.Equal($"127.0.0.1:{nodePort}", s.Labels["node_address"]);
            });
            var conditions = series.Where(s => s.Name == "tether_node_condition").ToDictionary(s => s.Labels["condition"], s => s.Value);
            Assert.Equal(new Dictionary<string, double> { ["ENABLED"] = 0, ["DISABLED"] = 0, ["DRAINING"] = 0, [condition] = 1 }, conditions);
            var statuses = series.Where(s => s.Name == "tether_node_status").ToDictionary(s => s.Labels["status"], s => s.Value);
            Assert.Equal(new Dictionary<string, double> { ["ONLINE"] = 0, ["OFFLINE"] = 0, ["UNKNOWN"] = 1 }, statuses);
            // Up is health only: a DRAINING or DISABLED node that answers is up; only the ENABLED one takes new traffic.
            Assert.Equal(1, series.Single(s => s.Name == "tether_node_up").Value);
            Assert.Equal(condition == "ENABLED" ? 1 : 0, series.Single(s => s.Name == "tether_node_available").Value);
        }
    }

    [Fact]
    public async Task Metrics_DeadNodeWithoutMonitor_IsDownOnceItFailsAndStatusUnknown()
    {
        await using var tether = await TetherInstance.StartAsync(proxyOptions: new Tether.Proxy.ProxyOptions { ShutdownTimeoutSeconds = 5, PassiveFailureHoldSeconds = 3600 });
        var dead = await TestBackend.StartAsync("dead");
        await dead.DisposeAsync();
        var (id, port) = await tether.CreateLoadBalancerAsync("RANDOM", [dead]);
        var lb = id.ToString(CultureInfo.InvariantCulture);

        var before = await ScrapeAsync(tether);
        Assert.Equal(1, before.Single(s => s.Name == "tether_node_up" && s.Labels["load_balancer"] == lb).Value);

        using var client = Clients.WithoutCookies(port);
        using (var response = await client.GetAsync("/"))
        {
            Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        }

        var after = await ScrapeAsync(tether);
        Assert.Equal(0, after.Single(s => s.Name == "tether_node_up" && s.Labels["load_balancer"] == lb).Value);
        Assert.Equal(0, after.Single(s => s.Name == "tether_node_available" && s.Labels["load_balancer"] == lb).Value);
        Assert.Equal(1, after.Single(s => s.Name == "tether_node_status" && s.Labels["load_balancer"] == lb && s.Labels["status"] == "UNKNOWN").Value);
        Assert.Equal(1, after.Single(s => s.Name == "tether_node_condition" && s.Labels["load_balancer"] == lb && s.Labels["condition"] == "ENABLED").Value);
    }

    [Fact]
    public async Task Metrics_HealthMonitor_StatusIsOnlineOrOfflineAndUpFollowsIt()
    {
        var dead = await TestBackend.StartAsync("dead");
        await dead.DisposeAsync();
        var port = FreePort.Next();
        var body = $$$"""
            {"loadBalancer":{"name":"monitored","protocol":"HTTP","port":{{{port}}},"virtualIps":[{"type":"SERVICENET"}],"nodes":[
              {"address":"127.0.0.1","port":{{{_backends[0].Port}}},"condition":"ENABLED"},
              {"address":"127.0.0.1","port":{{{dead.Port}}},"condition":"DRAINING"}],
             "healthMonitor":{"type":"CONNECT","delay":1,"timeout":1,"attemptsBeforeDeactivation":1} } }
            """;
        var (id, nodes) = await CreateAsync(body);
        var alive = nodes[_backends[0].Port].ToString(CultureInfo.InvariantCulture);
        var gone = nodes[dead.Port].ToString(CultureInfo.InvariantCulture);

        // Probes run every second; wait (generously) until the dead node's status series says OFFLINE.
        List<(string Name, Dictionary<string, string> Labels, double Value)> samples;
        var watch = System.Diagnostics.Stopwatch.StartNew();
        do
        {
            samples = await ScrapeAsync();
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(60), "the dead node never showed OFFLINE");
            await Task.Delay(100);
        }
        while (Value(samples, "tether_node_status", gone, "status", "OFFLINE") != 1);

        Assert.Equal(0, Value(samples, "tether_node_status", gone, "status", "ONLINE"));
        Assert.Equal(0, Value(samples, "tether_node_status", gone, "status", "UNKNOWN"));
        Assert.Equal(0, samples.Single(s => s.Name == "tether_node_up" && s.Labels["node"] == gone).Value);
        Assert.Equal(1, Value(samples, "tether_node_condition", gone, "condition", "DRAINING"));
        Assert.Equal(1, Value(samples, "tether_node_status", alive, "status", "ONLINE"));
        Assert.Equal(1, samples.Single(s => s.Name == "tether_node_up" && s.Labels["node"] == alive).Value);
        Assert.Equal(HttpStatusCode.Accepted, (await _tether.SendJsonAsync(HttpMethod.Delete, $"loadbalancers/{id}", null)).StatusCode);
    }

    /// <summary>docs/operations.md: a node slower than the load balancer's <c>timeout</c> gets the client a 504 but is
    /// not held out by passive health (one slow answer says the request was slow, not that the node is gone).</summary>
    [Fact]
    public async Task Metrics_NodeTimeout_Answers504AndKeepsTheNodeUp()
    {
        var (id, port) = await _tether.CreateLoadBalancerAsync("RANDOM", _backends.Take(1), extra: ""","timeout":1""");
        using var client = Clients.WithoutCookies(port);

        using (var slow = await client.GetAsync("/slow?ms=3000"))
        {
            Assert.Equal(HttpStatusCode.GatewayTimeout, slow.StatusCode);
        }

        var samples = await ScrapeAsync();
        using var next = await client.GetAsync("/");

        var lb = id.ToString(CultureInfo.InvariantCulture);
        Assert.Equal(1, samples.Single(s => s.Name == "tether_node_up" && s.Labels["load_balancer"] == lb).Value);
        Assert.Equal(0, samples.Single(s => s.Name == "tether_node_failures_total" && s.Labels["load_balancer"] == lb).Value);
        Assert.Equal(1, samples.Where(s => s.Name == "tether_requests_total" && s.Labels["load_balancer"] == lb && s.Labels["code"] == "504").Sum(s => s.Value));
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
    }

    [Fact]
    public async Task Metrics_RenamedLoadBalancer_SeriesCarryTheNewNameOnly()
    {
        var (id, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", _backends);
        using var client = Clients.WithoutCookies(port);
        await Clients.SpreadAsync(client, 4);
        var lb = id.ToString(CultureInfo.InvariantCulture);
        Assert.Contains(await ScrapeAsync(), s => s.Labels.GetValueOrDefault("load_balancer") == lb && s.Labels["load_balancer_name"] == "lb");

        Assert.Equal(HttpStatusCode.Accepted, (await _tether.SendJsonAsync(HttpMethod.Put, $"loadbalancers/{id}", """{"loadBalancer":{"name":"renamed"}}""")).StatusCode);
        await WaitActiveAsync(_tether, id);
        var after = (await ScrapeAsync()).Where(s => s.Labels.GetValueOrDefault("load_balancer") == lb).ToList();

        Assert.NotEmpty(after);
        Assert.All(after, s => Assert.Equal("renamed", s.Labels["load_balancer_name"]));
        Assert.Equal(4, after.Where(s => s.Name == "tether_requests_total" && s.Labels["code"] == "200").Sum(s => s.Value));
    }

    [Fact]
    public async Task Metrics_RequireToken_RefusesScrapesWithoutAValidToken()
    {
        await using var tether = await TetherInstance.StartAsync(configuration: new Dictionary<string, string?> { ["Management:MetricsRequireToken"] = "true" });
        var metrics = new Uri(tether.Api.BaseAddress!, "/metrics");
        using var anonymous = new HttpClient();

        using (var response = await anonymous.GetAsync(metrics))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Contains("No valid token provided", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var wrong = new HttpRequestMessage(HttpMethod.Get, metrics))
        {
            wrong.Headers.Add("X-Auth-Token", "not-a-token");
            using var response = await anonymous.SendAsync(wrong);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        using (var bearer = new HttpRequestMessage(HttpMethod.Get, metrics))
        {
            bearer.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", tether.Api.DefaultRequestHeaders.GetValues("X-Auth-Token").Single());
            using var response = await anonymous.SendAsync(bearer);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using (var scrape = await tether.Api.GetAsync(metrics))
        {
            Assert.Equal(HttpStatusCode.OK, scrape.StatusCode);
            Assert.StartsWith("text/plain", scrape.Content.Headers.ContentType!.ToString(), StringComparison.Ordinal);
            Parse(await scrape.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task Metrics_OwnListenAddress_ServesMetricsThereOnlyAndNotTheApi()
    {
        var metricsPort = FreePort.Next();
        await using var tether = await TetherInstance.StartAsync(configuration: new Dictionary<string, string?> { ["Management:MetricsUrl"] = $"http://127.0.0.1:{metricsPort}" });
        var (id, _) = await tether.CreateLoadBalancerAsync("RANDOM", _backends);
        using var client = new HttpClient();

        var samples = Parse(await client.GetStringAsync($"http://127.0.0.1:{metricsPort}/metrics"));
        Assert.Contains(samples, s => s.Name == "tether_node_up" && s.Labels["load_balancer"] == id.ToString(CultureInfo.InvariantCulture));

        using (var moved = await tether.Api.GetAsync("/metrics"))
        {
            Assert.Equal(HttpStatusCode.NotFound, moved.StatusCode);
        }

        using (var api = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{metricsPort}/v1.0/1/loadbalancers"))
        {
            api.Headers.Add("X-Auth-Token", tether.Api.DefaultRequestHeaders.GetValues("X-Auth-Token").Single());
            using var response = await client.SendAsync(api);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }

        using var list = await tether.Api.GetAsync("loadbalancers");
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
    }

    [Theory]
    [InlineData("127.0.0.1:9100")]
    [InlineData("https://127.0.0.1:9100")]
    [InlineData("http://127.0.0.1")]
    [InlineData("http://127.0.0.1:9100/metrics")]
    public async Task Metrics_InvalidMetricsUrl_StopsTheStartNamingTheSetting(string url)
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() =>
            TetherInstance.StartAsync(configuration: new Dictionary<string, string?> { ["Management:MetricsUrl"] = url }));

        Assert.Contains("Management:MetricsUrl", error.Message, StringComparison.Ordinal);
        Assert.Contains(url, error.Message, StringComparison.Ordinal);
    }

    private async Task<(int Id, Dictionary<int, int> NodesByPort)> CreateAsync(string body)
    {
        using var response = await _tether.SendJsonAsync(HttpMethod.Post, "loadbalancers", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, text);
        var created = System.Text.Json.Nodes.JsonNode.Parse(text)!["loadBalancer"]!;
        var nodes = created["nodes"]!.AsArray().ToDictionary(n => n!["port"]!.GetValue<int>(), n => n!["id"]!.GetValue<int>());
        return (created["id"]!.GetValue<int>(), nodes);
    }

    private static async Task WaitActiveAsync(TetherInstance tether, int id)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while ((await tether.GetJsonAsync($"loadbalancers/{id}"))["loadBalancer"]!["status"]!.GetValue<string>() != "ACTIVE")
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), "the load balancer never came back ACTIVE");
            await Task.Delay(25);
        }
    }

    private static double Value(List<(string Name, Dictionary<string, string> Labels, double Value)> samples, string name, string node, string label, string value) =>
        samples.Single(s => s.Name == name && s.Labels["node"] == node && s.Labels[label] == value).Value;

    private Task<List<(string Name, Dictionary<string, string> Labels, double Value)>> ScrapeAsync() => ScrapeAsync(_tether);

    private static async Task<List<(string Name, Dictionary<string, string> Labels, double Value)>> ScrapeAsync(TetherInstance tether)
    {
        using var scrape = new HttpClient();
        return Parse(await scrape.GetStringAsync(new Uri(tether.Api.BaseAddress!, "/metrics")));
    }

    /// <summary>A strict parser of the Prometheus text exposition format (version 0.0.4): every line is a comment
    /// (# HELP / # TYPE), blank, or <c>name{label="value",...} number</c>; anything else fails the test.</summary>
    private static List<(string Name, Dictionary<string, string> Labels, double Value)> Parse(string text)
    {
        var samples = new List<(string, Dictionary<string, string>, double)>();
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0)
            {
                continue;
            }

            if (line.StartsWith('#'))
            {
                Assert.Matches(CommentLine(), line);
                continue;
            }

            var match = SampleLine().Match(line);
            Assert.True(match.Success, $"not a Prometheus sample line: {line}");
            var labels = new Dictionary<string, string>();
            foreach (Match label in LabelPair().Matches(match.Groups["labels"].Value))
            {
                labels[label.Groups[1].Value] = label.Groups[2].Value;
            }

            var value = match.Groups["value"].Value switch
            {
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                "NaN" => double.NaN,
                var v => double.Parse(v, CultureInfo.InvariantCulture),
            };
            samples.Add((match.Groups["name"].Value, labels, value));
        }

        return samples;
    }

    [GeneratedRegex("""^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .*$""")]
    private static partial Regex CommentLine();

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*)\})? (?<value>[-+]?([0-9.]+([eE][-+]?[0-9]+)?|Inf|NaN))( [0-9]+)?$""")]
    private static partial Regex SampleLine();

    [GeneratedRegex(@"([a-zA-Z_][a-zA-Z0-9_]*)=""((?:[^""\\]|\\.)*)""")]
    private static partial Regex LabelPair();
}
