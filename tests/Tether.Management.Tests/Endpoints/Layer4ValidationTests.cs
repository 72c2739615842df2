namespace Tether.Management.Tests.Endpoints;

/// <summary>Validation rules of layer 4 load balancers (issue 5): UDP limits (Rackspace protocols reference), HTTPS
/// pass-through persistence (seed 000), SOURCE_IP on every layer, and two load balancers sharing a virtual IP.</summary>
public sealed class Layer4ValidationTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private readonly ApiHost _host = fixture.Host;

    [Theory]
    [InlineData("UDP")]
    [InlineData("UDP_STREAM")]
    [InlineData("DNS_UDP")]
    public async Task Create_UdpWithHealthMonitorLoggingAndSslTermination_Returns400NamingEach(string protocol)
    {
        var api = _host.NewAccount();
        var response = await api.PostAsync("/loadbalancers", ApiClient.LoadBalancerBody(protocol, ApiHost.NextPort(),
            """
            "healthMonitor":{"type":"CONNECT","delay":10,"timeout":5,"attemptsBeforeDeactivation":2},
            "connectionLogging":{"enabled":true},
            "sslTermination":{"securePort":443,"enabled":true}
            """));

        Assert.Equal(400, response.Status);
        Assert.Equal("Validation Failure", response.Body!["message"]!.GetValue<string>());
        Assert.Contains($"healthMonitor: health monitoring is not available for UDP-based protocols (DNS_UDP, UDP, UDP_STREAM); this load balancer is {protocol}", response.Messages);
        Assert.Contains($"connectionLogging: connection logging is not available for UDP-based protocols (DNS_UDP, UDP, UDP_STREAM); this load balancer is {protocol}", response.Messages);
        Assert.Contains($"sslTermination: SSL termination is not available for UDP-based protocols (DNS_UDP, UDP, UDP_STREAM); this load balancer is {protocol}", response.Messages);
        Assert.DoesNotContain(_host.Store.LoadAll(), c => c.AccountId == api.Account);
    }

    [Fact]
    public async Task Create_UdpWithConnectionLoggingDisabled_Returns202()
    {
        var response = await _host.NewAccount().PostAsync("/loadbalancers", ApiClient.LoadBalancerBody("UDP", ApiHost.NextPort(),
            "\"connectionLogging\":{\"enabled\":false}"));

        Assert.Equal(202, response.Status);
    }

    [Theory]
    [InlineData("TCP")]
    [InlineData("HTTP")]
    public async Task Create_NonUdpWithConnectionLogging_IsNotRejectedByTheUdpRule(string protocol)
    {
        var response = await _host.NewAccount().PostAsync("/loadbalancers", ApiClient.LoadBalancerBody(protocol, ApiHost.NextPort(),
            "\"connectionLogging\":{\"enabled\":true}"));

        Assert.Equal(202, response.Status);
    }

    [Theory]
    [InlineData("HTTP_COOKIE")]
    [InlineData("APP_COOKIE")]
    public async Task Create_CookiePersistenceOnHttpsPassThrough_Returns400SuggestingSslTermination(string type)
    {
        var response = await _host.NewAccount().PostAsync("/loadbalancers", ApiClient.LoadBalancerBody("HTTPS", ApiHost.NextPort(),
            $$"""
            "sessionPersistence":{"persistenceType":"{{type}}","cookieName":"s"}
            """));

        Assert.Equal(400, response.Status);
        Assert.Contains(response.Messages, m => m.StartsWith($"sessionPersistence.persistenceType: {type} is supported on HTTP load balancers only", StringComparison.Ordinal)
            && m.Contains("use SOURCE_IP, or an HTTP load balancer with SSL termination", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("HTTPS", 60, 202)]
    [InlineData("HTTPS", 3600, 202)]
    [InlineData("UDP", 3600, 202)]
    [InlineData("MYSQL", 3601, 400)]
    [InlineData("DNS_UDP", 59, 400)]
    public async Task Create_SourceIpOnLayer4_TimeoutIs60To3600Seconds(string protocol, int timeout, int expected)
    {
        var response = await _host.NewAccount().PostAsync("/loadbalancers", ApiClient.LoadBalancerBody(protocol, ApiHost.NextPort(),
            $$"""
            "sessionPersistence":{"persistenceType":"SOURCE_IP","persistenceTimeout":{{timeout}}}
            """));

        Assert.Equal(expected, response.Status);
    }

    [Theory]
    [InlineData("HTTP")]
    [InlineData("TCP")]
    [InlineData("UDP")]
    public async Task Create_HalfClosed_IsAcceptedOnEveryLayer(string protocol)
    {
        var response = await _host.NewAccount().PostAsync("/loadbalancers", ApiClient.LoadBalancerBody(protocol, ApiHost.NextPort(),
            "\"halfClosed\":true"));

        Assert.Equal(202, response.Status);
        Assert.True(response.Body!["loadBalancer"]!["halfClosed"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Create_SharedVirtualIpSamePortAndTransport_Returns400AndOtherPortsOrUdpAreAccepted()
    {
        var api = _host.NewAccount();
        var port = ApiHost.NextPort();
        var first = await api.CreateLoadBalancerAsync("HTTP", port);
        var vipId = (await api.GetAsync($"/loadbalancers/{first}")).Body!["loadBalancer"]!["virtualIps"]![0]!["id"]!.GetValue<int>();
        string Shared(string protocol, int p) =>
            "{\"loadBalancer\":{\"name\":\"shared\",\"protocol\":\"" + protocol + "\",\"port\":" + p
            + ",\"virtualIps\":[{\"id\":" + vipId + "}],\"nodes\":[{\"address\":\"10.0.0.2\",\"port\":443}]}}";

        var samePort = await api.PostAsync("/loadbalancers", Shared("HTTPS", port));
        var otherPort = await api.PostAsync("/loadbalancers", Shared("HTTPS", ApiHost.NextPort()));
        var udpSamePort = await api.PostAsync("/loadbalancers", Shared("UDP", port));

        Assert.Equal(400, samePort.Status);
        Assert.Contains($"port: {port}/TCP is already used on virtual IP 0.0.0.0 by another load balancer", samePort.Messages);
        Assert.Equal(202, otherPort.Status);
        Assert.Equal(vipId, otherPort.Body!["loadBalancer"]!["virtualIps"]![0]!["id"]!.GetValue<int>());
        Assert.Equal(202, udpSamePort.Status);
    }
}
