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
