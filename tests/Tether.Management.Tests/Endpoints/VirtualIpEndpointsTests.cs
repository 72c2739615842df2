namespace Tether.Management.Tests.Endpoints;

/// <summary><c>/loadbalancers/{id}/virtualips</c> (Rackspace v1.0 "Virtual IPs") and IPV6 virtual IPs at creation.</summary>
public sealed class VirtualIpEndpointsTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private const string AddIpv6 = """{"ipVersion":"IPV6","type":"PUBLIC"}""";

    private readonly ApiHost _host = fixture.Host;

    private static string Body(string fields) => "{\"loadBalancer\":{" + fields + "}}";

    private static string Node => """{"address":"10.0.0.1","port":80}""";

    private static async Task<JsonArray> VipsAsync(ApiClient api, int id)
    {
        var response = await api.GetAsync($"/loadbalancers/{id}/virtualips");
        Assert.Equal(200, response.Status);
        return response.Body!["virtualIps"]!.AsArray();
    }

    private static int IdOf(JsonArray vips, string version) =>
        vips.Single(v => v!["ipVersion"]!.GetValue<string>() == version)!["id"]!.GetValue<int>();

    private int StoredVipCount(int id) => _host.Store.LoadAll().Single(c => c.Id == id).VirtualIps.Length;

    [Fact]
    public async Task Add_Ipv6Public_Returns202WithTheVirtualIpAndTheDataPlaneListensOnBoth()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();

        var response = await api.PostAsync($"/loadbalancers/{id}/virtualips", AddIpv6);

        Assert.Equal(202, response.Status);
        var vip = response.Body!.AsObject();
        Assert.Equal(["id", "address", "type", "ipVersion"], vip.Select(p => p.Key));
        Assert.Equal("::", vip["address"]!.GetValue<string>());
        Assert.Equal("PUBLIC", vip["type"]!.GetValue<string>());
        Assert.Equal("IPV6", vip["ipVersion"]!.GetValue<string>());
        var vips = await VipsAsync(api, id);
        Assert.Equal(2, vips.Count);
        Assert.Equal(vip["id"]!.GetValue<int>(), IdOf(vips, "IPV6"));
        Assert.Equal(["0.0.0.0", "::"], _host.DataPlane.Live[id].VirtualIps.Select(v => v.Address));
        Assert.Equal(2, StoredVipCount(id));
    }

    [Fact]
    public async Task Add_Restart_RestoresBothVirtualIpsAndAuditsTheAdd()
    {
        using var directory = new TempDirectory();
        int id;
        await using (var host = await ApiHost.StartAsync(directory.Path))
        {
            var api = host.NewAccount();
            id = await api.CreateLoadBalancerAsync();
            Assert.Equal(202, (await api.PostAsync($"/loadbalancers/{id}/virtualips", AddIpv6)).Status);
        }

        await using var again = await ApiHost.StartAsync(directory.Path);

        var restored = again.DataPlane.Live[id];
        Assert.Equal(["IPV4", "IPV6"], restored.VirtualIps.Select(v => v.IpVersion));
        Assert.Equal("::", restored.VirtualIps[1].Address);
        var audit = again.Store.ReadAudit(restored.AccountId, null, 10).Select(e => e.Resource).ToList();
        Assert.Contains($"/loadbalancers/{id}/virtualips", audit);
    }

    [Fact]
    public async Task Add_BodyWrappedInVirtualIp_Returns202()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();

        var response = await api.PostAsync($"/loadbalancers/{id}/virtualips", "{\"virtualIp\":" + AddIpv6 + "}");

        Assert.Equal(202, response.Status);
    }

    [Theory]
    [InlineData("""{"ipVersion":"IPV4","type":"PUBLIC"}""", "ipVersion: IPV4 virtual IPs cannot be added after creation")]
    [InlineData("""{"ipVersion":"IPV5","type":"PUBLIC"}""", "ipVersion: must be IPV6 (got 'IPV5')")]
    [InlineData("""{"ipVersion":"IPV6","type":"SERVICENET"}""", "type: a SERVICENET virtual IP is IPV4 only")]
    [InlineData("""{"ipVersion":"IPV6","type":"PRIVATE"}""", "type: must be PUBLIC (got 'PRIVATE')")]
    [InlineData("""{"type":"PUBLIC"}""", "ipVersion: is required and must be IPV6")]
    [InlineData("""{"ipVersion":"IPV6"}""", "type: is required and must be PUBLIC")]
    [InlineData("""{"ipVersion":6,"type":"PUBLIC"}""", "ipVersion: must be a string")]
    [InlineData("""{"ipVersion":"IPV6","type":"PUBLIC","ipversion":"IPV6"}""", "ipversion: unknown field; did you mean ipVersion?")]
    [InlineData("""{"ipVersion":"IPV6","type":"PUBLIC","id":7}""", "id: cannot be given: a new virtual IP gets its id")]
    [InlineData("""{"ipVersion":"IPV6","type":"PUBLIC","address":"::1"}""", "address: cannot be given")]
    public async Task Add_InvalidBody_Returns400WithTheReasonAndChangesNothing(string body, string reason)
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();
        var applied = _host.DataPlane.Applied.Count;

        var response = await api.PostAsync($"/loadbalancers/{id}/virtualips", body);

        Assert.Equal(400, response.Status);
        Assert.Contains(response.Messages, m => m.StartsWith(reason, StringComparison.Ordinal));
        Assert.Single(await VipsAsync(api, id));
        Assert.Equal(1, StoredVipCount(id));
        Assert.Equal(applied, _host.DataPlane.Applied.Count);
    }

    [Theory]
    [InlineData("")]
    [InlineData("[]")]
    [InlineData("{\"ipVersion\":")]
    public async Task Add_MalformedBody_Returns400(string body)
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();

        var response = await api.PostAsync($"/loadbalancers/{id}/virtualips", body);

        Assert.Equal(400, response.Status);
        Assert.Single(await VipsAsync(api, id));
    }

    [Fact]
    public async Task Add_UnknownLoadBalancer_Returns404()
    {
        var response = await _host.NewAccount().PostAsync("/loadbalancers/999999/virtualips", AddIpv6);

        Assert.Equal(404, response.Status);
        Assert.Equal("Load balancer not found", response.Body!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Add_BeyondIpv6Limit_Returns413AndTheLimitIsListed()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();
        Assert.Equal(202, (await api.PostAsync($"/loadbalancers/{id}/virtualips", AddIpv6)).Status);

        var response = await api.PostAsync($"/loadbalancers/{id}/virtualips", AddIpv6);

        Assert.Equal(413, response.Status);
        Assert.StartsWith("IPv6 virtual IP limit reached", response.Body!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(2, (await VipsAsync(api, id)).Count);
        var limits = (await api.GetAsync("/loadbalancers/absolutelimits")).Body!["absolute"]!.AsArray();
        Assert.Equal(1, limits.Single(l => l!["name"]!.GetValue<string>() == "IPV6_LIMIT")!["value"]!.GetValue<int>());
    }

    [Fact]
    public async Task Add_PortUsedOnTheIpv6AddressByAnotherLoadBalancer_Returns400()
    {
        var api = _host.NewAccount();
        var port = ApiHost.NextPort();
        var ipv6 = await api.PostAsync("/loadbalancers", Body($$"""
            "name":"v6","protocol":"HTTP","port":{{port}},"virtualIps":[{"type":"PUBLIC","ipVersion":"IPV6"}],"nodes":[{{Node}}]
            """));
        Assert.Equal(202, ipv6.Status);
        var other = ipv6.Body!["loadBalancer"]!["id"]!.GetValue<int>();
        // 0.0.0.0 and :: do not collide (IPv6-only listeners): an IPv4 load balancer takes the same port.
        var ipv4 = await api.CreateLoadBalancerAsync(port: port);

        var response = await api.PostAsync($"/loadbalancers/{ipv4}/virtualips", AddIpv6);

        Assert.Equal(400, response.Status);
        Assert.Contains($"port: {port}/TCP is already used on :: by load balancer {other}", response.Messages);
        Assert.Single(await VipsAsync(api, ipv4));
    }

    [Fact]
    public async Task Add_BindFails_Returns400AndTheOldConfigurationStaysLiveAndStored()
    {
        var api = _host.NewAccount();
        var port = ApiHost.NextPort();
        var id = await api.CreateLoadBalancerAsync(port: port);
        _host.DataPlane.FailBind("::", port);

        var response = await api.PostAsync($"/loadbalancers/{id}/virtualips", AddIpv6);

        Assert.Equal(400, response.Status);
        Assert.Contains(response.Messages, m => m.Contains($"[::]:{port}: address already in use", StringComparison.Ordinal));
        Assert.Single(_host.DataPlane.Live[id].VirtualIps);
        Assert.Equal(1, StoredVipCount(id));
        Assert.Single(await VipsAsync(api, id));
    }

    [Fact]
    public async Task Delete_OneOfTwo_Returns202AndTheDataPlaneDropsIt()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();
        var added = (await api.PostAsync($"/loadbalancers/{id}/virtualips", AddIpv6)).Body!["id"]!.GetValue<int>();

        var response = await api.DeleteAsync($"/loadbalancers/{id}/virtualips/{added}");

        Assert.Equal(202, response.Status);
        Assert.Equal("", response.Text);
        Assert.Equal("IPV4", Assert.Single(await VipsAsync(api, id))!["ipVersion"]!.GetValue<string>());
        Assert.Equal(["0.0.0.0"], _host.DataPlane.Live[id].VirtualIps.Select(v => v.Address));
        Assert.Equal(1, StoredVipCount(id));
    }

    [Fact]
    public async Task Delete_TheIpv4VirtualIp_LeavesTheIpv6One()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();
        await api.PostAsync($"/loadbalancers/{id}/virtualips", AddIpv6);
        var ipv4 = IdOf(await VipsAsync(api, id), "IPV4");

        var response = await api.DeleteAsync($"/loadbalancers/{id}/virtualips/{ipv4}");

        Assert.Equal(202, response.Status);
        Assert.Equal("IPV6", Assert.Single(await VipsAsync(api, id))!["ipVersion"]!.GetValue<string>());
    }

    [Fact]
    public async Task Delete_LastVirtualIp_Returns400AndKeepsIt()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();
        var only = IdOf(await VipsAsync(api, id), "IPV4");

        var response = await api.DeleteAsync($"/loadbalancers/{id}/virtualips/{only}");

        Assert.Equal(400, response.Status);
        Assert.Contains(response.Messages, m => m.StartsWith("virtualIps: a load balancer must keep at least one virtual IP", StringComparison.Ordinal));
        Assert.Single(await VipsAsync(api, id));
    }

    [Fact]
    public async Task Delete_VirtualIpNotOnThisLoadBalancer_Returns404()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();
        var other = await api.CreateLoadBalancerAsync();
        var foreign = IdOf(await VipsAsync(api, other), "IPV4");

        var response = await api.DeleteAsync($"/loadbalancers/{id}/virtualips/{foreign}");

        Assert.Equal(404, response.Status);
        Assert.Equal("Virtual IP not found", response.Body!["message"]!.GetValue<string>());
        Assert.Single(await VipsAsync(api, other));
    }

    [Fact]
    public async Task Delete_UnknownLoadBalancer_Returns404()
    {
        var api = _host.NewAccount();

        Assert.Equal(404, (await api.DeleteAsync("/loadbalancers/999999/virtualips/1")).Status);
        Assert.Equal(404, (await api.DeleteAsync("/loadbalancers/999999/virtualips?id=1")).Status);
    }

    [Fact]
    public async Task Delete_SharedVirtualIp_RemovesItFromThisLoadBalancerOnly()
    {
        var api = _host.NewAccount();
        var first = await api.CreateLoadBalancerAsync();
        var shared = IdOf(await VipsAsync(api, first), "IPV4");
        var created = await api.PostAsync("/loadbalancers", Body($$"""
            "name":"second","protocol":"TCP","port":{{ApiHost.NextPort()}},
            "virtualIps":[{"id":{{shared}}},{"type":"PUBLIC","ipVersion":"IPV6"}],"nodes":[{{Node}}]
            """));
        Assert.Equal(202, created.Status);
        var second = created.Body!["loadBalancer"]!["id"]!.GetValue<int>();

        var response = await api.DeleteAsync($"/loadbalancers/{second}/virtualips/{shared}");

        Assert.Equal(202, response.Status);
        Assert.Equal("IPV6", Assert.Single(await VipsAsync(api, second))!["ipVersion"]!.GetValue<string>());
        Assert.Equal(shared, Assert.Single(await VipsAsync(api, first))!["id"]!.GetValue<int>());
        Assert.Single(_host.DataPlane.Live[first].VirtualIps);
    }

    [Fact]
    public async Task BulkDelete_OneIdMissing_Returns404AndDeletesNothing()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();
        var added = (await api.PostAsync($"/loadbalancers/{id}/virtualips", AddIpv6)).Body!["id"]!.GetValue<int>();

        var response = await api.DeleteAsync($"/loadbalancers/{id}/virtualips?id={added}&id=999999");

        Assert.Equal(404, response.Status);
        Assert.Contains("999999", response.Body!["details"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(2, (await VipsAsync(api, id)).Count);
    }

    [Fact]
    public async Task BulkDelete_EveryVirtualIp_Returns400AndDeletesNothing()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();
        var added = (await api.PostAsync($"/loadbalancers/{id}/virtualips", AddIpv6)).Body!["id"]!.GetValue<int>();
        var ipv4 = IdOf(await VipsAsync(api, id), "IPV4");

        var response = await api.DeleteAsync($"/loadbalancers/{id}/virtualips?id={ipv4}&id={added}");

        Assert.Equal(400, response.Status);
        Assert.Contains(response.Messages, m => m.StartsWith("virtualIps: a load balancer must keep at least one virtual IP", StringComparison.Ordinal));
        Assert.Equal(2, (await VipsAsync(api, id)).Count);
    }

    [Fact]
    public async Task BulkDelete_ExistingIds_Returns202()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();
        var added = (await api.PostAsync($"/loadbalancers/{id}/virtualips", AddIpv6)).Body!["id"]!.GetValue<int>();

        var response = await api.DeleteAsync($"/loadbalancers/{id}/virtualips?id={added}&id={added}");

        Assert.Equal(202, response.Status);
        Assert.Single(await VipsAsync(api, id));
    }

    [Theory]
    [InlineData("", "id: give the virtual IPs to delete as query parameters")]
    [InlineData("?id=abc", "id: 'abc' is not a positive integer")]
    [InlineData("?id=1&id=2&id=3&id=4&id=5&id=6&id=7&id=8&id=9&id=10&id=11", "id: at most 10 virtual IPs can be deleted at once")]
    public async Task BulkDelete_BadIds_Returns400(string query, string reason)
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();

        var response = await api.DeleteAsync($"/loadbalancers/{id}/virtualips{query}");

        Assert.Equal(400, response.Status);
        Assert.Contains(response.Messages, m => m.StartsWith(reason, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Create_Ipv6Public_Returns202WithOneIpv6VirtualIp()
    {
        var api = _host.NewAccount();

        var response = await api.PostAsync("/loadbalancers", Body($$"""
            "name":"v6","protocol":"HTTP","port":{{ApiHost.NextPort()}},"virtualIps":[{"type":"PUBLIC","ipVersion":"IPV6"}],"nodes":[{{Node}}]
            """));

        Assert.Equal(202, response.Status);
        var vip = Assert.Single(response.Body!["loadBalancer"]!["virtualIps"]!.AsArray())!;
        Assert.Equal("::", vip["address"]!.GetValue<string>());
        Assert.Equal("IPV6", vip["ipVersion"]!.GetValue<string>());
    }

    [Fact]
    public async Task Create_PublicWithoutIpVersion_IsOneIpv4VirtualIp()
    {
        var api = _host.NewAccount();

        var response = await api.PostAsync("/loadbalancers", Body($$"""
            "name":"v4","protocol":"HTTP","port":{{ApiHost.NextPort()}},"virtualIps":[{"type":"PUBLIC"}],"nodes":[{{Node}}]
            """));

        Assert.Equal(202, response.Status);
        var vip = Assert.Single(response.Body!["loadBalancer"]!["virtualIps"]!.AsArray())!;
        Assert.Equal("IPV4", vip["ipVersion"]!.GetValue<string>());
    }

    [Fact]
    public async Task Create_Ipv4AndIpv6_Returns202WithBoth()
    {
        var api = _host.NewAccount();

        var response = await api.PostAsync("/loadbalancers", Body($$"""
            "name":"dual","protocol":"TCP","port":{{ApiHost.NextPort()}},
            "virtualIps":[{"type":"PUBLIC","ipVersion":"IPV4"},{"type":"PUBLIC","ipVersion":"IPV6"}],"nodes":[{{Node}}]
            """));

        Assert.Equal(202, response.Status);
        Assert.Equal(["0.0.0.0", "::"], response.Body!["loadBalancer"]!["virtualIps"]!.AsArray().Select(v => v!["address"]!.GetValue<string>()));
    }

    [Theory]
    [InlineData("""[{"type":"SERVICENET","ipVersion":"IPV6"}]""", "virtualIps[0]: a SERVICENET virtual IP is IPV4 only")]
    [InlineData("""[{"type":"PUBLIC","ipVersion":"IPV7"}]""", "virtualIps[0].ipVersion: must be IPV4 or IPV6 (got 'IPV7')")]
    [InlineData("""[{"type":"PUBLIC","ipVersion":"IPV6"},{"type":"PUBLIC","ipVersion":"IPV6"}]""", "virtualIps: two virtual IPs must be of different ipVersion")]
    public async Task Create_InvalidVirtualIps_Returns400(string vips, string reason)
    {
        var api = _host.NewAccount();

        var response = await api.PostAsync("/loadbalancers", Body($$"""
            "name":"x","protocol":"HTTP","port":{{ApiHost.NextPort()}},"virtualIps":{{vips}},"nodes":[{{Node}}]
            """));

        Assert.Equal(400, response.Status);
        Assert.Contains(response.Messages, m => m.StartsWith(reason, StringComparison.Ordinal));
        Assert.Empty((await api.GetAsync("/loadbalancers")).Body!["loadBalancers"]!.AsArray());
    }

    [Fact]
    public async Task Create_Ipv6PortTakenByAnotherIpv6LoadBalancer_Returns400()
    {
        var api = _host.NewAccount();
        var port = ApiHost.NextPort();
        var v6 = Body($$"""
            "name":"v6","protocol":"HTTP","port":{{port}},"virtualIps":[{"type":"PUBLIC","ipVersion":"IPV6"}],"nodes":[{{Node}}]
            """);
        Assert.Equal(202, (await api.PostAsync("/loadbalancers", v6)).Status);

        var response = await api.PostAsync("/loadbalancers", v6);

        Assert.Equal(400, response.Status);
        Assert.Contains($"port: {port}/TCP is already used on virtual IP :: by another load balancer", response.Messages);
    }
}
