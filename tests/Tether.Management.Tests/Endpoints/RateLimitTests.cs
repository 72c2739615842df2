using System.Net.Http.Headers;
using Tether.Management.Auth;

namespace Tether.Management.Tests.Endpoints;

/// <summary>Per-account rate limits (Management:RateLimits), GET /limits and the allowed domains from configuration.
/// Limits are per hour so that no bucket refills while a test runs.</summary>
public sealed class RateLimitTests : IAsyncLifetime, IDisposable
{
    private readonly TempDirectory _directory = new();
    private ApiHost _host = null!;

    public async Task InitializeAsync() => _host = await ApiHost.StartAsync(_directory.Path, o =>
    {
        o.RateLimits = "GET 3/hour, POST 1/hour, DELETE 2/day";
        o.AllowedDomains.Add("rackspace.com");
        o.AllowedDomains.Add("org");
    });

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _directory.Dispose();
    }

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Get_OverTheLimit_Answers413WithRetryAfterAndOverLimitBody()
    {
        var client = _host.NewAccount();
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(200, (await client.GetAsync("/loadbalancers")).Status);
        }

        using var response = await SendAsync(client, HttpMethod.Get, "/loadbalancers");
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Equal(413, (int)response.StatusCode);
        var retryAfter = Assert.Single(response.Headers.GetValues("Retry-After"));
        var seconds = int.Parse(retryAfter, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(seconds, 1, 1200);
        var overLimit = body["overLimit"]!;
        Assert.Equal(413, overLimit["code"]!.GetValue<int>());
        Assert.Equal("OverLimit Retry...", overLimit["message"]!.GetValue<string>());
        Assert.Equal($"Only 3 GET request(s) can be made per hour for account {client.Account}; retry after {seconds} second(s).", overLimit["details"]!.GetValue<string>());
        Assert.Equal(ApiHost.StartTime.AddSeconds(seconds).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture), overLimit["retryAfter"]!.GetValue<string>());
        Assert.Equal(["overLimit"], body.AsObject().Select(p => p.Key));
    }

    [Fact]
    public async Task Limits_AreCountedPerAccountAndPerVerb()
    {
        var first = _host.NewAccount();
        var second = _host.NewAccount();
        for (var i = 0; i < 3; i++)
        {
            await first.GetAsync("/loadbalancers");
        }

        Assert.Equal(413, (await first.GetAsync("/loadbalancers")).Status);
        Assert.Equal(200, (await second.GetAsync("/loadbalancers")).Status);
        Assert.NotEqual(413, (await first.PostAsync("/loadbalancers", "{}")).Status);
        Assert.NotEqual(413, (await first.PutAsync("/loadbalancers/1", "{}")).Status);
        Assert.NotEqual(413, (await first.PutAsync("/loadbalancers/1", "{}")).Status);
    }

    [Fact]
    public async Task Post_OverTheLimit_ChangesNothing()
    {
        var client = _host.NewAccount();
        var created = await client.PostAsync("/loadbalancers", ApiClient.LoadBalancerBody("HTTP", ApiHost.NextPort()));

        var refused = await client.PostAsync("/loadbalancers", ApiClient.LoadBalancerBody("HTTP", ApiHost.NextPort()));

        Assert.Equal(202, created.Status);
        Assert.Equal(413, refused.Status);
        Assert.Single((await client.GetAsync("/loadbalancers")).Body!["loadBalancers"]!.AsArray());
    }

    [Fact]
    public async Task GetLimits_WithRules_ListsEachRuleWithWhatRemains()
    {
        var client = _host.NewAccount();
        await client.GetAsync("/loadbalancers");

        var response = await client.GetAsync("/limits");

        Assert.Equal(200, response.Status);
        var rate = Assert.Single(response.Body!["limits"]!["rate"]!.AsArray())!;
        Assert.Equal("/v1.0/*", rate["uri"]!.GetValue<string>());
        Assert.Equal("^/v1.0/.*", rate["regex"]!.GetValue<string>());
        var now = ApiHost.StartTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(
            $$"""[{"verb":"GET","value":3,"remaining":1,"unit":"HOUR","next-available":"{{now}}"},{"verb":"POST","value":1,"remaining":1,"unit":"HOUR","next-available":"{{now}}"},{"verb":"DELETE","value":2,"remaining":2,"unit":"DAY","next-available":"{{now}}"}]""",
            rate["limit"]!.ToJsonString());
        var absolute = response.Body["limits"]!["absolute"]!.AsArray();
        Assert.Equal((await client.GetAsync("/loadbalancers/absolutelimits")).Body!["absolute"]!.ToJsonString(), absolute.ToJsonString());
    }

    [Fact]
    public async Task GetLimits_BucketEmpty_NextAvailableIsLater()
    {
        var client = _host.NewAccount();
        await client.PostAsync("/loadbalancers", "{}");

        var limit = (await client.GetAsync("/limits")).Body!["limits"]!["rate"]![0]!["limit"]![1]!;

        Assert.Equal(0, limit["remaining"]!.GetValue<int>());
        Assert.Equal(ApiHost.StartTime.AddHours(1).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture), limit["next-available"]!.GetValue<string>());
    }

    [Fact]
    public async Task GetAllowedDomains_FromConfiguration_InRackspaceShape()
    {
        var response = await _host.NewAccount().GetAsync("/loadbalancers/alloweddomains");

        Assert.Equal(200, response.Status);
        Assert.Equal("""{"allowedDomains":[{"allowedDomain":{"name":"rackspace.com"}},{"allowedDomain":{"name":"org"}}]}""", response.Text);
    }

    [Fact]
    public async Task GetLimits_RateLimitsOff_EmptyRateList()
    {
        using var directory = new TempDirectory();
        await using var host = await ApiHost.StartAsync(directory.Path);
        var client = host.NewAccount();
        for (var i = 0; i < 50; i++)
        {
            Assert.Equal(200, (await client.GetAsync("/loadbalancers")).Status);
        }

        var response = await client.GetAsync("/limits");

        Assert.Equal(200, response.Status);
        Assert.Equal("[]", response.Body!["limits"]!["rate"]!.ToJsonString());
        Assert.NotEmpty(response.Body["limits"]!["absolute"]!.AsArray());
    }

    [Fact]
    public async Task GetLimits_RackspacePreset_ListsTheReferenceLimits()
    {
        using var directory = new TempDirectory();
        await using var host = await ApiHost.StartAsync(directory.Path, o => o.RateLimits = "rackspace");

        var response = await host.NewAccount().GetAsync("/limits");

        var limits = response.Body!["limits"]!["rate"]![0]!["limit"]!.AsArray()
            .Select(l => $"{l!["verb"]} {l["value"]}/{l["unit"]}");
        Assert.Equal(["GET 10/SECOND", "GET 600/MINUTE", "POST 5/SECOND", "POST 300/MINUTE", "PUT 10/SECOND", "PUT 600/MINUTE", "DELETE 5/SECOND", "DELETE 300/MINUTE"], limits);
    }

    [Theory]
    [InlineData("GET ten/second", "\"GET ten/second\": the number of calls must be a whole number from 1 to 1000000")]
    [InlineData("GET 10/week", "\"GET 10/week\": the unit must be second, minute, hour or day")]
    [InlineData("PATCH 10/second", "\"PATCH 10/second\": the verb must be GET, POST, PUT or DELETE")]
    [InlineData("GET 10/second, GET 20/second", "\"GET 20/second\": GET already has a rule per second")]
    [InlineData("fast", "\"fast\" is not a rule; give off, rackspace, or rules VERB N/UNIT separated by commas")]
    [InlineData("GET 0/second", "\"GET 0/second\": the number of calls must be a whole number from 1 to 1000000")]
    public void Parse_InvalidRules_GiveTheReason(string value, string expected)
    {
        var error = RateLimitRules.Parse(value, out var rules);

        Assert.NotNull(error);
        Assert.StartsWith(expected, error, StringComparison.Ordinal);
        Assert.Empty(rules);
    }

    [Theory]
    [InlineData(null, 0)]
    [InlineData("", 0)]
    [InlineData("OFF", 0)]
    [InlineData("Rackspace", 8)]
    [InlineData("get 20/Second,  post 100/minute", 2)]
    public void Parse_ValidValues_GiveTheRules(string? value, int count)
    {
        Assert.Null(RateLimitRules.Parse(value, out var rules));

        Assert.Equal(count, rules.Count);
    }

    [Fact]
    public void Parse_CustomRules_KeepVerbCountAndUnit()
    {
        Assert.Null(RateLimitRules.Parse("get 20/Second, POST 100/minute", out var rules));

        Assert.Equal([new RateLimitRule("GET", 20, "SECOND"), new RateLimitRule("POST", 100, "MINUTE")], rules);
    }

    private async Task<HttpResponseMessage> SendAsync(ApiClient client, HttpMethod method, string path)
    {
        using var http = new HttpClient { BaseAddress = _host.BaseAddress };
        using var request = new HttpRequestMessage(method, $"/v1.0/{client.Account}{path}");
        request.Headers.Add("X-Auth-Token", client.Token);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return await http.SendAsync(request);
    }
}
