namespace Tether.Management.Tests.Endpoints;

/// <summary>Node addresses by host name through the API: accepted within <c>Management:AllowedDomains</c>, shown as
/// given (lower case), refused otherwise with 400 and nothing changed, duplicates compared case-insensitively.</summary>
public sealed class NodeHostNameEndpointsTests : IAsyncLifetime, IDisposable
{
    private readonly TempDirectory _directory = new();
    private ApiHost _host = null!;

    public async Task InitializeAsync() =>
        _host = await ApiHost.StartAsync(_directory.Path, o =>
        {
            o.AllowedDomains.Add("example.com");
            o.AllowedDomains.Add("localhost");
        });

    public async Task DisposeAsync() => await _host.DisposeAsync();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Create_NodeByNameInAllowedDomain_Returns202AndShowsTheName()
    {
        var api = _host.NewAccount();

        var id = await api.CreateLoadBalancerAsync(nodes: """[{"address":"Web-1.Example.com","port":80}]""");
        var nodes = await api.GetAsync($"/loadbalancers/{id}/nodes");

        Assert.Equal("web-1.example.com", nodes.Body!["nodes"]![0]!["address"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("web.example.org", "not within an allowed domain (example.com, localhost)")]
    [InlineData("notexample.com", "not within an allowed domain")]
    [InlineData("web_1.example.com", "or a host name")]
    [InlineData("-web.example.com", "or a host name")]
    public async Task AddNode_NameRefused_Returns400WithTheReasonAndNothingChanges(string address, string reason)
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();

        var response = await api.PostAsync($"/loadbalancers/{id}/nodes", $$"""{"nodes":[{"address":"{{address}}","port":80}]}""");
        var nodes = await api.GetAsync($"/loadbalancers/{id}/nodes");

        Assert.Equal(400, response.Status);
        Assert.Equal(400, response.Body!["code"]!.GetValue<int>());
        Assert.Contains(reason, string.Join("\n", response.Messages), StringComparison.Ordinal);
        Assert.Single(nodes.Body!["nodes"]!.AsArray());
    }

    [Fact]
    public async Task AddNode_SameNameOtherCase_Returns400Duplicate()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync(nodes: """[{"address":"web.example.com","port":80}]""");

        var response = await api.PostAsync($"/loadbalancers/{id}/nodes", """{"nodes":[{"address":"WEB.example.com","port":80}]}""");
        var otherPort = await api.PostAsync($"/loadbalancers/{id}/nodes", """{"nodes":[{"address":"WEB.example.com","port":81}]}""");

        Assert.Equal(400, response.Status);
        Assert.Contains("duplicate node", string.Join("\n", response.Messages), StringComparison.Ordinal);
        Assert.Equal(202, otherPort.Status);
    }

    [Fact]
    public async Task Create_NameAndNoAllowedDomains_Returns400()
    {
        using var directory = new TempDirectory();
        await using var host = await ApiHost.StartAsync(directory.Path);

        var response = await host.NewAccount().PostAsync("/loadbalancers",
            ApiClient.LoadBalancerBody("HTTP", ApiHost.NextPort(), nodes: """[{"address":"web.example.com","port":80}]"""));

        Assert.Equal(400, response.Status);
        Assert.Contains("none is configured", string.Join("\n", response.Messages), StringComparison.Ordinal);
        Assert.Empty((await host.NewAccount().GetAsync("/loadbalancers")).Body!["loadBalancers"]!.AsArray());
    }
}
