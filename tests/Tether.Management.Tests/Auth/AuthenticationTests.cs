namespace Tether.Management.Tests.Auth;

public sealed class AuthenticationTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private readonly ApiHost _host = fixture.Host;

    [Theory]
    [InlineData("GET", "/loadbalancers")]
    [InlineData("POST", "/loadbalancers")]
    [InlineData("GET", "/loadbalancers/protocols")]
    [InlineData("DELETE", "/loadbalancers/1/sessionpersistence")]
    public async Task AnyEndpoint_MissingToken_Returns401WithFlatBody(string method, string path)
    {
        var response = await _host.Client(1, token: null).SendAsync(new HttpMethod(method), path, method == "POST" ? "{}" : null);

        Assert.Equal(401, response.Status);
        Assert.Equal("""{"message":"No valid token provided","code":401}""", response.Text);
    }

    [Fact]
    public async Task AnyEndpoint_UnknownToken_Returns401()
    {
        var response = await _host.Client(1, "not-a-token").GetAsync("/loadbalancers");

        Assert.Equal(401, response.Status);
        Assert.Equal(401, response.Body!["code"]!.GetValue<int>());
    }

    [Fact]
    public async Task AnyEndpoint_TokenOfAnotherAccountInPath_Returns401()
    {
        var owner = _host.NewAccount();

        var response = await _host.Client(owner.Account + 1000, owner.Token).GetAsync("/loadbalancers");

        Assert.Equal(401, response.Status);
        Assert.Equal("No valid token provided", response.Body!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task LoadBalancerOfAnotherAccount_EveryVerb_Returns404()
    {
        var owner = _host.NewAccount();
        var other = _host.NewAccount();
        var id = await owner.CreateLoadBalancerAsync();
        var nodeId = (await owner.GetAsync($"/loadbalancers/{id}/nodes")).Body!["nodes"]![0]!["id"]!.GetValue<int>();

        var responses = new[]
        {
            await other.GetAsync($"/loadbalancers/{id}"),
            await other.PutAsync($"/loadbalancers/{id}", """{"name":"stolen"}"""),
            await other.DeleteAsync($"/loadbalancers/{id}"),
            await other.DeleteAsync($"/loadbalancers?id={id}"),
            await other.GetAsync($"/loadbalancers/{id}/nodes"),
            await other.PostAsync($"/loadbalancers/{id}/nodes", """{"nodes":[{"address":"10.9.9.9","port":80}]}"""),
            await other.GetAsync($"/loadbalancers/{id}/nodes/{nodeId}"),
            await other.PutAsync($"/loadbalancers/{id}/nodes/{nodeId}", """{"condition":"DISABLED"}"""),
            await other.DeleteAsync($"/loadbalancers/{id}/nodes/{nodeId}"),
            await other.GetAsync($"/loadbalancers/{id}/sessionpersistence"),
            await other.PutAsync($"/loadbalancers/{id}/sessionpersistence", """{"persistenceType":"SOURCE_IP"}"""),
            await other.DeleteAsync($"/loadbalancers/{id}/sessionpersistence"),
        };

        Assert.All(responses, r =>
        {
            Assert.Equal(404, r.Status);
            Assert.Equal("""{"message":"Load balancer not found","code":404}""", r.Text);
        });
        Assert.Equal("lb", (await owner.GetAsync($"/loadbalancers/{id}")).Body!["loadBalancer"]!["name"]!.GetValue<string>());
        Assert.Empty((await other.GetAsync("/loadbalancers")).Body!["loadBalancers"]!.AsArray());
    }
}
