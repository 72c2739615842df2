using Tether.Core.Model;

namespace Tether.Management.Tests.Endpoints;

/// <summary>The access list, connection throttle, error page and connection logging resources (issue 6; Rackspace v1.0
/// shapes and codes): every validation rule, every success code, storage, the data plane and the GET representation.</summary>
public sealed class AccessControlEndpointsTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private readonly ApiHost _host = fixture.Host;

    [Fact]
    public async Task AccessList_PostGetDelete_FollowsRackspaceShapesAndCodes()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();
        Assert.Equal("""{"accessList":[]}""", (await api.GetAsync($"/loadbalancers/{id}/accesslist")).Text);

        var post = await api.PostAsync($"/loadbalancers/{id}/accesslist",
            """{"accessList":[{"address":"10.0.0.0/8","type":"DENY"},{"address":"10.1.2.3","type":"ALLOW"},{"address":"2001:DB8::/32","type":"DENY"}]}""");
        Assert.Equal(202, post.Status);

        var get = await api.GetAsync($"/loadbalancers/{id}/accesslist");
        Assert.Equal(200, get.Status);
        var items = get.Body!["accessList"]!.AsArray();
        Assert.Equal(3, items.Count);
        Assert.Equal("10.0.0.0/8", items[0]!["address"]!.GetValue<string>());
        Assert.Equal("DENY", items[0]!["type"]!.GetValue<string>());
        Assert.Equal("2001:db8::/32", items[2]!["address"]!.GetValue<string>());
        Assert.Equal(["address", "id", "type"], items[0]!.AsObject().Select(p => p.Key));
        var ids = items.Select(i => i!["id"]!.GetValue<int>()).ToList();

        var lb = (await api.GetAsync($"/loadbalancers/{id}")).Body!["loadBalancer"]!;
        Assert.Equal(3, lb["accessList"]!.AsArray().Count);
        Assert.Equal(3, _host.DataPlane.Applied.Last(c => c.Id == id).AccessList.Length);

        Assert.Equal(202, (await api.DeleteAsync($"/loadbalancers/{id}/accesslist/{ids[1]}")).Status);
        Assert.Equal(2, (await api.GetAsync($"/loadbalancers/{id}/accesslist")).Body!["accessList"]!.AsArray().Count);
        Assert.Equal(202, (await api.DeleteAsync($"/loadbalancers/{id}/accesslist?id={ids[0]}&id={ids[2]}")).Status);
        Assert.Empty((await api.GetAsync($"/loadbalancers/{id}/accesslist")).Body!["accessList"]!.AsArray());
        Assert.Null((await api.GetAsync($"/loadbalancers/{id}")).Body!["loadBalancer"]!["accessList"]);
    }

    [Fact]
    public async Task AccessList_DeleteWithoutIds_RemovesEveryItem()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();
        await api.PostAsync($"/loadbalancers/{id}/accesslist", """[{"address":"192.0.2.0/24","type":"DENY"},{"address":"0.0.0.0/0","type":"DENY"}]""");

        Assert.Equal(202, (await api.DeleteAsync($"/loadbalancers/{id}/accesslist")).Status);

        Assert.Empty((await api.GetAsync($"/loadbalancers/{id}/accesslist")).Body!["accessList"]!.AsArray());
        Assert.Empty(_host.Store.LoadAll().Single(c => c.Id == id).AccessList);
    }

    [Theory]
    [InlineData("""{"accessList":[{"address":"10.0.0.300","type":"DENY"}]}""", "accessList[0].address: '10.0.0.300' is not an IPv4 or IPv6 address or CIDR network")]
    [InlineData("""{"accessList":[{"address":"10.0.0.0/33","type":"DENY"}]}""", "accessList[0].address: '10.0.0.0/33': the prefix length must be from 0 to 32")]
    [InlineData("""{"accessList":[{"address":"2001:db8::/129","type":"DENY"}]}""", "accessList[0].address: '2001:db8::/129': the prefix length must be from 0 to 128")]
    [InlineData("""{"accessList":[{"address":"10.1.0.0/8","type":"DENY"}]}""", "accessList[0].address: '10.1.0.0/8': the address has bits set beyond the /8 prefix (the network is 10.0.0.0/8)")]
    [InlineData("""{"accessList":[{"address":"example.com","type":"DENY"}]}""", "accessList[0].address: 'example.com' is not an IPv4 or IPv6 address or CIDR network")]
    [InlineData("""{"accessList":[{"type":"DENY"}]}""", "accessList[0].address: required (an IPv4 or IPv6 address or CIDR network)")]
    [InlineData("""{"accessList":[{"address":"10.0.0.1"}]}""", "accessList[0].type: required (ALLOW or DENY)")]
    [InlineData("""{"accessList":[{"address":"10.0.0.1","type":"REJECT"}]}""", "accessList[0].type: must be ALLOW or DENY (got 'REJECT')")]
    [InlineData("""{"accessList":[{"address":10,"type":"DENY"}]}""", "accessList[0].address: must be a string")]
    [InlineData("""{"accessList":[]}""", "accessList: give at least one network item")]
    [InlineData("""{"accessList":{}}""", "accessList: give the network items as {\"accessList\":[{\"address\":\"10.0.0.0/8\",\"type\":\"DENY\"}]}")]
    [InlineData("""{"accessList":[{"address":"10.0.0.1","type":"DENY"},{"address":"10.0.0.1/32","type":"ALLOW"}]}""", "accessList[1].address: 10.0.0.1/32 is already in the access list (an address or network may appear once)")]
    public async Task AccessList_PostInvalidItem_Returns400WithReason(string body, string message)
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();

        var response = await api.PostAsync($"/loadbalancers/{id}/accesslist", body);

        Assert.Equal(400, response.Status);
        Assert.Contains(message, response.Messages);
        Assert.Empty(_host.Store.LoadAll().Single(c => c.Id == id).AccessList);
    }

    [Fact]
    public async Task AccessList_PostAddressAlreadyListed_Returns400()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();
        Assert.Equal(202, (await api.PostAsync($"/loadbalancers/{id}/accesslist", """{"accessList":[{"address":"10.0.0.0/8","type":"DENY"}]}""")).Status);

        var response = await api.PostAsync($"/loadbalancers/{id}/accesslist", """{"accessList":[{"address":"10.0.0.0/8","type":"ALLOW"}]}""");

        Assert.Equal(400, response.Status);
        Assert.Contains("accessList[0].address: 10.0.0.0/8 is already in the access list (an address or network may appear once)", response.Messages);
    }

    [Fact]
    public async Task AccessList_PostPastHundredItems_Returns413()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();
        var ninety = string.Join(',', Enumerable.Range(0, 90).Select(i => $$"""{"address":"10.0.{{i}}.0/24","type":"DENY"}"""));
        Assert.Equal(202, (await api.PostAsync($"/loadbalancers/{id}/accesslist", "[" + ninety + "]")).Status);
        var eleven = string.Join(',', Enumerable.Range(0, 11).Select(i => $$"""{"address":"10.1.{{i}}.0/24","type":"DENY"}"""));

        var response = await api.PostAsync($"/loadbalancers/{id}/accesslist", "[" + eleven + "]");

        Assert.Equal(413, response.Status);
        Assert.Contains("ACCESS_LIST_LIMIT", response.Body!["message"]!.GetValue<string>());
        Assert.Equal(90, _host.Store.LoadAll().Single(c => c.Id == id).AccessList.Length);
        var ten = string.Join(',', Enumerable.Range(0, 10).Select(i => $$"""{"address":"10.1.{{i}}.0/24","type":"DENY"}"""));
        Assert.Equal(202, (await api.PostAsync($"/loadbalancers/{id}/accesslist", "[" + ten + "]")).Status);
    }

    [Fact]
    public async Task AccessList_DeleteUnknownItem_Returns404AndDeletesNothing()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();
        await api.PostAsync($"/loadbalancers/{id}/accesslist", """[{"address":"10.0.0.0/8","type":"DENY"}]""");
        var itemId = (await api.GetAsync($"/loadbalancers/{id}/accesslist")).Body!["accessList"]![0]!["id"]!.GetValue<int>();

        var single = await api.DeleteAsync($"/loadbalancers/{id}/accesslist/999999");
        var bulk = await api.DeleteAsync($"/loadbalancers/{id}/accesslist?id={itemId}&id=999999");
        var badId = await api.DeleteAsync($"/loadbalancers/{id}/accesslist?id=abc");

        Assert.Equal(404, single.Status);
        Assert.Equal("Network item not found", single.Body!["message"]!.GetValue<string>());
        Assert.Equal(404, bulk.Status);
        Assert.Equal(400, badId.Status);
        Assert.Single(_host.Store.LoadAll().Single(c => c.Id == id).AccessList);
    }

    [Fact]
    public async Task AccessList_OnUdpLoadBalancer_Returns400()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync("UDP");

        var response = await api.PostAsync($"/loadbalancers/{id}/accesslist", """[{"address":"10.0.0.0/8","type":"DENY"}]""");

        Assert.Equal(400, response.Status);
        Assert.Contains("accessList: access lists are not available for UDP-based protocols (DNS_UDP, UDP, UDP_STREAM); this load balancer is UDP", response.Messages);
    }

    [Fact]
    public async Task AccessList_OtherAccount_Returns404()
    {
        var owner = _host.NewAccount();
        var other = _host.NewAccount();
        var id = await owner.CreateLoadBalancerAsync();

        Assert.Equal(404, (await other.GetAsync($"/loadbalancers/{id}/accesslist")).Status);
        Assert.Equal(404, (await other.PostAsync($"/loadbalancers/{id}/accesslist", """[{"address":"10.0.0.0/8","type":"DENY"}]""")).Status);
        Assert.Equal(404, (await other.DeleteAsync($"/loadbalancers/{id}/accesslist")).Status);
        Assert.Equal(404, (await other.GetAsync($"/loadbalancers/{id}/connectionthrottle")).Status);
        Assert.Equal(404, (await other.PutAsync($"/loadbalancers/{id}/errorpage", """{"errorpage":{"content":"x"}}""")).Status);
        Assert.Equal(404, (await other.PutAsync($"/loadbalancers/{id}/connectionlogging", """{"connectionLogging":{"enabled":true}}""")).Status);
    }

    [Fact]
    public async Task ConnectionThrottle_PutGetDelete_FollowsRackspaceShapesAndCodes()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();
        Assert.Equal("""{"connectionThrottle":{}}""", (await api.GetAsync($"/loadbalancers/{id}/connectionthrottle")).Text);

        var put = await api.PutAsync($"/loadbalancers/{id}/connectionthrottle",
            """{"connectionThrottle":{"maxConnections":10,"minConnections":5,"maxConnectionRate":50,"rateInterval":60}}""");
        Assert.Equal(202, put.Status);
        Assert.Equal("""{"connectionThrottle":{"maxConnections":10,"minConnections":5,"maxConnectionRate":50,"rateInterval":60}}""",
            (await api.GetAsync($"/loadbalancers/{id}/connectionthrottle")).Text);

        Assert.Equal(202, (await api.PutAsync($"/loadbalancers/{id}/connectionthrottle", """{"maxConnections":20}""")).Status);
        var throttle = (await api.GetAsync($"/loadbalancers/{id}")).Body!["loadBalancer"]!["connectionThrottle"]!;
        Assert.Equal(20, throttle["maxConnections"]!.GetValue<int>());
        Assert.Equal(5, throttle["minConnections"]!.GetValue<int>());
        Assert.Equal(20, _host.Store.LoadAll().Single(c => c.Id == id).ConnectionThrottle!.MaxConnections);

        Assert.Equal(202, (await api.DeleteAsync($"/loadbalancers/{id}/connectionthrottle")).Status);
        Assert.Equal("""{"connectionThrottle":{}}""", (await api.GetAsync($"/loadbalancers/{id}/connectionthrottle")).Text);
        Assert.Null(_host.DataPlane.Applied.Last(c => c.Id == id).ConnectionThrottle);
    }

    [Theory]
    [InlineData("""{"connectionThrottle":{"maxConnections":-1}}""", "maxConnections: must be from 0 to 100000 (0 = no limit; got -1)")]
    [InlineData("""{"connectionThrottle":{"maxConnections":100001}}""", "maxConnections: must be from 0 to 100000 (0 = no limit; got 100001)")]
    [InlineData("""{"connectionThrottle":{"minConnections":1001}}""", "minConnections: must be from 0 to 1000 (legacy, not enforced; got 1001)")]
    [InlineData("""{"connectionThrottle":{"maxConnectionRate":100001}}""", "maxConnectionRate: must be from 0 to 100000 (legacy, not enforced; got 100001)")]
    [InlineData("""{"connectionThrottle":{"rateInterval":0}}""", "rateInterval: must be from 1 to 3600 (seconds; legacy, not enforced; got 0)")]
    [InlineData("""{"connectionThrottle":{"rateInterval":3601}}""", "rateInterval: must be from 1 to 3600 (seconds; legacy, not enforced; got 3601)")]
    [InlineData("""{"connectionThrottle":{}}""", "connectionThrottle: give at least one of maxConnections, minConnections, maxConnectionRate, rateInterval")]
    [InlineData("""{"connectionThrottle":{"maxConnections":"10"}}""", "connectionThrottle.maxConnections: must be an integer")]
    public async Task ConnectionThrottle_PutInvalid_Returns400WithReason(string body, string message)
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();

        var response = await api.PutAsync($"/loadbalancers/{id}/connectionthrottle", body);

        Assert.Equal(400, response.Status);
        Assert.Contains(message, response.Messages);
        Assert.Null(_host.Store.LoadAll().Single(c => c.Id == id).ConnectionThrottle);
    }

    [Fact]
    public async Task ConnectionThrottle_MaxConnectionsZero_IsAcceptedAsNoLimit()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync("TCP");

        Assert.Equal(202, (await api.PutAsync($"/loadbalancers/{id}/connectionthrottle", """{"maxConnections":0}""")).Status);
        Assert.Equal(0, _host.DataPlane.Applied.Last(c => c.Id == id).ConnectionThrottle!.MaxConnections);
    }

    [Fact]
    public async Task ErrorPage_GetPutDelete_DefaultCustomDefault()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();
        var get = await api.GetAsync($"/loadbalancers/{id}/errorpage");
        Assert.Equal(200, get.Status);
        Assert.Equal(ErrorPages.Default, get.Body!["errorpage"]!["content"]!.GetValue<string>());

        var put = await api.PutAsync($"/loadbalancers/{id}/errorpage", """{"errorpage":{"content":"<html>sorry</html>"}}""");
        Assert.Equal(200, put.Status);
        Assert.Equal("<html>sorry</html>", (await api.GetAsync($"/loadbalancers/{id}/errorpage")).Body!["errorpage"]!["content"]!.GetValue<string>());
        Assert.Equal("<html>sorry</html>", _host.Store.LoadAll().Single(c => c.Id == id).ErrorPage);

        Assert.Equal(200, (await api.DeleteAsync($"/loadbalancers/{id}/errorpage")).Status);
        Assert.Equal(ErrorPages.Default, (await api.GetAsync($"/loadbalancers/{id}/errorpage")).Body!["errorpage"]!["content"]!.GetValue<string>());
        Assert.Null(_host.DataPlane.Applied.Last(c => c.Id == id).ErrorPage);
    }

    [Fact]
    public async Task ErrorPage_PutAtLimit_Returns200AndOverLimit_Returns400()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();

        var atLimit = await api.PutAsync($"/loadbalancers/{id}/errorpage", "{\"errorpage\":{\"content\":\"" + new string('a', 65536) + "\"}}");
        var over = await api.PutAsync($"/loadbalancers/{id}/errorpage", "{\"errorpage\":{\"content\":\"" + new string('a', 65537) + "\"}}");

        Assert.Equal(200, atLimit.Status);
        Assert.Equal(400, over.Status);
        Assert.Contains("errorpage.content: at most 65536 characters (got 65537)", over.Messages);
    }

    [Theory]
    [InlineData("""{"errorpage":{}}""", "errorpage.content: required (the HTML of the error page)")]
    [InlineData("""{"errorpage":{"content":"  "}}""", "errorpage.content: required (the HTML of the error page)")]
    [InlineData("""{"errorpage":{"content":5}}""", "errorpage.content: must be a string")]
    [InlineData("""{"errorpage":"x"}""", "errorpage: must be an object")]
    public async Task ErrorPage_PutInvalid_Returns400WithReason(string body, string message)
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();

        var response = await api.PutAsync($"/loadbalancers/{id}/errorpage", body);

        Assert.Equal(400, response.Status);
        Assert.Contains(message, response.Messages);
    }

    [Fact]
    public async Task ErrorPage_OnTcpLoadBalancer_Returns400()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync("TCP");

        var response = await api.PutAsync($"/loadbalancers/{id}/errorpage", """{"errorpage":{"content":"<html/>"}}""");

        Assert.Equal(400, response.Status);
        Assert.Contains("errorpage: a custom error page needs an HTTP load balancer; this load balancer is TCP", response.Messages);
    }

    [Fact]
    public async Task ErrorPage_ProtocolChangedToTcp_DefaultPageRestored()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();
        await api.PutAsync($"/loadbalancers/{id}/errorpage", """{"errorpage":{"content":"<html>custom</html>"}}""");

        Assert.Equal(202, (await api.PutAsync($"/loadbalancers/{id}", """{"loadBalancer":{"protocol":"TCP"}}""")).Status);

        Assert.Null(_host.Store.LoadAll().Single(c => c.Id == id).ErrorPage);
    }

    [Fact]
    public async Task ConnectionLogging_PutGet_Returns202AndShowsInLoadBalancer()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();
        Assert.Equal("""{"connectionLogging":{"enabled":false}}""", (await api.GetAsync($"/loadbalancers/{id}/connectionlogging")).Text);

        Assert.Equal(202, (await api.PutAsync($"/loadbalancers/{id}/connectionlogging", """{"connectionLogging":{"enabled":true}}""")).Status);

        Assert.Equal("""{"connectionLogging":{"enabled":true}}""", (await api.GetAsync($"/loadbalancers/{id}/connectionlogging")).Text);
        Assert.Equal("""{"enabled":true}""", (await api.GetAsync($"/loadbalancers/{id}")).Body!["loadBalancer"]!["connectionLogging"]!.ToJsonString());
        Assert.True(_host.DataPlane.Applied.Last(c => c.Id == id).ConnectionLogging);
        Assert.Equal(202, (await api.PutAsync($"/loadbalancers/{id}/connectionlogging", """{"enabled":false}""")).Status);
        Assert.False(_host.Store.LoadAll().Single(c => c.Id == id).ConnectionLogging);
    }

    [Theory]
    [InlineData("""{"connectionLogging":{}}""", "connectionLogging.enabled: required (true or false)")]
    [InlineData("""{"connectionLogging":{"enabled":"yes"}}""", "connectionLogging.enabled: must be true or false")]
    public async Task ConnectionLogging_PutInvalid_Returns400WithReason(string body, string message)
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();

        var response = await api.PutAsync($"/loadbalancers/{id}/connectionlogging", body);

        Assert.Equal(400, response.Status);
        Assert.Contains(message, response.Messages);
    }

    [Fact]
    public async Task ConnectionLogging_EnableOnUdp_Returns400()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync("UDP");

        var response = await api.PutAsync($"/loadbalancers/{id}/connectionlogging", """{"connectionLogging":{"enabled":true}}""");

        Assert.Equal(400, response.Status);
        Assert.Contains("connectionLogging: connection logging is not available for UDP-based protocols (DNS_UDP, UDP, UDP_STREAM); this load balancer is UDP", response.Messages);
        Assert.Equal(202, (await api.PutAsync($"/loadbalancers/{id}/connectionlogging", """{"connectionLogging":{"enabled":false}}""")).Status);
    }

    [Fact]
    public async Task Update_ToUdpWithAccessControl_Returns400()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync("TCP");
        await api.PutAsync($"/loadbalancers/{id}/connectionthrottle", """{"maxConnections":5}""");

        var response = await api.PutAsync($"/loadbalancers/{id}", """{"loadBalancer":{"protocol":"UDP"}}""");

        Assert.Equal(400, response.Status);
        Assert.Contains("protocol: UDP is UDP-based and cannot keep connection logging, an access list or a connection throttle; remove them first", response.Messages);
    }

    [Fact]
    public async Task Storage_RestartHost_KeepsEveryResource()
    {
        using var directory = new TempDirectory();
        int id;
        int account;
        string token;
        await using (var first = await ApiHost.StartAsync(directory.Path))
        {
            var api = first.NewAccount();
            account = api.Account;
            token = api.Token!;
            id = await api.CreateLoadBalancerAsync();
            await api.PostAsync($"/loadbalancers/{id}/accesslist", """[{"address":"10.0.0.0/8","type":"DENY"},{"address":"::1","type":"ALLOW"}]""");
            await api.PutAsync($"/loadbalancers/{id}/connectionthrottle", """{"maxConnections":3,"rateInterval":10}""");
            await api.PutAsync($"/loadbalancers/{id}/errorpage", """{"content":"<p>down</p>"}""");
            await api.PutAsync($"/loadbalancers/{id}/connectionlogging", """{"enabled":true}""");
        }

        await using var second = await ApiHost.StartAsync(directory.Path);
        var config = second.DataPlane.Applied.Last(c => c.Id == id);
        Assert.Equal(["10.0.0.0/8", "::1"], config.AccessList.Select(a => a.Address));
        Assert.Equal(AccessListType.Allow, config.AccessList[1].Type);
        Assert.Equal(new ConnectionThrottleConfig { MaxConnections = 3, RateInterval = 10 }, config.ConnectionThrottle);
        Assert.Equal("<p>down</p>", config.ErrorPage);
        Assert.True(config.ConnectionLogging);
        Assert.Equal(200, (await second.Client(account, token).GetAsync($"/loadbalancers/{id}/accesslist")).Status);
    }
}
