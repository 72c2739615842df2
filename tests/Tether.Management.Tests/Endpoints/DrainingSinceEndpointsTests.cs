namespace Tether.Management.Tests.Endpoints;

/// <summary><c>drainingSince</c> (issue 13, drain progress; Tether's, read-only): the time a node became DRAINING,
/// shown on DRAINING nodes only, kept while the node stays DRAINING, stored, and gone when it leaves DRAINING.</summary>
public sealed class DrainingSinceEndpointsTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private readonly ApiHost _host = fixture.Host;

    [Fact]
    public async Task PutNode_Draining_ShowsDrainingSinceUntilEnabledAgain()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();
        var nodeId = (await api.GetAsync($"/loadbalancers/{id}/nodes")).Body!["nodes"]![0]!["id"]!.GetValue<int>();
        Assert.Null((await GetNodeAsync(api, id, nodeId))["drainingSince"]);

        var at = _host.Time.GetUtcNow();
        Assert.Equal(202, (await api.PutAsync($"/loadbalancers/{id}/nodes/{nodeId}", """{"node":{"condition":"DRAINING"}}""")).Status);
        var expected = at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(expected, (await GetNodeAsync(api, id, nodeId))["drainingSince"]!.GetValue<string>());
        Assert.Equal(expected, (await api.GetAsync($"/loadbalancers/{id}")).Body!["loadBalancer"]!["nodes"]![0]!["drainingSince"]!.GetValue<string>());

        // Another change while DRAINING keeps the time; so does the store.
        _host.Time.Advance(TimeSpan.FromMinutes(3));
        Assert.Equal(202, (await api.PutAsync($"/loadbalancers/{id}/nodes/{nodeId}", """{"node":{"weight":7,"condition":"DRAINING"}}""")).Status);
        Assert.Equal(expected, (await GetNodeAsync(api, id, nodeId))["drainingSince"]!.GetValue<string>());
        Assert.Equal(at, _host.Store.LoadAll().Single(c => c.Id == id).Nodes.Single().DrainingSince);
        Assert.Equal(at, _host.DataPlane.Live[id].Nodes.Single().DrainingSince);

        Assert.Equal(202, (await api.PutAsync($"/loadbalancers/{id}/nodes/{nodeId}", """{"node":{"condition":"ENABLED"}}""")).Status);
        Assert.Null((await GetNodeAsync(api, id, nodeId))["drainingSince"]);
        Assert.Null(_host.Store.LoadAll().Single(c => c.Id == id).Nodes.Single().DrainingSince);
    }

    [Fact]
    public async Task Create_DrainingNode_IsStampedWithTheCreationTime()
    {
        var api = _host.NewAccount();

        var id = await api.CreateLoadBalancerAsync(nodes: """[{"address":"10.0.0.1","port":80},{"address":"10.0.0.2","port":80,"condition":"DRAINING"}]""");

        var nodes = (await api.GetAsync($"/loadbalancers/{id}/nodes")).Body!["nodes"]!.AsArray();
        Assert.Null(nodes[0]!["drainingSince"]);
        Assert.Equal(_host.Time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture),
            nodes[1]!["drainingSince"]!.GetValue<string>());
    }

    [Fact]
    public async Task PutNode_DrainingSinceGiven_Returns400AndChangesNothing()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();
        var nodeId = (await api.GetAsync($"/loadbalancers/{id}/nodes")).Body!["nodes"]![0]!["id"]!.GetValue<int>();

        var response = await api.PutAsync($"/loadbalancers/{id}/nodes/{nodeId}",
            """{"node":{"condition":"DRAINING","drainingSince":"2020-01-01T00:00:00Z"}}""");

        Assert.Equal(400, response.Status);
        Assert.Equal("ENABLED", (await GetNodeAsync(api, id, nodeId))["condition"]!.GetValue<string>());
    }

    private static async Task<System.Text.Json.Nodes.JsonNode> GetNodeAsync(ApiClient api, int id, int nodeId) =>
        (await api.GetAsync($"/loadbalancers/{id}/nodes/{nodeId}")).Body!["node"]!;
}
