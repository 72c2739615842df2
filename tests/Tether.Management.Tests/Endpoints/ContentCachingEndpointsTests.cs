namespace Tether.Management.Tests.Endpoints;

/// <summary>The content caching resource (issue 12; Rackspace v1.0 "Show/Update content caching": GET 200, PUT 202
/// with <c>{"contentCaching":{"enabled":bool}}</c>), <c>contentCaching</c> at creation (all or nothing), its place in
/// the load balancer representation, storage and the data plane.</summary>
public sealed class ContentCachingEndpointsTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private readonly ApiHost _host = fixture.Host;

    [Fact]
    public async Task Put_EnableThenDisable_Is202StoredAppliedAndShown()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();
        Assert.Equal("""{"contentCaching":{"enabled":false}}""", (await api.GetAsync($"/loadbalancers/{id}/contentcaching")).Text);

        var put = await api.PutAsync($"/loadbalancers/{id}/contentcaching", """{"contentCaching":{"enabled":true}}""");

        Assert.Equal(202, put.Status);
        Assert.Equal("""{"contentCaching":{"enabled":true}}""", (await api.GetAsync($"/loadbalancers/{id}/contentcaching")).Text);
        Assert.Equal("""{"enabled":true}""", (await api.GetAsync($"/loadbalancers/{id}")).Body!["loadBalancer"]!["contentCaching"]!.ToJsonString());
        Assert.True(_host.DataPlane.Live[id].ContentCaching);
        Assert.True(_host.Store.LoadAll().Single(c => c.Id == id).ContentCaching);

        Assert.Equal(202, (await api.PutAsync($"/loadbalancers/{id}/contentcaching", """{"contentCaching":{"enabled":false}}""")).Status);
        Assert.Equal("""{"contentCaching":{"enabled":false}}""", (await api.GetAsync($"/loadbalancers/{id}/contentcaching")).Text);
        Assert.False(_host.DataPlane.Live[id].ContentCaching);
        Assert.False(_host.Store.LoadAll().Single(c => c.Id == id).ContentCaching);
    }

    [Fact]
    public async Task GetLoadBalancer_ShowsContentCachingAfterConnectionLogging()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();

        var lb = (await api.GetAsync($"/loadbalancers/{id}")).Body!["loadBalancer"]!.AsObject();

        var keys = lb.Select(p => p.Key).ToList();
        Assert.Equal(keys.IndexOf("connectionLogging") + 1, keys.IndexOf("contentCaching"));
        Assert.Equal("""{"enabled":false}""", lb["contentCaching"]!.ToJsonString());
    }

    [Fact]
    public async Task Put_BareObjectWithoutRootKey_IsAccepted()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();

        Assert.Equal(202, (await api.PutAsync($"/loadbalancers/{id}/contentcaching", """{"enabled":true}""")).Status);
        Assert.True(_host.DataPlane.Live[id].ContentCaching);
    }

    [Theory]
    [InlineData("""{"contentCaching":{}}""", "contentCaching.enabled: required (true or false)")]
    [InlineData("""{"contentCaching":{"enabled":"yes"}}""", "contentCaching.enabled: must be true or false")]
    [InlineData("""{"contentCaching":{"enabled":null}}""", "contentCaching.enabled: required (true or false)")]
    [InlineData("""{"contentCaching":{"enabled":true,"ttl":60}}""", "contentCaching.ttl: unknown field (known fields: enabled)")]
    public async Task Put_InvalidBody_Is400AndChangesNothing(string body, string message)
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();
        var applied = _host.DataPlane.Applied.Count;

        var response = await api.PutAsync($"/loadbalancers/{id}/contentcaching", body);

        Assert.Equal(400, response.Status);
        Assert.Contains(message, response.Messages);
        Assert.Equal(applied, _host.DataPlane.Applied.Count);
        Assert.False(_host.Store.LoadAll().Single(c => c.Id == id).ContentCaching);
    }

    [Theory]
    [InlineData("TCP")]
    [InlineData("HTTPS")]
    [InlineData("UDP")]
    public async Task Put_EnableOnNonHttpLoadBalancer_Is400AndDisableIsAccepted(string protocol)
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync(protocol);

        var response = await api.PutAsync($"/loadbalancers/{id}/contentcaching", """{"contentCaching":{"enabled":true}}""");

        Assert.Equal(400, response.Status);
        Assert.Contains($"contentCaching: content caching needs an HTTP load balancer (it caches HTTP answers); this load balancer is {protocol}", response.Messages);
        Assert.False(_host.Store.LoadAll().Single(c => c.Id == id).ContentCaching);
        Assert.Equal(202, (await api.PutAsync($"/loadbalancers/{id}/contentcaching", """{"contentCaching":{"enabled":false}}""")).Status);
    }

    [Fact]
    public async Task Put_OtherAccountOrUnknownLoadBalancer_Is404()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();

        Assert.Equal(404, (await _host.NewAccount().PutAsync($"/loadbalancers/{id}/contentcaching", """{"contentCaching":{"enabled":true}}""")).Status);
        Assert.Equal(404, (await _host.NewAccount().GetAsync($"/loadbalancers/{id}/contentcaching")).Status);
        Assert.Equal(404, (await api.PutAsync("/loadbalancers/999999/contentcaching", """{"contentCaching":{"enabled":true}}""")).Status);
        Assert.False(_host.Store.LoadAll().Single(c => c.Id == id).ContentCaching);
    }

    [Fact]
    public async Task Create_WithContentCaching_IsStoredAppliedAndShown()
    {
        var api = _host.NewAccount();

        var id = await api.CreateLoadBalancerAsync(extra: "\"contentCaching\":{\"enabled\":true}");

        Assert.True(_host.DataPlane.Live[id].ContentCaching);
        Assert.Equal("""{"contentCaching":{"enabled":true}}""", (await api.GetAsync($"/loadbalancers/{id}/contentcaching")).Text);
    }

    [Theory]
    [InlineData("HTTP", "\"contentCaching\":{}", "contentCaching.enabled: required (true or false)")]
    [InlineData("HTTP", "\"contentCaching\":{\"enabled\":1}", "contentCaching.enabled: must be true or false")]
    [InlineData("HTTP", "\"contentCaching\":true", "contentCaching: must be an object")]
    [InlineData("HTTP", "\"contentCaching\":{\"enabled\":true,\"x\":1}", "contentCaching.x: unknown field (known fields: enabled)")]
    [InlineData("TCP", "\"contentCaching\":{\"enabled\":true}", "contentCaching: content caching needs an HTTP load balancer (it caches HTTP answers); this load balancer is TCP")]
    public async Task Create_InvalidContentCaching_Is400AndCreatesNothing(string protocol, string extra, string message)
    {
        var api = _host.NewAccount();

        var response = await api.PostAsync("/loadbalancers", ApiClient.LoadBalancerBody(protocol, ApiHost.NextPort(), extra));

        Assert.Equal(400, response.Status);
        Assert.Contains(message, response.Messages);
        Assert.Equal("""{"loadBalancers":[]}""", (await api.GetAsync("/loadbalancers")).Text);
    }

    [Fact]
    public async Task Create_DisabledContentCachingOnTcp_IsAccepted()
    {
        var api = _host.NewAccount();

        var id = await api.CreateLoadBalancerAsync("TCP", extra: "\"contentCaching\":{\"enabled\":false}");

        Assert.False(_host.DataPlane.Live[id].ContentCaching);
    }

    [Fact]
    public async Task UpdateProtocol_AwayFromHttp_TurnsContentCachingOff()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync(extra: "\"contentCaching\":{\"enabled\":true}");

        Assert.Equal(202, (await api.PutAsync($"/loadbalancers/{id}", """{"loadBalancer":{"protocol":"TCP"}}""")).Status);

        Assert.False(_host.DataPlane.Live[id].ContentCaching);
        Assert.Equal("""{"contentCaching":{"enabled":false}}""", (await api.GetAsync($"/loadbalancers/{id}/contentcaching")).Text);
    }

    [Fact]
    public async Task PutLoadBalancer_WithContentCaching_Is400()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();

        var response = await api.PutAsync($"/loadbalancers/{id}", """{"loadBalancer":{"name":"x","contentCaching":{"enabled":true}}}""");

        Assert.Equal(400, response.Status);
        Assert.Contains(response.Messages, m => m.StartsWith("contentCaching: cannot be changed by PUT /loadbalancers/{id}", StringComparison.Ordinal));
        Assert.False(_host.DataPlane.Live[id].ContentCaching);
    }
}
