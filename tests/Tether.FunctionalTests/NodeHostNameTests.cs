using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Tether.FunctionalTests.Infrastructure;

namespace Tether.FunctionalTests;

/// <summary>Node addresses by host name (docs/api.md "Node addresses by host name"): a real Tether whose allowed
/// domains are <c>localhost</c> and <c>invalid</c> (RFC 6761: names under <c>.invalid</c> never resolve), real backends
/// on 127.0.0.1, the system resolver.</summary>
public sealed class NodeHostNameTests : IAsyncLifetime
{
    private TetherInstance _tether = null!;
    private TestBackend _backend = null!;

    public async Task InitializeAsync()
    {
        _tether = await TetherInstance.StartAsync(configuration: new Dictionary<string, string?>
        {
            ["Management:AllowedDomains:0"] = "localhost",
            ["Management:AllowedDomains:1"] = "invalid",
        });
        _backend = await TestBackend.StartAsync("b1");
    }

    public async Task DisposeAsync()
    {
        await _tether.DisposeAsync();
        await _backend.DisposeAsync();
    }

    [Fact]
    public async Task NodeByName_Localhost_CarriesRealTrafficAndShowsTheName()
    {
        var (id, port) = await CreateAsync("localhost");
        using var client = Clients.WithoutCookies(port);

        var spread = await Clients.SpreadAsync(client, 10);
        var node = (await _tether.GetJsonAsync($"loadbalancers/{id}/nodes"))["nodes"]![0]!;

        Assert.Equal(10, spread["b1"]);
        Assert.Equal(10, _backend.Requests);
        Assert.Equal("localhost", node["address"]!.GetValue<string>());
        Assert.Equal("ONLINE", node["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task NodeByName_DoesNotResolve_NodeOfflineWithEventAndNoTrafficToLoopback()
    {
        // The node's port is the real backend's: were the name to fall back to 127.0.0.1, the backend would answer.
        var (id, port) = await CreateAsync("gone.invalid");
        using var client = Clients.WithoutCookies(port);

        var answers = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            answers.Add((await client.GetAsync("/")).StatusCode);
        }

        var added = await _tether.SendJsonAsync(HttpMethod.Post, $"loadbalancers/{id}/nodes", """{"nodes":[{"address":"other.invalid","port":80}]}""");
        var addedNode = JsonNode.Parse(await added.Content.ReadAsStringAsync())!["nodes"]![0]!;
        var node = (await _tether.GetJsonAsync($"loadbalancers/{id}/nodes"))["nodes"]![0]!;
        var events = (await _tether.GetJsonAsync($"loadbalancers/{id}/nodes/events"))["nodeServiceEvents"]!.AsArray();

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.ServiceUnavailable, a));
        Assert.Equal(0, _backend.Requests);
        Assert.Equal("gone.invalid", node["address"]!.GetValue<string>());
        Assert.Equal("OFFLINE", node["status"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Accepted, added.StatusCode);
        Assert.Equal("OFFLINE", addedNode["status"]!.GetValue<string>());
        Assert.Equal(2, events.Count);
        var message = events[0]!["detailedMessage"]!.GetValue<string>();
        Assert.Contains("Node address 'gone.invalid' did not resolve", message, StringComparison.Ordinal);
    }

    private async Task<(int Id, int Port)> CreateAsync(string address)
    {
        var port = FreePort.Next();
        var body = $$$"""{"loadBalancer":{"name":"lb","protocol":"HTTP","port":{{{port}}},"algorithm":"ROUND_ROBIN","virtualIps":[{"type":"SERVICENET"}],"nodes":[{"address":"{{{address}}}","port":{{{_backend.Port}}}}]}}""";
        var response = await _tether.Api.PostAsync("loadbalancers", new StringContent(body, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, text);
        return (JsonNode.Parse(text)!["loadBalancer"]!["id"]!.GetValue<int>(), port);
    }
}
