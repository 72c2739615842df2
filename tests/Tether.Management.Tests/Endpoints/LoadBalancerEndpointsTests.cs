using Tether.Core.Model;
using Tether.Management.Storage;

namespace Tether.Management.Tests.Endpoints;

public sealed class LoadBalancerEndpointsTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private readonly ApiHost _host = fixture.Host;

    private static string Body(string fields) => "{\"loadBalancer\":{" + fields + "}}";

    private static string Node(string address = "10.0.0.1", int port = 80) =>
        $$"""{"address":"{{address}}","port":{{port}}}""";

    [Fact]
    public async Task SourceAddresses_NotConfigured_ShowTheSpecificVirtualIpAddressesOnlyAndNotInLists()
    {
        // The fixture's host: PrivateAddress 127.0.0.2, PublicAddress 0.0.0.0 and PublicAddressV6 :: (wildcards).
        var api = _host.NewAccount();
        var created = await api.PostAsync("/loadbalancers", Body($$"""
            "name":"src","protocol":"HTTP","port":{{ApiHost.NextPort()}},"virtualIps":[{"type":"SERVICENET"}],"nodes":[{{Node()}}]
            """));
        var id = created.Body!["loadBalancer"]!["id"]!.GetValue<int>();

        var shown = await api.GetAsync($"/loadbalancers/{id}");
        var list = await api.GetAsync("/loadbalancers");

        Assert.Equal("""{"ipv4Servicenet":"127.0.0.2"}""", created.Body!["loadBalancer"]!["sourceAddresses"]!.ToJsonString());
        Assert.Equal("""{"ipv4Servicenet":"127.0.0.2"}""", shown.Body!["loadBalancer"]!["sourceAddresses"]!.ToJsonString());
        Assert.DoesNotContain("sourceAddresses", list.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SourceAddresses_Configured_AreShownInRackspaceOrder()
    {
        using var directory = new TempDirectory();
        await using var host = await ApiHost.StartAsync(directory.Path, o =>
        {
            o.SourceAddresses.Ipv4Public = "192.0.2.10";
            o.SourceAddresses.Ipv4Servicenet = "10.1.1.1";
            o.SourceAddresses.Ipv6Public = "2001:DB8::0:25";
        });
        var api = host.NewAccount();
        var created = await api.PostAsync("/loadbalancers", Body($$"""
            "name":"src","protocol":"HTTP","port":{{ApiHost.NextPort()}},"virtualIps":[{"type":"SERVICENET"}],"nodes":[{{Node()}}]
            """));

        var shown = await api.GetAsync($"/loadbalancers/{created.Body!["loadBalancer"]!["id"]!.GetValue<int>()}");

        Assert.Equal("""{"ipv6Public":"2001:db8::25","ipv4Servicenet":"10.1.1.1","ipv4Public":"192.0.2.10"}""",
            shown.Body!["loadBalancer"]!["sourceAddresses"]!.ToJsonString());
    }

    [Theory]
    [InlineData("v4", "::1")]
    [InlineData("v4", "not-an-address")]
    [InlineData("v6", "10.0.0.1")]
    public void SourceAddresses_WrongFamilyOrNotAnAddress_IsRefusedAtStart(string which, string value)
    {
        using var directory = new TempDirectory();
        var options = new ManagementOptions { DataDirectory = directory.Path };
        if (which == "v4")
        {
            options.SourceAddresses.Ipv4Public = value;
        }
        else
        {
            options.SourceAddresses.Ipv6Public = value;
        }

        var error = Assert.Throws<ArgumentException>(() => new Microsoft.Extensions.DependencyInjection.ServiceCollection().AddTetherManagement(options));

        Assert.Contains($"ManagementOptions.SourceAddresses.{(which == "v4" ? "Ipv4Public" : "Ipv6Public")} must be an", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_WithRootKey_Returns202AndTheRackspaceShape()
    {
        var api = _host.NewAccount();
        var port = ApiHost.NextPort();

        var response = await api.PostAsync("/loadbalancers", Body($$"""
            "name":"web","protocol":"HTTP","port":{{port}},"virtualIps":[{"type":"PUBLIC"}],
            "nodes":[{"address":"10.0.0.1","port":8080,"condition":"ENABLED"}]
            """));

        Assert.Equal(202, response.Status);
        var lb = response.Body!["loadBalancer"]!.AsObject();
        Assert.Equal(
            ["id", "name", "protocol", "port", "algorithm", "status", "timeout", "halfClosed", "httpsRedirect", "cluster",
             "sourceAddresses", "virtualIps", "nodes", "nodeCount", "connectionLogging", "contentCaching", "metadata", "created", "updated"],
            lb.Select(p => p.Key).ToArray());
        Assert.Equal("web", lb["name"]!.GetValue<string>());
        Assert.Equal("HTTP", lb["protocol"]!.GetValue<string>());
        Assert.Equal(port, lb["port"]!.GetValue<int>());
        Assert.Equal("RANDOM", lb["algorithm"]!.GetValue<string>());
        Assert.Equal("ACTIVE", lb["status"]!.GetValue<string>());
        Assert.Equal(30, lb["timeout"]!.GetValue<int>());
        Assert.False(lb["halfClosed"]!.GetValue<bool>());
        Assert.Equal("""{"name":"tether"}""", lb["cluster"]!.ToJsonString());
        Assert.Equal("""{"enabled":false}""", lb["connectionLogging"]!.ToJsonString());
        Assert.Equal("""{"time":"2026-01-01T00:00:00Z"}""", lb["created"]!.ToJsonString());
        Assert.Equal("""{"time":"2026-01-01T00:00:00Z"}""", lb["updated"]!.ToJsonString());
        var vip = lb["virtualIps"]![0]!;
        Assert.Equal("0.0.0.0", vip["address"]!.GetValue<string>());
        Assert.Equal("PUBLIC", vip["type"]!.GetValue<string>());
        Assert.Equal("IPV4", vip["ipVersion"]!.GetValue<string>());
        var node = lb["nodes"]![0]!.AsObject();
        Assert.Equal(["id", "address", "port", "condition", "status", "weight", "type"], node.Select(p => p.Key).ToArray());
        Assert.Equal("ONLINE", node["status"]!.GetValue<string>());
        Assert.Equal(1, node["weight"]!.GetValue<int>());
        Assert.Equal("PRIMARY", node["type"]!.GetValue<string>());

        var id = lb["id"]!.GetValue<int>();
        var live = _host.DataPlane.Live[id];
        Assert.Equal(port, live.Port);
        Assert.Equal(api.Account, live.AccountId);
        Assert.Contains(_host.Store.LoadAll(), c => c.Id == id && c.Name == "web");
    }

    [Fact]
    public async Task Create_WithoutRootKey_Returns202()
    {
        var api = _host.NewAccount();

        var response = await api.PostAsync("/loadbalancers", $$"""
            {"name":"bare","protocol":"TCP","port":{{ApiHost.NextPort()}},"virtualIps":[{"type":"PUBLIC"}],"nodes":[{{Node()}}]}
            """);

        Assert.Equal(202, response.Status);
        Assert.Equal("bare", response.Body!["loadBalancer"]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Create_UnknownFields_Are400NamingEachFieldAndCreateNothing()
    {
        var api = _host.NewAccount();

        var response = await api.PostAsync("/loadbalancers", Body($$"""
            "name":"x","protocol":"HTTP","port":{{ApiHost.NextPort()}},"virtualIps":[{"type":"PUBLIC"}],
            "nodes":[{{Node()}}],"surprise":{"deep":[1,2]},"sslTermination":{"enabled":true},"algoritm":"RANDOM"
            """));

        Assert.Equal(400, response.Status);
        Assert.Contains(response.Messages, m => m.StartsWith("surprise: unknown field (known fields: name, protocol, port,", StringComparison.Ordinal));
        Assert.Contains(response.Messages, m => m.StartsWith("sslTermination: cannot be given at creation", StringComparison.Ordinal));
        Assert.Contains("algoritm: unknown field; did you mean algorithm?", response.Messages);
        Assert.Equal("""{"loadBalancers":[]}""", (await api.GetAsync("/loadbalancers")).Text);
    }

    [Fact]
    public async Task Create_AllOptionalFields_AreStoredAndShown()
    {
        var api = _host.NewAccount();

        var response = await api.PostAsync("/loadbalancers", Body($$"""
            "name":"full","protocol":"HTTP","port":{{ApiHost.NextPort()}},"virtualIps":[{"type":"SERVICENET"}],
            "nodes":[{"address":"10.0.0.1","port":80,"weight":5,"type":"SECONDARY","condition":"DRAINING"}],
            "algorithm":"WEIGHTED_ROUND_ROBIN","timeout":120,"halfClosed":true,"httpsRedirect":false,
            "sessionPersistence":{"persistenceType":"HTTP_COOKIE"},"metadata":[{"key":"team","value":"blue"}]
            """));

        Assert.Equal(202, response.Status);
        var lb = response.Body!["loadBalancer"]!;
        Assert.Equal("127.0.0.2", lb["virtualIps"]![0]!["address"]!.GetValue<string>());
        Assert.Equal("SERVICENET", lb["virtualIps"]![0]!["type"]!.GetValue<string>());
        Assert.Equal("WEIGHTED_ROUND_ROBIN", lb["algorithm"]!.GetValue<string>());
        Assert.Equal(120, lb["timeout"]!.GetValue<int>());
        Assert.True(lb["halfClosed"]!.GetValue<bool>());
        Assert.False(lb["httpsRedirect"]!.GetValue<bool>());
        Assert.Equal("""{"persistenceType":"HTTP_COOKIE"}""", lb["sessionPersistence"]!.ToJsonString());
        Assert.Equal("blue", lb["metadata"]![0]!["value"]!.GetValue<string>());
        var node = lb["nodes"]![0]!;
        Assert.Equal(5, node["weight"]!.GetValue<int>());
        Assert.Equal("SECONDARY", node["type"]!.GetValue<string>());
        Assert.Equal("DRAINING", node["condition"]!.GetValue<string>());
    }

    [Fact]
    public async Task Create_PortOmittedForProtocolWithDefault_UsesTheDefaultPort()
    {
        var api = _host.NewAccount();

        var response = await api.PostAsync("/loadbalancers", Body($$"""
            "name":"db","protocol":"MYSQL","virtualIps":[{"type":"PUBLIC"}],"nodes":[{{Node()}}]
            """));

        Assert.Equal(202, response.Status);
        Assert.Equal(3306, response.Body!["loadBalancer"]!["port"]!.GetValue<int>());
    }

    [Fact]
    public async Task Create_PortOmittedForProtocolWithoutDefault_Returns400()
    {
        var api = _host.NewAccount();

        var response = await api.PostAsync("/loadbalancers", Body($$"""
            "name":"tcp","protocol":"TCP","virtualIps":[{"type":"PUBLIC"}],"nodes":[{{Node()}}]
            """));

        Assert.Equal(400, response.Status);
        Assert.Contains(response.Messages, m => m.StartsWith("port: is required for protocol TCP", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Create_ManyInvalidFields_ReportsEveryErrorAtOnceInTheValidationShape()
    {
        var api = _host.NewAccount();

        var response = await api.PostAsync("/loadbalancers", Body($$"""
            "name":"{{new string('n', 129)}}","protocol":"GOPHER","port":0,"algorithm":"FASTEST","timeout":121,
            "virtualIps":[],"nodes":[{"address":"1","port":70000,"weight":0,"condition":"ON","type":"BACKUP"}]
            """));

        Assert.Equal(400, response.Status);
        Assert.Equal("Validation Failure", response.Body!["message"]!.GetValue<string>());
        Assert.Equal(400, response.Body["code"]!.GetValue<int>());
        Assert.Equal("The object is not valid", response.Body["details"]!.GetValue<string>());
        var messages = response.Messages;
        Assert.Contains(messages, m => m.StartsWith("name: must be 1 to 128 characters", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("protocol: must be one of", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("port: must be from 1 to 65535", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("algorithm: must be one of", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("timeout: must be from 1 to 120 seconds", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("virtualIps: give one virtual IP, or two of different ipVersion", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("nodes[0].address:", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("nodes[0].port: must be from 1 to 65535", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("nodes[0].weight: must be from 1 to 100", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("nodes[0].condition: must be one of ENABLED, DISABLED, DRAINING", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("nodes[0].type: must be PRIMARY or SECONDARY", StringComparison.Ordinal));
        Assert.Empty((await api.GetAsync("/loadbalancers")).Body!["loadBalancers"]!.AsArray());
    }

    [Fact]
    public async Task Create_MissingRequiredFields_NamesEachOne()
    {
        var api = _host.NewAccount();

        var response = await api.PostAsync("/loadbalancers", "{\"loadBalancer\":{}}");

        Assert.Equal(400, response.Status);
        Assert.Contains(response.Messages, m => m.StartsWith("name: is required", StringComparison.Ordinal));
        Assert.Contains(response.Messages, m => m.StartsWith("protocol: is required", StringComparison.Ordinal));
        Assert.Contains(response.Messages, m => m.StartsWith("port: is required", StringComparison.Ordinal));
        Assert.Contains(response.Messages, m => m.StartsWith("virtualIps: one virtual IP is required", StringComparison.Ordinal));
        Assert.Contains(response.Messages, m => m.StartsWith("nodes: at least one node is required", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(1, 202)]
    [InlineData(128, 202)]
    [InlineData(0, 400)]
    [InlineData(129, 400)]
    public async Task Create_NameLength_IsLimitedTo1To128(int length, int expected)
    {
        var api = _host.NewAccount();

        var response = await api.PostAsync("/loadbalancers", Body($$"""
            "name":"{{new string('a', length)}}","protocol":"HTTP","port":{{ApiHost.NextPort()}},"virtualIps":[{"type":"PUBLIC"}],"nodes":[{{Node()}}]
            """));

        Assert.Equal(expected, response.Status);
    }

    [Theory]
    [InlineData(1, 202)]
    [InlineData(120, 202)]
    [InlineData(0, 400)]
    [InlineData(121, 400)]
    public async Task Create_Timeout_IsLimitedTo1To120Seconds(int timeout, int expected)
    {
        var api = _host.NewAccount();

        var response = await api.PostAsync("/loadbalancers", ApiClient.LoadBalancerBody("HTTP", ApiHost.NextPort(), $"\"timeout\":{timeout}"));

        Assert.Equal(expected, response.Status);
    }

    [Theory]
    [InlineData(0, 400)]
    [InlineData(65536, 400)]
    [InlineData(65535, 202)]
    public async Task Create_Port_IsLimitedTo1To65535(int port, int expected)
    {
        var api = _host.NewAccount();
        if (port == 65535)
        {
            // Only this test uses 65535; a UDP protocol keeps it clear of the TCP ports of other tests.
            var response65535 = await api.PostAsync("/loadbalancers", ApiClient.LoadBalancerBody("UDP", port));
            Assert.Equal(expected, response65535.Status);
            return;
        }

        var response = await api.PostAsync("/loadbalancers", ApiClient.LoadBalancerBody("HTTP", port));

        Assert.Equal(expected, response.Status);
    }

    [Fact]
    public async Task Create_UnknownProtocol_Returns400NamingTheField()
    {
        var response = await _host.NewAccount().PostAsync("/loadbalancers", ApiClient.LoadBalancerBody("http", ApiHost.NextPort()));

        Assert.Equal(400, response.Status);
        Assert.Contains(response.Messages, m => m.StartsWith("protocol: must be one of DNS_TCP", StringComparison.Ordinal) && m.Contains("'http'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Create_UnknownAlgorithm_Returns400()
    {
        var response = await _host.NewAccount().PostAsync("/loadbalancers",
            ApiClient.LoadBalancerBody("HTTP", ApiHost.NextPort(), "\"algorithm\":\"LEAST_LATENCY\""));

        Assert.Equal(400, response.Status);
        Assert.Contains(response.Messages, m => m.StartsWith("algorithm: must be one of LEAST_CONNECTIONS", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Create_NoNodes_Returns400AsRackspace()
    {
        var response = await _host.NewAccount().PostAsync("/loadbalancers", ApiClient.LoadBalancerBody("HTTP", ApiHost.NextPort(), nodes: "[]"));

        Assert.Equal(400, response.Status);
        Assert.Contains("nodes: at least one node is required", response.Messages);
    }

    [Fact]
    public async Task Create_TwoIpv4VirtualIps_Returns400()
    {
        var response = await _host.NewAccount().PostAsync("/loadbalancers", Body($$"""
            "name":"x","protocol":"HTTP","port":{{ApiHost.NextPort()}},"virtualIps":[{"type":"PUBLIC"},{"type":"SERVICENET"}],"nodes":[{{Node()}}]
            """));

        Assert.Equal(400, response.Status);
        Assert.Contains("virtualIps: two virtual IPs must be of different ipVersion (one IPV4 and one IPV6; both are IPV4)", response.Messages);
    }

    [Fact]
    public async Task Create_ThreeVirtualIps_Returns400()
    {
        var response = await _host.NewAccount().PostAsync("/loadbalancers", Body($$"""
            "name":"x","protocol":"HTTP","port":{{ApiHost.NextPort()}},"virtualIps":[{"type":"PUBLIC"},{"type":"PUBLIC","ipVersion":"IPV6"},{"type":"SERVICENET"}],"nodes":[{{Node()}}]
            """));

        Assert.Equal(400, response.Status);
        Assert.Contains(response.Messages, m => m.StartsWith("virtualIps: give one virtual IP, or two of different ipVersion (one IPV4 and one IPV6) (got 3)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Create_UnknownVirtualIpType_Returns400()
    {
        var response = await _host.NewAccount().PostAsync("/loadbalancers", Body($$"""
            "name":"x","protocol":"HTTP","port":{{ApiHost.NextPort()}},"virtualIps":[{"type":"PRIVATE"}],"nodes":[{{Node()}}]
            """));

        Assert.Equal(400, response.Status);
        Assert.Contains(response.Messages, m => m.StartsWith("virtualIps[0].type: must be PUBLIC or SERVICENET", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Create_SharedVirtualIpId_ReusesTheAddressAndId()
    {
        var api = _host.NewAccount();
        var first = await api.GetAsync($"/loadbalancers/{await api.CreateLoadBalancerAsync()}");
        var vipId = first.Body!["loadBalancer"]!["virtualIps"]![0]!["id"]!.GetValue<int>();

        var response = await api.PostAsync("/loadbalancers", Body($$"""
            "name":"second","protocol":"TCP","port":{{ApiHost.NextPort()}},"virtualIps":[{"id":{{vipId}}}],"nodes":[{{Node()}}]
            """));

        Assert.Equal(202, response.Status);
        var vip = response.Body!["loadBalancer"]!["virtualIps"]![0]!;
        Assert.Equal(vipId, vip["id"]!.GetValue<int>());
        Assert.Equal("0.0.0.0", vip["address"]!.GetValue<string>());
    }

    [Fact]
    public async Task Create_VirtualIpIdOfAnotherAccount_Returns400()
    {
        var owner = _host.NewAccount();
        var lb = await owner.GetAsync($"/loadbalancers/{await owner.CreateLoadBalancerAsync()}");
        var vipId = lb.Body!["loadBalancer"]!["virtualIps"]![0]!["id"]!.GetValue<int>();

        var response = await _host.NewAccount().PostAsync("/loadbalancers", Body($$"""
            "name":"x","protocol":"TCP","port":{{ApiHost.NextPort()}},"virtualIps":[{"id":{{vipId}}}],"nodes":[{{Node()}}]
            """));

        Assert.Equal(400, response.Status);
        Assert.Contains(response.Messages, m => m.StartsWith($"virtualIps[0].id: virtual IP {vipId} was not found", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Create_SameAddressAndPortAsAnotherLoadBalancer_Returns400()
    {
        var port = ApiHost.NextPort();
        await _host.NewAccount().CreateLoadBalancerAsync(port: port);

        var response = await _host.NewAccount().PostAsync("/loadbalancers", ApiClient.LoadBalancerBody("TCP", port));

        Assert.Equal(400, response.Status);
        Assert.Contains($"port: {port}/TCP is already used on virtual IP 0.0.0.0 by another load balancer", response.Messages);
    }

    [Fact]
    public async Task Create_DnsTcpAndDnsUdpOnTheSamePort_BothAccepted()
    {
        var api = _host.NewAccount();
        var port = ApiHost.NextPort();

        await api.CreateLoadBalancerAsync("DNS_TCP", port);
        var response = await api.PostAsync("/loadbalancers", ApiClient.LoadBalancerBody("DNS_UDP", port));

        Assert.Equal(202, response.Status);
    }

    [Fact]
    public async Task Create_WrongJsonTypes_Returns400NamingEachField()
    {
        var response = await _host.NewAccount().PostAsync("/loadbalancers", Body($$"""
            "name":5,"protocol":"HTTP","port":"80","halfClosed":"yes","virtualIps":{"type":"PUBLIC"},"nodes":[{{Node()}}]
            """));

        Assert.Equal(400, response.Status);
        Assert.Contains("name: must be a string", response.Messages);
        Assert.Contains("port: must be an integer", response.Messages);
        Assert.Contains("halfClosed: must be true or false", response.Messages);
        Assert.Contains("virtualIps: must be an array of objects", response.Messages);
        Assert.DoesNotContain(response.Messages, m => m.StartsWith("name: is required", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("{\"loadBalancer\":")]
    [InlineData("not json")]
    [InlineData("")]
    public async Task Create_MalformedJson_Returns400(string body)
    {
        var response = await _host.NewAccount().PostAsync("/loadbalancers", body);

        Assert.Equal(400, response.Status);
        Assert.Equal(400, response.Body!["code"]!.GetValue<int>());
        Assert.False(string.IsNullOrEmpty(response.Body["message"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Create_BodyIsAnArray_Returns400()
    {
        var response = await _host.NewAccount().PostAsync("/loadbalancers", "[]");

        Assert.Equal(400, response.Status);
    }

    [Fact]
    public async Task Create_26thLoadBalancerOfAnAccount_Returns413()
    {
        var api = _host.NewAccount();
        for (var i = 0; i < 25; i++)
        {
            await api.CreateLoadBalancerAsync();
        }

        var response = await api.PostAsync("/loadbalancers", ApiClient.LoadBalancerBody("HTTP", ApiHost.NextPort()));

        Assert.Equal(413, response.Status);
        Assert.Equal(413, response.Body!["code"]!.GetValue<int>());
        Assert.Equal(25, (await api.GetAsync("/loadbalancers")).Body!["loadBalancers"]!.AsArray().Count);
    }

    [Fact]
    public async Task Create_26Nodes_Returns413()
    {
        var nodes = "[" + string.Join(",", Enumerable.Range(1, 26).Select(i => Node($"10.1.0.{i}"))) + "]";

        var response = await _host.NewAccount().PostAsync("/loadbalancers", ApiClient.LoadBalancerBody("HTTP", ApiHost.NextPort(), nodes: nodes));

        Assert.Equal(413, response.Status);
    }

    [Fact]
    public async Task Create_BindFailure_Returns400AndChangesNothing()
    {
        var api = _host.NewAccount();
        var port = ApiHost.NextPort();
        _host.DataPlane.FailBind(port);
        var storedBefore = _host.Store.LoadAll().Count;

        var response = await api.PostAsync("/loadbalancers", ApiClient.LoadBalancerBody("HTTP", port));

        Assert.Equal(400, response.Status);
        Assert.Equal("Validation Failure", response.Body!["message"]!.GetValue<string>());
        Assert.Contains(response.Messages, m => m.Contains($":{port}: address already in use", StringComparison.Ordinal));
        Assert.Empty((await api.GetAsync("/loadbalancers")).Body!["loadBalancers"]!.AsArray());
        Assert.Equal(storedBefore, _host.Store.LoadAll().Count);
        Assert.DoesNotContain(_host.DataPlane.Live.Values, c => c.AccountId == api.Account);
    }

    [Fact]
    public async Task List_TwoAccounts_ShowsOnlyOwnLoadBalancersAsSummaries()
    {
        var api = _host.NewAccount();
        var other = _host.NewAccount();
        var a = await api.CreateLoadBalancerAsync();
        var b = await api.CreateLoadBalancerAsync("TCP");
        await other.CreateLoadBalancerAsync();

        var response = await api.GetAsync("/loadbalancers");

        Assert.Equal(200, response.Status);
        var list = response.Body!["loadBalancers"]!.AsArray();
        Assert.Equal([a, b], list.Select(l => l!["id"]!.GetValue<int>()).ToArray());
        Assert.Equal(
            ["id", "name", "protocol", "port", "algorithm", "status", "nodeCount", "virtualIps", "created", "updated"],
            list[0]!.AsObject().Select(p => p.Key).ToArray());
        Assert.Equal(1, list[0]!["nodeCount"]!.GetValue<int>());
    }

    [Fact]
    public async Task Ids_TwoAccounts_AreUniqueAcrossAccounts()
    {
        var a = await _host.NewAccount().CreateLoadBalancerAsync();
        var b = await _host.NewAccount().CreateLoadBalancerAsync();

        Assert.NotEqual(a, b);
        var nodeIds = _host.Store.LoadAll().SelectMany(c => c.Nodes).Select(n => n.Id).ToList();
        Assert.Equal(nodeIds.Count, nodeIds.Distinct().Count());
    }

    [Fact]
    public async Task Get_UnknownId_Returns404WithRackspaceMessage()
    {
        var response = await _host.NewAccount().GetAsync("/loadbalancers/999999");

        Assert.Equal(404, response.Status);
        Assert.Equal("""{"message":"Load balancer not found","code":404}""", response.Text);
    }

    [Fact]
    public async Task Update_AllowedFields_Returns202AndAppliesThem()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();
        var port = ApiHost.NextPort();
        _host.Time.Advance(TimeSpan.FromMinutes(5));

        var response = await api.PutAsync($"/loadbalancers/{id}", $$$"""
            {"loadBalancer":{"name":"renamed","algorithm":"ROUND_ROBIN","protocol":"TCP","port":{{{port}}},"timeout":60,"halfClosed":true,"httpsRedirect":false}}
            """);

        Assert.Equal(202, response.Status);
        Assert.Null(response.Body);
        var lb = (await api.GetAsync($"/loadbalancers/{id}")).Body!["loadBalancer"]!;
        Assert.Equal("renamed", lb["name"]!.GetValue<string>());
        Assert.Equal("ROUND_ROBIN", lb["algorithm"]!.GetValue<string>());
        Assert.Equal("TCP", lb["protocol"]!.GetValue<string>());
        Assert.Equal(port, lb["port"]!.GetValue<int>());
        Assert.Equal(60, lb["timeout"]!.GetValue<int>());
        Assert.True(lb["halfClosed"]!.GetValue<bool>());
        Assert.Equal("ACTIVE", lb["status"]!.GetValue<string>());
        Assert.NotEqual(lb["created"]!.ToJsonString(), lb["updated"]!.ToJsonString());
        Assert.Equal("renamed", _host.DataPlane.Live[id].Name);
        Assert.Equal(port, _host.Store.LoadAll().Single(c => c.Id == id).Port);
    }

    [Fact]
    public async Task Update_WithoutRootKey_Returns202()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();

        var response = await api.PutAsync($"/loadbalancers/{id}", """{"name":"bare"}""");

        Assert.Equal(202, response.Status);
        Assert.Equal("bare", (await api.GetAsync($"/loadbalancers/{id}")).Body!["loadBalancer"]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Update_FieldsThatPutCannotChange_Returns400NamingThem()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();

        var response = await api.PutAsync($"/loadbalancers/{id}", """
            {"loadBalancer":{"name":"x","nodes":[],"virtualIps":[{"type":"PUBLIC"}],"sessionPersistence":{"persistenceType":"SOURCE_IP"}}}
            """);

        Assert.Equal(400, response.Status);
        Assert.Contains(response.Messages, m => m.StartsWith("nodes: cannot be changed by PUT", StringComparison.Ordinal));
        Assert.Contains(response.Messages, m => m.StartsWith("virtualIps: cannot be changed by PUT", StringComparison.Ordinal));
        Assert.Contains(response.Messages, m => m.StartsWith("sessionPersistence: cannot be changed by PUT", StringComparison.Ordinal));
        Assert.Equal("lb", (await api.GetAsync($"/loadbalancers/{id}")).Body!["loadBalancer"]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Update_InvalidValues_Returns400WithEveryError()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();

        var response = await api.PutAsync($"/loadbalancers/{id}", """
            {"name":"","protocol":"SPDY","port":70000,"timeout":0,"algorithm":"NONE"}
            """);

        Assert.Equal(400, response.Status);
        Assert.Equal(5, response.Messages.Count);
    }

    [Fact]
    public async Task Update_NothingToChange_Returns400()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();

        var response = await api.PutAsync($"/loadbalancers/{id}", "{}");

        Assert.Equal(400, response.Status);
    }

    [Fact]
    public async Task Update_PortUsedByAnotherLoadBalancer_Returns400()
    {
        var api = _host.NewAccount();
        var taken = ApiHost.NextPort();
        await api.CreateLoadBalancerAsync(port: taken);
        var id = await api.CreateLoadBalancerAsync();

        var response = await api.PutAsync($"/loadbalancers/{id}", $$"""{"port":{{taken}}}""");

        Assert.Equal(400, response.Status);
        Assert.Contains($"port: {taken}/TCP is already used on virtual IP 0.0.0.0 by another load balancer", response.Messages);
    }

    [Fact]
    public async Task Update_BindFailure_Returns400AndKeepsTheOldConfiguration()
    {
        var api = _host.NewAccount();
        var oldPort = ApiHost.NextPort();
        var id = await api.CreateLoadBalancerAsync(port: oldPort);
        var newPort = ApiHost.NextPort();
        _host.DataPlane.FailBind(newPort);

        var response = await api.PutAsync($"/loadbalancers/{id}", $$"""{"port":{{newPort}},"name":"moved"}""");

        Assert.Equal(400, response.Status);
        Assert.Contains(response.Messages, m => m.Contains("address already in use", StringComparison.Ordinal));
        var lb = (await api.GetAsync($"/loadbalancers/{id}")).Body!["loadBalancer"]!;
        Assert.Equal(oldPort, lb["port"]!.GetValue<int>());
        Assert.Equal("lb", lb["name"]!.GetValue<string>());
        Assert.Equal(oldPort, _host.Store.LoadAll().Single(c => c.Id == id).Port);
        Assert.Equal(oldPort, _host.DataPlane.Live[id].Port);
    }

    [Fact]
    public async Task Update_UnknownId_Returns404()
    {
        var response = await _host.NewAccount().PutAsync("/loadbalancers/999999", """{"name":"x"}""");

        Assert.Equal(404, response.Status);
    }

    [Fact]
    public async Task Delete_Existing_Returns202AndRemovesItEverywhere()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();

        var response = await api.DeleteAsync($"/loadbalancers/{id}");

        Assert.Equal(202, response.Status);
        Assert.Null(response.Body);
        Assert.Equal(404, (await api.GetAsync($"/loadbalancers/{id}")).Status);
        Assert.Contains(id, _host.DataPlane.Removed);
        Assert.False(_host.DataPlane.Live.ContainsKey(id));
        Assert.DoesNotContain(_host.Store.LoadAll(), c => c.Id == id);
    }

    [Fact]
    public async Task Delete_UnknownId_Returns404()
    {
        var response = await _host.NewAccount().DeleteAsync("/loadbalancers/999999");

        Assert.Equal(404, response.Status);
        Assert.Equal("Load balancer not found", response.Body!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task BulkDelete_TwoExisting_Returns202AndDeletesBoth()
    {
        var api = _host.NewAccount();
        var a = await api.CreateLoadBalancerAsync();
        var b = await api.CreateLoadBalancerAsync();
        var c = await api.CreateLoadBalancerAsync();

        var response = await api.DeleteAsync($"/loadbalancers?id={a}&id={b}");

        Assert.Equal(202, response.Status);
        var left = (await api.GetAsync("/loadbalancers")).Body!["loadBalancers"]!.AsArray();
        Assert.Equal([c], left.Select(l => l!["id"]!.GetValue<int>()).ToArray());
        Assert.DoesNotContain(_host.Store.LoadAll(), s => s.Id == a || s.Id == b);
    }

    [Fact]
    public async Task BulkDelete_OneIdMissing_Returns404AndDeletesNothing()
    {
        var api = _host.NewAccount();
        var a = await api.CreateLoadBalancerAsync();
        var removedBefore = _host.DataPlane.Removed.Count(r => r == a);

        var response = await api.DeleteAsync($"/loadbalancers?id={a}&id=999999");

        Assert.Equal(404, response.Status);
        Assert.Equal(200, (await api.GetAsync($"/loadbalancers/{a}")).Status);
        Assert.Equal(removedBefore, _host.DataPlane.Removed.Count(r => r == a));
        Assert.True(_host.DataPlane.Live.ContainsKey(a));
    }

    [Fact]
    public async Task BulkDelete_IdOfAnotherAccount_Returns404AndDeletesNothing()
    {
        var api = _host.NewAccount();
        var mine = await api.CreateLoadBalancerAsync();
        var theirs = await _host.NewAccount().CreateLoadBalancerAsync();

        var response = await api.DeleteAsync($"/loadbalancers?id={mine}&id={theirs}");

        Assert.Equal(404, response.Status);
        Assert.Contains(_host.Store.LoadAll(), c => c.Id == mine);
        Assert.Contains(_host.Store.LoadAll(), c => c.Id == theirs);
    }

    [Fact]
    public async Task BulkDelete_MoreThan10Ids_Returns400AndDeletesNothing()
    {
        var api = _host.NewAccount();
        var ids = new List<int>();
        for (var i = 0; i < 11; i++)
        {
            ids.Add(await api.CreateLoadBalancerAsync());
        }

        var response = await api.DeleteAsync("/loadbalancers?" + string.Join("&", ids.Select(i => $"id={i}")));

        Assert.Equal(400, response.Status);
        Assert.Contains(response.Messages, m => m.StartsWith("id: at most 10", StringComparison.Ordinal));
        Assert.Equal(11, (await api.GetAsync("/loadbalancers")).Body!["loadBalancers"]!.AsArray().Count);
    }

    [Fact]
    public async Task BulkDelete_TenIds_Returns202()
    {
        var api = _host.NewAccount();
        var ids = new List<int>();
        for (var i = 0; i < 10; i++)
        {
            ids.Add(await api.CreateLoadBalancerAsync());
        }

        var response = await api.DeleteAsync("/loadbalancers?" + string.Join("&", ids.Select(i => $"id={i}")));

        Assert.Equal(202, response.Status);
        Assert.Empty((await api.GetAsync("/loadbalancers")).Body!["loadBalancers"]!.AsArray());
    }

    [Theory]
    [InlineData("")]
    [InlineData("?id=abc")]
    [InlineData("?id=-1")]
    public async Task BulkDelete_NoOrInvalidIds_Returns400(string query)
    {
        var response = await _host.NewAccount().DeleteAsync("/loadbalancers" + query);

        Assert.Equal(400, response.Status);
    }

    [Fact]
    public async Task Create_StoredConfig_MatchesTheResponse()
    {
        var api = _host.NewAccount();

        var id = await api.CreateLoadBalancerAsync(extra: "\"sessionPersistence\":{\"persistenceType\":\"SOURCE_IP\",\"persistenceTimeout\":600}");

        var stored = _host.Store.LoadAll().Single(c => c.Id == id);
        Assert.Equal(PersistenceType.SourceIp, stored.SessionPersistence!.Type);
        Assert.Equal(600, stored.SessionPersistence.PersistenceTimeoutSeconds);
        Assert.Equal(StoredLoadBalancer.Serialize(_host.DataPlane.Live[id]), StoredLoadBalancer.Serialize(stored));
    }

    [Fact]
    public async Task Create_ConcurrentRequestsForTheSamePort_ExactlyOneSucceeds()
    {
        var port = ApiHost.NextPort();
        var clients = Enumerable.Range(0, 8).Select(_ => _host.NewAccount()).ToList();

        var responses = await Task.WhenAll(clients.Select(c => c.PostAsync("/loadbalancers", ApiClient.LoadBalancerBody("HTTP", port))));

        Assert.Single(responses, r => r.Status == 202);
        Assert.Equal(7, responses.Count(r => r.Status == 400));
        Assert.Single(_host.Store.LoadAll(), c => c.Port == port);
    }

    [Fact]
    public async Task Create_InvalidMetadata_Returns400NamingEachItem()
    {
        var response = await _host.NewAccount().PostAsync("/loadbalancers", ApiClient.LoadBalancerBody("HTTP", ApiHost.NextPort(),
            $$"""
            "metadata":[{"key":"a","value":"1"},{"key":"a","value":"2"},{"key":"{{new string('k', 257)}}","value":"x"},{"value":"y"},{"key":"z","value":""}]
            """));

        Assert.Equal(400, response.Status);
        Assert.Contains("metadata[1].key: duplicate key 'a'", response.Messages);
        Assert.Contains(response.Messages, m => m.StartsWith("metadata[2].key: must be 1 to 256 characters", StringComparison.Ordinal));
        Assert.Contains(response.Messages, m => m.StartsWith("metadata[3].key: is required", StringComparison.Ordinal));
        Assert.Contains(response.Messages, m => m.StartsWith("metadata[4].value: must be 1 to 256 characters", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Create_BodyLargerThan1MiB_Returns413()
    {
        var response = await _host.NewAccount().PostAsync("/loadbalancers",
            ApiClient.LoadBalancerBody("HTTP", ApiHost.NextPort(), "\"padding\":\"" + new string('x', 1024 * 1024) + "\""));

        Assert.Equal(413, response.Status);
    }
    [Fact]
    public async Task GetVirtualIps_OwnLoadBalancer_ReturnsItsVirtualIpsInTheRackspaceShape()
    {
        var api = _host.NewAccount();
        var created = await api.PostAsync("/loadbalancers", Body($$"""
            "name":"web","protocol":"HTTP","port":{{ApiHost.NextPort()}},"virtualIps":[{"type":"PUBLIC"}],"nodes":[{{Node()}}]
            """));
        var id = created.Body!["loadBalancer"]!["id"]!.GetValue<int>();

        var response = await api.GetAsync($"/loadbalancers/{id}/virtualips");

        Assert.Equal(200, response.Status);
        Assert.Equal(created.Body!["loadBalancer"]!["virtualIps"]!.ToJsonString(), response.Body!["virtualIps"]!.ToJsonString());
        var vip = response.Body!["virtualIps"]![0]!.AsObject();
        Assert.Equal(["id", "address", "type", "ipVersion"], vip.Select(p => p.Key).ToArray());
        Assert.Equal(404, (await _host.NewAccount().GetAsync($"/loadbalancers/{id}/virtualips")).Status);
        Assert.Equal(404, (await api.GetAsync("/loadbalancers/999999/virtualips")).Status);
    }
}
