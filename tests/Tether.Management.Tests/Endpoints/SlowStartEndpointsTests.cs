namespace Tether.Management.Tests.Endpoints;

/// <summary><c>slowStartSeconds</c> (issue 13; Tether's, additive to the Rackspace load balancer): 0 (off) to 3600
/// seconds at creation and in PUT <c>/loadbalancers/{id}</c>, shown after <c>httpsRedirect</c> when not 0, stored,
/// applied; anything else a 400 that changes nothing.</summary>
public sealed class SlowStartEndpointsTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private readonly ApiHost _host = fixture.Host;

    [Fact]
    public async Task Create_WithSlowStart_IsShownStoredAndApplied()
    {
        var api = _host.NewAccount();

        var id = await api.CreateLoadBalancerAsync(extra: "\"slowStartSeconds\":30");

        var lb = (await api.GetAsync($"/loadbalancers/{id}")).Body!["loadBalancer"]!.AsObject();
        Assert.Equal(30, lb["slowStartSeconds"]!.GetValue<int>());
        var keys = lb.Select(p => p.Key).ToList();
        Assert.Equal(keys.IndexOf("httpsRedirect") + 1, keys.IndexOf("slowStartSeconds"));
        Assert.Equal(30, _host.Store.LoadAll().Single(c => c.Id == id).SlowStartSeconds);
        Assert.Equal(30, _host.DataPlane.Live[id].SlowStartSeconds);
    }

    [Fact]
    public async Task Create_WithoutSlowStart_FieldIsAbsentAndOff()
    {
        var api = _host.NewAccount();

        var id = await api.CreateLoadBalancerAsync();

        var lb = (await api.GetAsync($"/loadbalancers/{id}")).Body!["loadBalancer"]!.AsObject();
        Assert.False(lb.ContainsKey("slowStartSeconds"));
        Assert.Equal(0, _host.DataPlane.Live[id].SlowStartSeconds);
    }

    [Theory]
    [InlineData("-1", "slowStartSeconds: must be from 0 (off) to 3600 seconds (got -1)")]
    [InlineData("3601", "slowStartSeconds: must be from 0 (off) to 3600 seconds (got 3601)")]
    [InlineData("\"30\"", "slowStartSeconds:")]
    [InlineData("1.5", "slowStartSeconds:")]
    public async Task Create_BadSlowStart_Returns400AndCreatesNothing(string value, string message)
    {
        var api = _host.NewAccount();

        var response = await api.PostAsync("/loadbalancers", ApiClient.LoadBalancerBody("HTTP", ApiHost.NextPort(), "\"slowStartSeconds\":" + value));

        Assert.Equal(400, response.Status);
        Assert.Contains(response.Messages, m => m.StartsWith(message, StringComparison.Ordinal));
        Assert.Empty((await api.GetAsync("/loadbalancers")).Body!["loadBalancers"]!.AsArray());
    }

    [Fact]
    public async Task Update_SlowStart_SetThenOff()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();

        Assert.Equal(202, (await api.PutAsync($"/loadbalancers/{id}", """{"loadBalancer":{"slowStartSeconds":120}}""")).Status);
        Assert.Equal(120, (await api.GetAsync($"/loadbalancers/{id}")).Body!["loadBalancer"]!["slowStartSeconds"]!.GetValue<int>());
        Assert.Equal(120, _host.DataPlane.Live[id].SlowStartSeconds);

        Assert.Equal(202, (await api.PutAsync($"/loadbalancers/{id}", """{"slowStartSeconds":0}""")).Status);
        Assert.False((await api.GetAsync($"/loadbalancers/{id}")).Body!["loadBalancer"]!.AsObject().ContainsKey("slowStartSeconds"));
        Assert.Equal(0, _host.Store.LoadAll().Single(c => c.Id == id).SlowStartSeconds);
    }

    [Theory]
    [InlineData("4000")]
    [InlineData("-5")]
    [InlineData("true")]
    public async Task Update_BadSlowStart_Returns400AndKeepsTheOldValue(string value)
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync(extra: "\"slowStartSeconds\":60");

        var response = await api.PutAsync($"/loadbalancers/{id}", "{\"loadBalancer\":{\"name\":\"x\",\"slowStartSeconds\":" + value + "}}");

        Assert.Equal(400, response.Status);
        Assert.Contains(response.Messages, m => m.StartsWith("slowStartSeconds", StringComparison.Ordinal));
        var lb = (await api.GetAsync($"/loadbalancers/{id}")).Body!["loadBalancer"]!;
        Assert.Equal(60, lb["slowStartSeconds"]!.GetValue<int>());
        Assert.Equal("lb", lb["name"]!.GetValue<string>());
    }
}
