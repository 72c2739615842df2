using Tether.Core.Model;

namespace Tether.Management.Tests.Endpoints;

public sealed class HealthMonitorEndpointsTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private const string Connect = """{"healthMonitor":{"type":"CONNECT","delay":10,"timeout":5,"attemptsBeforeDeactivation":3}}""";

    private readonly ApiHost _host = fixture.Host;

    private async Task<(ApiClient Api, int Id)> CreateAsync(string protocol = "HTTP", string? extra = null)
    {
        var api = _host.NewAccount();
        return (api, await api.CreateLoadBalancerAsync(protocol, extra: extra));
    }

    private static string Monitor(string fields) => "{\"healthMonitor\":{" + fields + "}}";

    // ---------------------------------------------------------------- GET

    [Fact]
    public async Task Get_None_ReturnsEmptyObjectAndLoadBalancerHasNoHealthMonitor()
    {
        var (api, id) = await CreateAsync();

        var response = await api.GetAsync($"/loadbalancers/{id}/healthmonitor");

        Assert.Equal(200, response.Status);
        Assert.Equal("""{"healthMonitor":{}}""", response.Text);
        Assert.Null((await api.GetAsync($"/loadbalancers/{id}")).Body!["loadBalancer"]!.AsObject()["healthMonitor"]);
    }

    [Fact]
    public async Task Get_OtherAccountsLoadBalancer_Is404()
    {
        var (_, id) = await CreateAsync();
        var other = _host.NewAccount();

        Assert.Equal(404, (await other.GetAsync($"/loadbalancers/{id}/healthmonitor")).Status);
        Assert.Equal(404, (await other.PutAsync($"/loadbalancers/{id}/healthmonitor", Connect)).Status);
        Assert.Equal(404, (await other.DeleteAsync($"/loadbalancers/{id}/healthmonitor")).Status);
        Assert.Equal(404, (await other.GetAsync($"/loadbalancers/{id}/nodes/events")).Status);
    }

    // ---------------------------------------------------------------- PUT

    [Fact]
    public async Task Put_Connect_Returns202AndGetShowsIt()
    {
        var (api, id) = await CreateAsync();

        var response = await api.PutAsync($"/loadbalancers/{id}/healthmonitor", Connect);

        Assert.Equal(202, response.Status);
        Assert.Null(response.Body);
        Assert.Equal(
            """{"healthMonitor":{"type":"CONNECT","delay":10,"timeout":5,"attemptsBeforeDeactivation":3}}""",
            (await api.GetAsync($"/loadbalancers/{id}/healthmonitor")).Text);
        Assert.Equal(
            new HealthMonitorConfig { Type = HealthMonitorType.Connect, DelaySeconds = 10, TimeoutSeconds = 5, AttemptsBeforeDeactivation = 3 },
            _host.DataPlane.Live[id].HealthMonitor);
    }

    [Fact]
    public async Task Put_HttpEveryField_IsShownInTheDocumentedOrder()
    {
        var (api, id) = await CreateAsync();

        var response = await api.PutAsync($"/loadbalancers/{id}/healthmonitor", Monitor("""
            "hostHeader":"app.example.com","bodyRegex":"^OK","statusRegex":"^2[0-9][0-9]$","path":"/health?full=1",
            "attemptsBeforeDeactivation":2,"timeout":3,"delay":5,"type":"HTTP"
            """));

        Assert.Equal(202, response.Status);
        Assert.Equal(
            """{"healthMonitor":{"type":"HTTP","delay":5,"timeout":3,"attemptsBeforeDeactivation":2,"path":"/health?full=1","statusRegex":"^2[0-9][0-9]$","bodyRegex":"^OK","hostHeader":"app.example.com"}}""",
            (await api.GetAsync($"/loadbalancers/{id}/healthmonitor")).Text);
    }

    [Fact]
    public async Task Put_HttpWithOnlyPath_OmitsUnsetFieldsAndUsesTheDefaultStatusRegex()
    {
        var (api, id) = await CreateAsync();

        await api.PutAsync($"/loadbalancers/{id}/healthmonitor",
            Monitor("\"type\":\"HTTP\",\"delay\":5,\"timeout\":3,\"attemptsBeforeDeactivation\":2,\"path\":\"/\""));

        Assert.Equal(
            """{"healthMonitor":{"type":"HTTP","delay":5,"timeout":3,"attemptsBeforeDeactivation":2,"path":"/"}}""",
            (await api.GetAsync($"/loadbalancers/{id}/healthmonitor")).Text);
        Assert.Equal("^[234][0-9][0-9]$", _host.DataPlane.Live[id].HealthMonitor!.EffectiveStatusRegex);
    }

    [Fact]
    public async Task Put_WithoutRootKey_IsAccepted()
    {
        var (api, id) = await CreateAsync();

        var response = await api.PutAsync($"/loadbalancers/{id}/healthmonitor",
            """{"type":"CONNECT","delay":1,"timeout":1,"attemptsBeforeDeactivation":1}""");

        Assert.Equal(202, response.Status);
        Assert.Equal(1, _host.DataPlane.Live[id].HealthMonitor!.DelaySeconds);
    }

    [Fact]
    public async Task Put_ReplacesThePreviousMonitor()
    {
        var (api, id) = await CreateAsync();
        await api.PutAsync($"/loadbalancers/{id}/healthmonitor",
            Monitor("\"type\":\"HTTP\",\"delay\":5,\"timeout\":3,\"attemptsBeforeDeactivation\":2,\"path\":\"/h\",\"bodyRegex\":\"OK\""));

        var response = await api.PutAsync($"/loadbalancers/{id}/healthmonitor", Connect);

        Assert.Equal(202, response.Status);
        Assert.Equal(
            """{"healthMonitor":{"type":"CONNECT","delay":10,"timeout":5,"attemptsBeforeDeactivation":3}}""",
            (await api.GetAsync($"/loadbalancers/{id}/healthmonitor")).Text);
    }

    [Fact]
    public async Task Put_RangesAtTheirLimits_AreAccepted()
    {
        var (api, id) = await CreateAsync();

        Assert.Equal(202, (await api.PutAsync($"/loadbalancers/{id}/healthmonitor",
            Monitor("\"type\":\"CONNECT\",\"delay\":3600,\"timeout\":300,\"attemptsBeforeDeactivation\":10"))).Status);
        Assert.Equal(202, (await api.PutAsync($"/loadbalancers/{id}/healthmonitor",
            Monitor("\"type\":\"CONNECT\",\"delay\":1,\"timeout\":1,\"attemptsBeforeDeactivation\":1"))).Status);
    }

    [Fact]
    public async Task Put_OutOfRange_NamesEveryFieldAndItsRange()
    {
        var (api, id) = await CreateAsync();

        var response = await api.PutAsync($"/loadbalancers/{id}/healthmonitor",
            Monitor("\"type\":\"CONNECT\",\"delay\":0,\"timeout\":301,\"attemptsBeforeDeactivation\":11"));

        Assert.Equal(400, response.Status);
        Assert.Equal("Validation Failure", response.Body!["message"]!.GetValue<string>());
        Assert.Equal("The object is not valid", response.Body!["details"]!.GetValue<string>());
        Assert.Equal(
            [
                "delay: must be from 1 to 3600 seconds (got 0)",
                "timeout: must be from 1 to 300 seconds (got 301)",
                "attemptsBeforeDeactivation: must be from 1 to 10 (got 11)",
            ],
            response.Messages);
        Assert.Null(_host.DataPlane.Live[id].HealthMonitor);
    }

    [Fact]
    public async Task Put_Empty_ListsEveryRequiredField()
    {
        var (api, id) = await CreateAsync();

        var response = await api.PutAsync($"/loadbalancers/{id}/healthmonitor", "{\"healthMonitor\":{}}");

        Assert.Equal(400, response.Status);
        Assert.Equal(
            [
                "type: is required (CONNECT, HTTP or HTTPS)",
                "delay: is required (1 to 3600 seconds)",
                "timeout: is required (1 to 300 seconds)",
                "attemptsBeforeDeactivation: is required (1 to 10)",
            ],
            response.Messages);
    }

    [Fact]
    public async Task Put_WrongJsonTypes_AreReportedOnceEach()
    {
        var (api, id) = await CreateAsync();

        var response = await api.PutAsync($"/loadbalancers/{id}/healthmonitor",
            Monitor("\"type\":\"CONNECT\",\"delay\":\"10\",\"timeout\":1.5,\"attemptsBeforeDeactivation\":2"));

        Assert.Equal(400, response.Status);
        Assert.Equal(["delay: must be an integer", "timeout: must be a whole number within the 32-bit integer range"], response.Messages);
    }

    [Fact]
    public async Task Put_UnknownType_Is400()
    {
        var (api, id) = await CreateAsync();

        var response = await api.PutAsync($"/loadbalancers/{id}/healthmonitor",
            Monitor("\"type\":\"PING\",\"delay\":1,\"timeout\":1,\"attemptsBeforeDeactivation\":1"));

        Assert.Equal(400, response.Status);
        Assert.Equal(["type: must be one of CONNECT, HTTP, HTTPS (got 'PING')"], response.Messages);
    }

    [Fact]
    public async Task Put_ConnectWithHttpFields_RejectsEachField()
    {
        var (api, id) = await CreateAsync();

        var response = await api.PutAsync($"/loadbalancers/{id}/healthmonitor", Monitor(
            "\"type\":\"CONNECT\",\"delay\":1,\"timeout\":1,\"attemptsBeforeDeactivation\":1,\"path\":\"/\",\"statusRegex\":\"2\",\"bodyRegex\":\"x\",\"hostHeader\":\"h\""));

        Assert.Equal(400, response.Status);
        Assert.Equal(
            ["path", "statusRegex", "bodyRegex", "hostHeader"],
            response.Messages.Select(m => m[..m.IndexOf(':', StringComparison.Ordinal)]));
        Assert.All(response.Messages, m => Assert.EndsWith("is allowed only for HTTP and HTTPS monitors (a CONNECT monitor only opens a TCP connection)", m, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("", "path: is required for HTTP and HTTPS monitors (the path to GET, starting with '/')")]
    [InlineData(",\"path\":\"health\"", "path: must start with '/' and hold only visible ASCII characters (percent-encode others), at most 2048 characters (got 'health')")]
    [InlineData(",\"path\":\"/a b\"", "path: must start with '/' and hold only visible ASCII characters (percent-encode others), at most 2048 characters (got '/a b')")]
    [InlineData(",\"path\":\"/\",\"statusRegex\":\"([\"", "statusRegex: is not a valid regular expression")]
    [InlineData(",\"path\":\"/\",\"bodyRegex\":\"*OK\"", "bodyRegex: is not a valid regular expression")]
    [InlineData(",\"path\":\"/\",\"bodyRegex\":\"\"", "bodyRegex: must be a regular expression of 1 to 1024 characters (got 0)")]
    [InlineData(",\"path\":\"/\",\"hostHeader\":\"bad host\"", "hostHeader: must be a host name or IP address with an optional ':port', at most 260 characters (got 'bad host')")]
    [InlineData(",\"path\":\"/\",\"hostHeader\":\"example.com:\"", "hostHeader: must be a host name or IP address with an optional ':port'")]
    [InlineData(",\"path\":\"/\",\"hostHeader\":\"example.com/x\"", "hostHeader: must be a host name or IP address with an optional ':port'")]
    [InlineData(",\"path\":\"/\",\"hostHeader\":\"example.com:99999\"", "hostHeader: must be a host name or IP address with an optional ':port'")]
    public async Task Put_InvalidHttpField_Is400NamingTheField(string fields, string expected)
    {
        var (api, id) = await CreateAsync();

        var response = await api.PutAsync($"/loadbalancers/{id}/healthmonitor",
            Monitor("\"type\":\"HTTP\",\"delay\":1,\"timeout\":1,\"attemptsBeforeDeactivation\":1" + fields));

        Assert.Equal(400, response.Status);
        var message = Assert.Single(response.Messages);
        Assert.StartsWith(expected, message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("example.com")]
    [InlineData("example.com:8080")]
    [InlineData("10.1.2.3")]
    [InlineData("[2001:db8::1]:443")]
    [InlineData("localhost")]
    public async Task Put_ValidHostHeader_IsAccepted(string host)
    {
        var (api, id) = await CreateAsync();

        var response = await api.PutAsync($"/loadbalancers/{id}/healthmonitor",
            Monitor($"\"type\":\"HTTP\",\"delay\":1,\"timeout\":1,\"attemptsBeforeDeactivation\":1,\"path\":\"/\",\"hostHeader\":\"{host}\""));

        Assert.Equal(202, response.Status);
        Assert.Equal(host, _host.DataPlane.Live[id].HealthMonitor!.HostHeader);
    }

    [Theory]
    [InlineData("UDP")]
    [InlineData("UDP_STREAM")]
    [InlineData("DNS_UDP")]
    public async Task Put_OnUdpLoadBalancer_Is400(string protocol)
    {
        var (api, id) = await CreateAsync(protocol);

        var response = await api.PutAsync($"/loadbalancers/{id}/healthmonitor", Connect);

        Assert.Equal(400, response.Status);
        Assert.Equal(
            [$"healthMonitor: health monitors are not supported on UDP load balancers (DNS_UDP, UDP, UDP_STREAM), as on Rackspace (this one is {protocol})"],
            response.Messages);
    }

    [Theory]
    [InlineData("HTTP", "TCP", "type: an HTTP monitor needs an HTTP load balancer (this one is TCP); use CONNECT")]
    [InlineData("HTTP", "HTTPS", "type: an HTTP monitor needs an HTTP load balancer (this one is HTTPS); use CONNECT")]
    [InlineData("HTTPS", "HTTP", "type: an HTTPS monitor needs an HTTPS load balancer (this one is HTTP); use CONNECT")]
    public async Task Put_HttpTypeNotMatchingProtocol_Is400(string type, string protocol, string expected)
    {
        var (api, id) = await CreateAsync(protocol);

        var response = await api.PutAsync($"/loadbalancers/{id}/healthmonitor",
            Monitor($"\"type\":\"{type}\",\"delay\":1,\"timeout\":1,\"attemptsBeforeDeactivation\":1,\"path\":\"/\""));

        Assert.Equal(400, response.Status);
        Assert.Equal([expected], response.Messages);
    }

    [Theory]
    [InlineData("HTTPS", "HTTPS")]
    [InlineData("CONNECT", "TCP")]
    [InlineData("CONNECT", "HTTPS")]
    public async Task Put_TypeFittingProtocol_Is202(string type, string protocol)
    {
        var (api, id) = await CreateAsync(protocol);
        var path = type == "CONNECT" ? "" : ",\"path\":\"/\"";

        var response = await api.PutAsync($"/loadbalancers/{id}/healthmonitor",
            Monitor($"\"type\":\"{type}\",\"delay\":1,\"timeout\":1,\"attemptsBeforeDeactivation\":1{path}"));

        Assert.Equal(202, response.Status);
    }

    [Fact]
    public async Task Put_NotJson_Is400()
    {
        var (api, id) = await CreateAsync();

        var response = await api.PutAsync($"/loadbalancers/{id}/healthmonitor", "{type:");

        Assert.Equal(400, response.Status);
        Assert.Equal("The request body is not valid JSON.", response.Body!["message"]!.GetValue<string>());
    }

    // ---------------------------------------------------------------- DELETE

    [Fact]
    public async Task Delete_Existing_Returns202AndRemovesIt()
    {
        var (api, id) = await CreateAsync();
        await api.PutAsync($"/loadbalancers/{id}/healthmonitor", Connect);

        var response = await api.DeleteAsync($"/loadbalancers/{id}/healthmonitor");

        Assert.Equal(202, response.Status);
        Assert.Equal("""{"healthMonitor":{}}""", (await api.GetAsync($"/loadbalancers/{id}/healthmonitor")).Text);
        Assert.Null(_host.DataPlane.Live[id].HealthMonitor);
    }

    [Fact]
    public async Task Delete_None_Is422()
    {
        var (api, id) = await CreateAsync();

        var response = await api.DeleteAsync($"/loadbalancers/{id}/healthmonitor");

        Assert.Equal(422, response.Status);
        Assert.Equal($"No health monitor found to delete on Load Balancer '{id}'.", response.Body!["message"]!.GetValue<string>());
    }

    // ---------------------------------------------------------------- load balancer create and update

    [Fact]
    public async Task CreateLoadBalancer_WithHealthMonitor_IsLiveAndShown()
    {
        var api = _host.NewAccount();

        var id = await api.CreateLoadBalancerAsync(extra:
            "\"healthMonitor\":{\"type\":\"HTTP\",\"delay\":2,\"timeout\":1,\"attemptsBeforeDeactivation\":3,\"path\":\"/health\"}");

        var body = (await api.GetAsync($"/loadbalancers/{id}")).Body!["loadBalancer"]!;
        Assert.Equal(
            """{"type":"HTTP","delay":2,"timeout":1,"attemptsBeforeDeactivation":3,"path":"/health"}""",
            body["healthMonitor"]!.ToJsonString());
        Assert.Equal("/health", _host.DataPlane.Live[id].HealthMonitor!.Path);
    }

    [Fact]
    public async Task CreateLoadBalancer_WithInvalidHealthMonitor_Is400WithPrefixedPaths()
    {
        var api = _host.NewAccount();

        var response = await api.PostAsync("/loadbalancers", ApiClient.LoadBalancerBody("HTTP", ApiHost.NextPort(),
            "\"healthMonitor\":{\"type\":\"HTTP\",\"delay\":0,\"timeout\":1,\"attemptsBeforeDeactivation\":1}"));

        Assert.Equal(400, response.Status);
        Assert.Equal(
            [
                "healthMonitor.delay: must be from 1 to 3600 seconds (got 0)",
                "healthMonitor.path: is required for HTTP and HTTPS monitors (the path to GET, starting with '/')",
            ],
            response.Messages);
    }

    [Fact]
    public async Task CreateLoadBalancer_UdpWithHealthMonitor_Is400()
    {
        var api = _host.NewAccount();

        var response = await api.PostAsync("/loadbalancers", ApiClient.LoadBalancerBody("UDP", ApiHost.NextPort(),
            "\"healthMonitor\":{\"type\":\"CONNECT\",\"delay\":1,\"timeout\":1,\"attemptsBeforeDeactivation\":1}"));

        Assert.Equal(400, response.Status);
        Assert.Contains(response.Messages, m => m.StartsWith("healthMonitor: health monitors are not supported on UDP load balancers", StringComparison.Ordinal));
    }

    [Fact]
    public async Task UpdateLoadBalancer_HealthMonitorField_IsRejected()
    {
        var (api, id) = await CreateAsync();

        var response = await api.PutAsync($"/loadbalancers/{id}", """{"loadBalancer":{"name":"x","healthMonitor":{"type":"CONNECT"}}}""");

        Assert.Equal(400, response.Status);
        Assert.Contains(response.Messages, m => m.StartsWith("healthMonitor: cannot be changed by PUT /loadbalancers/{id}", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("UDP", "protocol: UDP does not fit the load balancer's CONNECT health monitor: health monitors are not supported on UDP load balancers (DNS_UDP, UDP, UDP_STREAM), as on Rackspace; change or delete the health monitor first")]
    [InlineData("TCP", null)]
    public async Task UpdateLoadBalancer_ProtocolChangeWithConnectMonitor_IsCheckedAgainstTheMonitor(string protocol, string? expected)
    {
        var (api, id) = await CreateAsync();
        await api.PutAsync($"/loadbalancers/{id}/healthmonitor", Connect);

        var response = await api.PutAsync($"/loadbalancers/{id}", $"{{\"loadBalancer\":{{\"protocol\":\"{protocol}\"}}}}");

        if (expected is null)
        {
            Assert.Equal(202, response.Status);
        }
        else
        {
            Assert.Equal(400, response.Status);
            Assert.Equal([expected], response.Messages);
        }
    }

    [Fact]
    public async Task UpdateLoadBalancer_HttpMonitorAndProtocolToTcp_Is400()
    {
        var (api, id) = await CreateAsync();
        await api.PutAsync($"/loadbalancers/{id}/healthmonitor",
            Monitor("\"type\":\"HTTP\",\"delay\":1,\"timeout\":1,\"attemptsBeforeDeactivation\":1,\"path\":\"/\""));

        var response = await api.PutAsync($"/loadbalancers/{id}", """{"loadBalancer":{"protocol":"TCP"}}""");

        Assert.Equal(400, response.Status);
        Assert.Equal(
            ["protocol: TCP does not fit the load balancer's HTTP health monitor: an HTTP monitor needs an HTTP load balancer; change or delete the health monitor first"],
            response.Messages);
    }

    // ---------------------------------------------------------------- events without a live runtime

    [Fact]
    public async Task GetNodeEvents_WithoutRuntime_IsAnEmptyList()
    {
        var (api, id) = await CreateAsync();

        var response = await api.GetAsync($"/loadbalancers/{id}/nodes/events");

        Assert.Equal(200, response.Status);
        Assert.Equal("""{"nodeServiceEvents":[],"links":[]}""", response.Text);
    }
}
