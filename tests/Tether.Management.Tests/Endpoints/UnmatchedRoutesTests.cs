namespace Tether.Management.Tests.Endpoints;

/// <summary>Paths and methods no endpoint serves under /v1.0: the Rackspace error body after the token check.</summary>
public sealed class UnmatchedRoutesTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private readonly ApiHost _host = fixture.Host;

    [Theory]
    [InlineData("GET", "/nothing-here")]
    [InlineData("POST", "/loadbalancers/1/nothing")]
    [InlineData("DELETE", "/loadbalancers/abc")]
    [InlineData("GET", "")]
    public async Task UnknownPath_ValidToken_Answers404WithBody(string method, string path)
    {
        var client = _host.NewAccount();

        var response = await client.SendAsync(new HttpMethod(method), path, method == "POST" ? "{}" : null);

        Assert.Equal(404, response.Status);
        Assert.Equal("Resource not found", response.Body!["message"]!.GetValue<string>());
        Assert.Equal(404, response.Body["code"]!.GetValue<int>());
        Assert.Equal($"No resource at /v1.0/{client.Account}{path}; docs/api.md lists the API's paths.", response.Body["details"]!.GetValue<string>());
    }

    [Fact]
    public async Task UnknownPath_NoToken_Answers401First()
    {
        var response = await _host.Client(1, token: null).GetAsync("/nothing-here");

        Assert.Equal(401, response.Status);
        Assert.Equal("""{"message":"No valid token provided","code":401}""", response.Text);
    }

    [Fact]
    public async Task UnknownPath_TokenOfAnotherAccount_Answers401()
    {
        var owner = _host.NewAccount();

        var response = await _host.Client(owner.Account + 1000, owner.Token).GetAsync("/nothing-here");

        Assert.Equal(401, response.Status);
        Assert.Equal($"The token does not belong to account {owner.Account + 1000}.", response.Body!["details"]!.GetValue<string>());
    }

    [Fact]
    public async Task KnownPath_UnsupportedMethod_Answers405WithBodyAndAllow()
    {
        var client = _host.NewAccount();
        using var http = new HttpClient { BaseAddress = _host.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Patch, $"/v1.0/{client.Account}/loadbalancers/protocols");
        request.Headers.Add("X-Auth-Token", client.Token);

        using var response = await http.SendAsync(request);
        var body = System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Equal(405, (int)response.StatusCode);
        Assert.Equal(["GET"], response.Content.Headers.Allow);
        Assert.Equal("Method not allowed", body["message"]!.GetValue<string>());
        Assert.Equal(405, body["code"]!.GetValue<int>());
        Assert.Equal($"PATCH is not allowed on /v1.0/{client.Account}/loadbalancers/protocols; allowed: GET.", body["details"]!.GetValue<string>());
    }

    [Fact]
    public async Task KnownPath_UnsupportedMethodWithoutToken_Answers401()
    {
        var response = await _host.Client(1, token: null).SendAsync(HttpMethod.Patch, "/loadbalancers", "{}");

        Assert.Equal(401, response.Status);
    }

    [Fact]
    public async Task PathOutsideTheApi_StaysAnEmpty404()
    {
        using var http = new HttpClient { BaseAddress = _host.BaseAddress };

        using var response = await http.GetAsync("/v2.0/1/loadbalancers");

        Assert.Equal(404, (int)response.StatusCode);
        Assert.Equal("", await response.Content.ReadAsStringAsync());
    }
}
