using System.Text;

namespace Tether.Management.Tests.Endpoints;

/// <summary>
/// Issue 11, item 1: every malformed body on every write endpoint is a 400 in the API's error body with the reason
/// and changes nothing; unknown fields are named (with the closest known name); fields real SDKs send are accepted.
/// </summary>
public sealed class MalformedBodyTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private readonly ApiHost _host = fixture.Host;

    /// <summary>Every write endpoint with a body: its method, path (after <c>/loadbalancers</c>; {id} and {node}
    /// filled in) and a valid body.</summary>
    public static readonly TheoryData<string, string, string> WriteEndpoints = new()
    {
        { "POST", "", """{"loadBalancer":{"name":"TEXT","protocol":"HTTP","port":PORT,"virtualIps":[{"type":"PUBLIC"}],"nodes":[{"address":"10.0.0.1","port":80}]}}""" },
        { "PUT", "/{id}", """{"loadBalancer":{"name":"TEXT"}}""" },
        { "POST", "/{id}/nodes", """{"nodes":[{"address":"10.0.0.7","port":80,"condition":"ENABLED"}]}""" },
        { "PUT", "/{id}/nodes/{node}", """{"node":{"condition":"DRAINING"}}""" },
        { "PUT", "/{id}/sessionpersistence", """{"sessionPersistence":{"persistenceType":"HTTP_COOKIE","cookieName":"TEXT"}}""" },
        { "PUT", "/{id}/healthmonitor", """{"healthMonitor":{"type":"HTTP","delay":10,"timeout":5,"attemptsBeforeDeactivation":2,"path":"/TEXT"}}""" },
        { "POST", "/{id}/accesslist", """{"accessList":[{"address":"10.9.0.0/16","type":"DENY"}]}""" },
        { "PUT", "/{id}/connectionthrottle", """{"connectionThrottle":{"maxConnections":50}}""" },
        { "PUT", "/{id}/errorpage", """{"errorpage":{"content":"<html>TEXT</html>"}}""" },
        { "PUT", "/{id}/connectionlogging", """{"connectionLogging":{"enabled":true}}""" },
        { "PUT", "/{id}/ssltermination", """{"sslTermination":{"certificate":"TEXT","privateKey":"k","securePort":443}}""" },
    };

    private async Task<(ApiClient Api, int Id, int NodeId)> CreateAsync()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();
        var nodeId = (await api.GetAsync($"/loadbalancers/{id}/nodes")).Body!["nodes"]![0]!["id"]!.GetValue<int>();
        return (api, id, nodeId);
    }

    private static string PathOf(string path, int id, int nodeId) =>
        "/loadbalancers" + path.Replace("{id}", id.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("{node}", nodeId.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);

    private static async Task<string> StateAsync(ApiClient api, int id) =>
        (await api.GetAsync("/loadbalancers")).Text + (await api.GetAsync($"/loadbalancers/{id}")).Text
        + (await api.GetAsync($"/loadbalancers/{id}/errorpage")).Text + (await api.GetAsync($"/loadbalancers/{id}/ssltermination")).Text;

    /// <summary>Sends the body built from <paramref name="template"/> with TEXT replaced by <paramref name="bad"/>
    /// (raw bytes) and asserts a 400 "not valid JSON" naming the place, and no change.</summary>
    private async Task AssertRefusedAsync(string method, string path, string template, byte[] bad, string expectedDetails)
    {
        var (api, id, nodeId) = await CreateAsync();
        var before = await StateAsync(api, id);
        var text = template.Replace("PORT", ApiHost.NextPort().ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        var at = text.IndexOf("TEXT", StringComparison.Ordinal);
        var body = at < 0
            ? Encoding.UTF8.GetBytes(text)
            : [.. Encoding.UTF8.GetBytes(text[..at]), .. bad, .. Encoding.UTF8.GetBytes(text[(at + 4)..])];

        var response = await api.SendBytesAsync(new HttpMethod(method), PathOf(path, id, nodeId), body);

        Assert.True(response.Status == 400, response.ToString());
        Assert.Equal("The request body is not valid JSON.", response.Body!["message"]!.GetValue<string>());
        Assert.Equal(400, response.Body["code"]!.GetValue<int>());
        Assert.Contains(expectedDetails, response.Body["details"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(before, await StateAsync(api, id));
    }

    /// <summary>The body, with a string value TEXT added in front when it has none.</summary>
    private static string WithText(string body) =>
        body.Contains("TEXT", StringComparison.Ordinal) ? body : "{\"note\":\"TEXT\"," + body[1..];

    [Theory]
    [MemberData(nameof(WriteEndpoints))]
    public async Task Write_InvalidUtf8InAString_Returns400AndChangesNothing(string method, string path, string body)
    {
        body = WithText(body);

        await AssertRefusedAsync(method, path, body, [0xC3, 0x28], "is not valid Unicode text");
    }

    [Theory]
    [MemberData(nameof(WriteEndpoints))]
    public async Task Write_UnpairedSurrogateInAString_Returns400AndChangesNothing(string method, string path, string body)
    {
        body = WithText(body);

        await AssertRefusedAsync(method, path, body, Encoding.ASCII.GetBytes("\\ud800"), "is not valid Unicode text");
    }

    [Theory]
    [MemberData(nameof(WriteEndpoints))]
    public async Task Write_InvalidUtf8OrSurrogateInAPropertyName_Returns400AndChangesNothing(string method, string path, string body)
    {
        // TEXT inside the first property name of the body.
        var named = "{\"TEXT" + body[2..];
        await AssertRefusedAsync(method, path, named, [0xFF], "a property name is not valid Unicode text");
        await AssertRefusedAsync(method, path, named, Encoding.ASCII.GetBytes("\\udc00"), "a property name is not valid Unicode text");
    }

    [Theory]
    [InlineData("1.5", "nodes[0].port: must be a whole number within the 32-bit integer range")]
    [InlineData("\"80\"", "nodes[0].port: must be an integer")]
    [InlineData("true", "nodes[0].port: must be an integer")]
    [InlineData("4294967297", "nodes[0].port: must be a whole number within the 32-bit integer range")]
    [InlineData("1e400", "nodes[0].port: must be a whole number within the 32-bit integer range")]
    public async Task AddNodes_PortOfTheWrongType_Returns400NamingThePortAndChangesNothing(string port, string expected)
    {
        var (api, id, _) = await CreateAsync();
        var before = await StateAsync(api, id);

        var response = await api.PostAsync($"/loadbalancers/{id}/nodes", $$"""{"nodes":[{"address":"10.0.0.5","port":{{port}}}]}""");

        Assert.True(response.Status == 400, response.ToString());
        Assert.Equal([expected], response.Messages);
        Assert.Equal(before, await StateAsync(api, id));
    }

    [Theory]
    [InlineData("1.5")]
    [InlineData("\"80\"")]
    [InlineData("true")]
    [InlineData("4294967297")]
    public async Task Create_NodePortOfTheWrongType_Returns400AndCreatesNothing(string port)
    {
        var api = _host.NewAccount();

        var response = await api.PostAsync("/loadbalancers",
            ApiClient.LoadBalancerBody("HTTP", ApiHost.NextPort(), nodes: $$"""[{"address":"10.0.0.5","port":{{port}}}]"""));

        Assert.True(response.Status == 400, response.ToString());
        Assert.Contains(response.Messages, m => m.StartsWith("nodes[0].port: must be", StringComparison.Ordinal));
        Assert.Equal("""{"loadBalancers":[]}""", (await api.GetAsync("/loadbalancers")).Text);
    }

    [Fact]
    public async Task AddNodes_PortWrittenWithAnExponent_IsAcceptedAsTheWholeNumber()
    {
        var (api, id, _) = await CreateAsync();

        var response = await api.PostAsync($"/loadbalancers/{id}/nodes", """{"nodes":[{"address":"10.0.0.6","port":1E2}]}""");

        Assert.True(response.Status == 202, response.ToString());
        Assert.Equal(100, response.Body!["nodes"]![0]!["port"]!.GetValue<int>());
    }

    [Fact]
    public async Task PutSessionPersistence_MisspelledFields_Returns400WithTheClosestNamesAndChangesNothing()
    {
        var (api, id, _) = await CreateAsync();
        var before = await StateAsync(api, id);

        var response = await api.PutAsync($"/loadbalancers/{id}/sessionpersistence",
            """{"persistenceType":"HTTP_COOKIE","cookieSecur":true,"sameSite":"Strict"}""");

        Assert.True(response.Status == 400, response.ToString());
        Assert.Equal(["cookieSecur: unknown field; did you mean cookieSecure?", "sameSite: unknown field; did you mean cookieSameSite?"],
            response.Messages);
        Assert.Equal(before, await StateAsync(api, id));
    }

    [Fact]
    public async Task Create_MisspelledNestedField_Returns400WithItsPath()
    {
        var api = _host.NewAccount();

        var response = await api.PostAsync("/loadbalancers", ApiClient.LoadBalancerBody("HTTP", ApiHost.NextPort(),
            extra: "\"sessionPersistence\":{\"persistenceType\":\"HTTP_COOKIE\",\"cookieSecur\":true}",
            nodes: """[{"address":"10.0.0.1","port":80,"wieght":3}]"""));

        Assert.True(response.Status == 400, response.ToString());
        Assert.Contains("sessionPersistence.cookieSecur: unknown field; did you mean cookieSecure?", response.Messages);
        Assert.Contains("nodes[0].wieght: unknown field; did you mean weight?", response.Messages);
    }

    [Theory]
    [InlineData("/{id}", """{"loadBalancer":{"name":"x","algoritm":"RANDOM"}}""", "algoritm: unknown field; did you mean algorithm?")]
    [InlineData("/{id}/nodes/{node}", """{"node":{"condition":"DRAINING","Weight":2}}""", "Weight: unknown field; did you mean weight?")]
    [InlineData("/{id}/healthmonitor", """{"type":"CONNECT","delay":10,"timeout":5,"attemptsBeforeDeactivation":2,"retries":3}""", "retries: unknown field (known fields: type, delay, timeout, attemptsBeforeDeactivation, path, statusRegex, bodyRegex, hostHeader)")]
    [InlineData("/{id}/connectionthrottle", """{"connectionThrottle":{"maxConnection":5}}""", "connectionThrottle.maxConnection: unknown field; did you mean maxConnections?")]
    [InlineData("/{id}/errorpage", """{"errorpage":{"contents":"<html/>"}}""", "errorpage.contents: unknown field; did you mean content?")]
    [InlineData("/{id}/connectionlogging", """{"connectionLogging":{"enable":true}}""", "connectionLogging.enable: unknown field; did you mean enabled?")]
    [InlineData("/{id}/sessionpersistence", """{"sessionpersistence":{"persistenceType":"SOURCE_IP"}}""", "sessionpersistence: unknown field; did you mean sessionPersistence?")]
    [InlineData("/{id}/sessionpersistence", """{"sessionPersistence":{"persistenceType":"SOURCE_IP"},"extra":1}""", "extra: unknown field beside \"sessionPersistence\" (give the fields inside \"sessionPersistence\")")]
    [InlineData("/{id}/sessionpersistence", """{"persistenceType":"SOURCE_IP","id":1}""", "id: unknown field (known fields: persistenceType, cookieName, persistenceTimeout, disableFallback, cookiePath, cookieDomain, cookieSecure, cookieHttpOnly, cookieSameSite, headerName, hashBalanceFactor)")]
    [InlineData("/{id}/ssltermination", """{"sslTermination":{"securePort":443,"certificat":"x"}}""", "certificat: unknown field; did you mean certificate?")]
    public async Task Put_UnknownField_Returns400NamingItAndChangesNothing(string path, string body, string expected)
    {
        var (api, id, nodeId) = await CreateAsync();
        var before = await StateAsync(api, id);

        var response = await api.PutAsync(PathOf(path, id, nodeId), body);

        Assert.True(response.Status == 400, response.ToString());
        Assert.Contains(expected, response.Messages);
        Assert.Equal(before, await StateAsync(api, id));
    }

    [Theory]
    [InlineData("/{id}/nodes", """{"nodes":[{"address":"10.0.0.8","port":80,"conditon":"ENABLED"}]}""", "nodes[0].conditon: unknown field; did you mean condition?")]
    [InlineData("/{id}/nodes", """{"nodes":[{"address":"10.0.0.8","port":80}],"node":{}}""", "node: unknown field; did you mean nodes?")]
    [InlineData("/{id}/accesslist", """{"accessList":[{"address":"10.8.0.0/16","type":"DENY","typo":1}]}""", "accessList[0].typo: unknown field; did you mean type?")]
    [InlineData("/{id}/accesslist", """{"accessList":[{"address":"10.8.0.0/16","type":"DENY"}],"accesslist":[]}""", "accesslist: unknown field; did you mean accessList?")]
    public async Task Post_UnknownField_Returns400NamingItAndChangesNothing(string path, string body, string expected)
    {
        var (api, id, nodeId) = await CreateAsync();
        var before = await StateAsync(api, id);

        var response = await api.PostAsync(PathOf(path, id, nodeId), body);

        Assert.True(response.Status == 400, response.ToString());
        Assert.Contains(expected, response.Messages);
        Assert.Equal(before, await StateAsync(api, id));
    }

    [Fact]
    public async Task Put_DuplicateField_Returns400AndChangesNothing()
    {
        var (api, id, _) = await CreateAsync();
        var before = await StateAsync(api, id);

        var response = await api.PutAsync($"/loadbalancers/{id}/connectionthrottle", """{"connectionThrottle":{"maxConnections":5,"maxConnections":"x"}}""");

        Assert.True(response.Status == 400, response.ToString());
        Assert.Equal("The request body is not valid JSON.", response.Body!["message"]!.GetValue<string>());
        Assert.Contains("maxConnections", response.Body["details"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(before, await StateAsync(api, id));
    }

    [Fact]
    public async Task Create_AsPkgcloudSendsItWithEchoedNodeAndVirtualIpObjects_Returns202()
    {
        // pkgcloud's createLoadBalancer: no root key; nodes as its Node objects serialise (Node.toJSON: id,
        // loadBalancerId, type, port, weight, status, condition, address); virtual IPs as its VirtualIp objects.
        var api = _host.NewAccount();
        var port = ApiHost.NextPort();

        var response = await api.PostAsync("/loadbalancers", $$"""
            {"name":"pkgcloud","nodes":[{"loadBalancerId":7,"type":"PRIMARY","port":80,"weight":1,"status":"ONLINE",
            "condition":"ENABLED","address":"10.0.0.1"}],"protocol":"HTTP","port":{{port}},
            "virtualIps":[{"type":"PUBLIC","ipVersion":"IPV4","address":"203.0.113.9"}],"timeout":30,
            "algorithm":"ROUND_ROBIN","sessionPersistence":{"persistenceType":"HTTP_COOKIE"},
            "connectionLogging":{"enabled":false},"metadata":[{"key":"k","value":"v"}]}
            """);

        Assert.True(response.Status == 202, response.ToString());
        Assert.Equal("10.0.0.1", response.Body!["loadBalancer"]!["nodes"]![0]!["address"]!.GetValue<string>());
    }

    [Fact]
    public async Task Create_AsPyraxSendsItWithEveryFieldAndNullsForTheUnset_Returns202()
    {
        // pyrax's _create_body: every field, null when not given; nodes from Node.to_dict() (with "id": null).
        var api = _host.NewAccount();

        var response = await api.PostAsync("/loadbalancers", $$"""
            {"loadBalancer":{"name":"pyrax","port":{{ApiHost.NextPort()}},"protocol":"HTTP",
            "nodes":[{"address":"10.0.0.1","port":80,"condition":"ENABLED","type":null,"id":null}],
            "virtualIps":[{"type":"PUBLIC","ipVersion":"IPV4"}],"algorithm":"RANDOM","halfClosed":null,"accessList":null,
            "connectionLogging":null,"connectionThrottle":null,"healthMonitor":null,"metadata":null,"timeout":null,
            "sessionPersistence":null,"httpsRedirect":null}
            """ + "}");

        Assert.True(response.Status == 202, response.ToString());
    }

    [Fact]
    public async Task Create_AccessListThrottleAndLoggingInTheBody_AreAppliedAsRackspaceDoes()
    {
        // pkgcloud's createLoadBalancer picks accessList, connectionLogging and connectionThrottle from its details;
        // before issue 11 Tether dropped them silently.
        var api = _host.NewAccount();

        var response = await api.PostAsync("/loadbalancers", ApiClient.LoadBalancerBody("HTTP", ApiHost.NextPort(), extra: """
            "accessList":[{"address":"10.0.0.0/8","type":"DENY"}],"connectionThrottle":{"maxConnections":20},
            "connectionLogging":{"enabled":true}
            """));

        Assert.True(response.Status == 202, response.ToString());
        var id = response.Body!["loadBalancer"]!["id"]!.GetValue<int>();
        var lb = (await api.GetAsync($"/loadbalancers/{id}")).Body!["loadBalancer"]!;
        Assert.Equal("10.0.0.0/8", lb["accessList"]![0]!["address"]!.GetValue<string>());
        Assert.Equal("""{"maxConnections":20}""", lb["connectionThrottle"]!.ToJsonString());
        Assert.True(lb["connectionLogging"]!["enabled"]!.GetValue<bool>());
        Assert.True(_host.DataPlane.Live[id].ConnectionLogging);
    }

    [Fact]
    public async Task Create_InvalidAccessListOrThrottleInTheBody_Returns400AndCreatesNothing()
    {
        var api = _host.NewAccount();

        var response = await api.PostAsync("/loadbalancers", ApiClient.LoadBalancerBody("HTTP", ApiHost.NextPort(), extra: """
            "accessList":[{"address":"10.0.0.0/8","type":"BLOCK"}],"connectionThrottle":{"maxConnections":-1}
            """));

        Assert.True(response.Status == 400, response.ToString());
        Assert.Contains("accessList[0].type: must be ALLOW or DENY (got 'BLOCK')", response.Messages);
        Assert.Contains(response.Messages, m => m.StartsWith("maxConnections: must be from 0 to 100000", StringComparison.Ordinal)
            || m.StartsWith("connectionThrottle.maxConnections: must be from 0 to 100000", StringComparison.Ordinal));
        Assert.Equal("""{"loadBalancers":[]}""", (await api.GetAsync("/loadbalancers")).Text);
    }

    [Fact]
    public async Task AddNodes_AsPyraxSendsThemWithANullId_Returns202()
    {
        var (api, id, _) = await CreateAsync();

        var response = await api.PostAsync($"/loadbalancers/{id}/nodes",
            """{"nodes":[{"address":"10.0.0.9","port":80,"condition":"ENABLED","type":"PRIMARY","id":null}]}""");

        Assert.True(response.Status == 202, response.ToString());
    }

    [Fact]
    public async Task AddNodes_ReadOnlyStatusNoSdkSendsThere_Returns400()
    {
        var (api, id, _) = await CreateAsync();

        var response = await api.PostAsync($"/loadbalancers/{id}/nodes", """{"nodes":[{"address":"10.0.0.9","port":80,"status":"OFFLINE"}]}""");

        Assert.True(response.Status == 400, response.ToString());
        Assert.Contains(response.Messages, m => m.StartsWith("nodes[0].status: unknown field", StringComparison.Ordinal));
    }

    [Fact]
    public async Task PutSslTermination_WithRackspacesLowerCasePrivatekey_AsPkgcloudSendsIt_Returns200()
    {
        var (api, id, _) = await CreateAsync();
        var (cert, key) = TestCertificates.ValidAt(ApiHost.StartTime);
        var body = new JsonObject
        {
            ["securePort"] = ApiHost.NextPort(),
            ["privatekey"] = key,
            ["certificate"] = cert,
            ["enabled"] = true,
            ["secureTrafficOnly"] = false,
        };

        var response = await api.PutAsync($"/loadbalancers/{id}/ssltermination", body.ToJsonString());

        Assert.True(response.Status == 200, response.ToString());
        Assert.Equal(cert, (await api.GetAsync($"/loadbalancers/{id}/ssltermination")).Body!["sslTermination"]!["certificate"]!.GetValue<string>());
    }
}
