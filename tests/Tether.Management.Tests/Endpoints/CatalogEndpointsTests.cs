namespace Tether.Management.Tests.Endpoints;

public sealed class CatalogEndpointsTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private readonly ApiHost _host = fixture.Host;

    [Fact]
    public async Task GetProtocols_Always_ReturnsRackspaceNamesAndDefaultPorts()
    {
        var response = await _host.NewAccount().GetAsync("/loadbalancers/protocols");

        Assert.Equal(200, response.Status);
        var protocols = response.Body!["protocols"]!.AsArray();
        Assert.Equal(19, protocols.Count);
        Assert.Equal("""{"name":"DNS_TCP","port":53}""", protocols[0]!.ToJsonString());
        Assert.Contains(protocols, p => p!["name"]!.GetValue<string>() == "HTTP" && p["port"]!.GetValue<int>() == 80);
        Assert.Contains(protocols, p => p!["name"]!.GetValue<string>() == "TCP" && p["port"]!.GetValue<int>() == 0);
        Assert.Contains(protocols, p => p!["name"]!.GetValue<string>() == "IMAPv4" && p["port"]!.GetValue<int>() == 143);
    }

    [Fact]
    public async Task GetAlgorithms_Always_ReturnsEveryAlgorithmName()
    {
        var response = await _host.NewAccount().GetAsync("/loadbalancers/algorithms");

        Assert.Equal(200, response.Status);
        Assert.Equal(
            """{"algorithms":[{"name":"LEAST_CONNECTIONS"},{"name":"RANDOM"},{"name":"ROUND_ROBIN"},{"name":"WEIGHTED_LEAST_CONNECTIONS"},{"name":"WEIGHTED_ROUND_ROBIN"}]}""",
            response.Text);
    }

    [Fact]
    public async Task GetAllowedDomains_NoneConfigured_ReturnsAnEmptyList()
    {
        var response = await _host.NewAccount().GetAsync("/loadbalancers/alloweddomains");

        Assert.Equal(200, response.Status);
        Assert.Equal("""{"allowedDomains":[]}""", response.Body!.ToJsonString());
    }

    [Fact]
    public async Task GetAbsoluteLimits_Always_ReturnsNodeLoadBalancerNameAndBatchLimits()
    {
        var response = await _host.NewAccount().GetAsync("/loadbalancers/absolutelimits");

        Assert.Equal(200, response.Status);
        var limits = response.Body!["absolute"]!.AsArray()
            .ToDictionary(l => l!["name"]!.GetValue<string>(), l => l!["value"]!.GetValue<int>());
        Assert.Equal(25, limits["NODE_LIMIT"]);
        Assert.Equal(25, limits["LOADBALANCER_LIMIT"]);
        Assert.Equal(128, limits["NAME_LIMIT"]);
        Assert.Equal(10, limits["BATCH_DELETE_LIMIT"]);
        Assert.Equal(25, limits["LOADBALANCER_META_LIMIT"]);
        Assert.Equal(25, limits["NODE_META_LIMIT"]);
        Assert.Equal(100, limits["ACCESS_LIST_LIMIT"]);
    }
}
