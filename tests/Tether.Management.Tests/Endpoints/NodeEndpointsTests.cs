using Tether.Core.Model;

namespace Tether.Management.Tests.Endpoints;

public sealed class NodeEndpointsTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private readonly ApiHost _host = fixture.Host;

    private async Task<(ApiClient Api, int Id, int NodeId)> CreateAsync()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync();
        var nodeId = (await api.GetAsync($"/loadbalancers/{id}/nodes")).Body!["nodes"]![0]!["id"]!.GetValue<int>();
        return (api, id, nodeId);
    }

    [Fact]
    public async Task List_Existing_Returns200WithNodesShape()
    {
        var (api, id, nodeId) = await CreateAsync();

        var response = await api.GetAsync($"/loadbalancers/{id}/nodes");

        Assert.Equal(200, response.Status);
        Assert.Equal(
            $$"""{"nodes":[{"id":{{nodeId}},"address":"10.0.0.1","port":80,"condition":"ENABLED","status":"ONLINE","weight":1,"type":"PRIMARY"}]}""",
            response.Text);
    }

    [Fact]
    public async Task Add_WithRootKey_Returns202WithTheCreatedNodesAndDefaults()
    {
        var (api, id, _) = await CreateAsync();

        var response = await api.PostAsync($"/loadbalancers/{id}/nodes", """
            {"nodes":[{"address":"10.0.0.2","port":80},{"address":"10.0.0.3","port":81,"condition":"DISABLED","weight":7,"type":"SECONDARY"}]}
            """);

        Assert.Equal(202, response.Status);
        var nodes = response.Body!["nodes"]!.AsArray();
        Assert.Equal(2, nodes.Count);
        Assert.Equal("ENABLED", nodes[0]!["condition"]!.GetValue<string>());
        Assert.Equal(1, nodes[0]!["weight"]!.GetValue<int>());
        Assert.Equal("PRIMARY", nodes[0]!["type"]!.GetValue<string>());
        Assert.Equal("DISABLED", nodes[1]!["condition"]!.GetValue<string>());
        Assert.Equal(7, nodes[1]!["weight"]!.GetValue<int>());
        Assert.Equal("SECONDARY", nodes[1]!["type"]!.GetValue<string>());
        Assert.Equal(3, _host.DataPlane.Live[id].Nodes.Length);
        Assert.Equal(3, _host.Store.LoadAll().Single(c => c.Id == id).Nodes.Length);
    }

    [Theory]
    [InlineData("""[{"address":"10.0.0.2","port":80}]""")]
    [InlineData("""{"node":{"address":"10.0.0.2","port":80}}""")]
    [InlineData("""{"address":"10.0.0.2","port":80}""")]
    public async Task Add_WithoutTheNodesRootKey_IsAccepted(string body)
    {
        var (api, id, _) = await CreateAsync();

        var response = await api.PostAsync($"/loadbalancers/{id}/nodes", body);

        Assert.Equal(202, response.Status);
        Assert.Equal("10.0.0.2", response.Body!["nodes"]![0]!["address"]!.GetValue<string>());
    }

    [Fact]
    public async Task Add_Ipv6Address_IsAcceptedInCanonicalForm()
    {
        var (api, id, _) = await CreateAsync();

        var response = await api.PostAsync($"/loadbalancers/{id}/nodes", """{"nodes":[{"address":"2001:DB8:0:0::1","port":80}]}""");

        Assert.Equal(202, response.Status);
        Assert.Equal("2001:db8::1", response.Body!["nodes"]![0]!["address"]!.GetValue<string>());
    }

    [Fact]
    public async Task Add_InvalidFields_Returns400WithEveryError()
    {
        var (api, id, _) = await CreateAsync();

        var response = await api.PostAsync($"/loadbalancers/{id}/nodes", """
            {"nodes":[
              {"address":"1","port":0},
              {"address":"999.1.1.1","port":65536,"condition":"UP","type":"BACKUP","weight":101},
              {"address":"example.com","port":80,"weight":0},
              {"port":80},
              {"address":"10.0.0.9"}
            ]}
            """);

        Assert.Equal(400, response.Status);
        var messages = response.Messages;
        Assert.Contains(messages, m => m.StartsWith("nodes[0].address: must be an IPv4", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("nodes[0].port: must be from 1 to 65535", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("nodes[1].address: must be an IPv4", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("nodes[1].port: must be from 1 to 65535", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("nodes[1].condition: must be one of ENABLED, DISABLED, DRAINING", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("nodes[1].type: must be PRIMARY or SECONDARY", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("nodes[1].weight: must be from 1 to 100", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("nodes[2].address: must be an IPv4", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("nodes[2].weight: must be from 1 to 100", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("nodes[3].address: is required", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("nodes[4].port: is required", StringComparison.Ordinal));
        Assert.Equal(11, messages.Count);
        Assert.Single((await api.GetAsync($"/loadbalancers/{id}/nodes")).Body!["nodes"]!.AsArray());
    }

    [Theory]
    [InlineData(1, 202)]
    [InlineData(100, 202)]
    [InlineData(0, 400)]
    [InlineData(101, 400)]
    public async Task Add_Weight_IsLimitedTo1To100(int weight, int expected)
    {
        var (api, id, _) = await CreateAsync();

        var response = await api.PostAsync($"/loadbalancers/{id}/nodes", $$"""{"nodes":[{"address":"10.0.0.2","port":80,"weight":{{weight}}}]}""");

        Assert.Equal(expected, response.Status);
    }

    [Theory]
    [InlineData("0.0.0.0")]
    [InlineData("224.0.0.1")]
    [InlineData("255.255.255.255")]
    [InlineData("10.0.0")]
    [InlineData("10.0.0.01.5")]
    public async Task Add_NonUnicastOrMalformedAddress_Returns400(string address)
    {
        var (api, id, _) = await CreateAsync();

        var response = await api.PostAsync($"/loadbalancers/{id}/nodes", $$"""{"nodes":[{"address":"{{address}}","port":80}]}""");

        Assert.Equal(400, response.Status);
        Assert.Contains(response.Messages, m => m.StartsWith("nodes[0].address:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Add_DuplicateOfAnExistingNode_Returns400()
    {
        var (api, id, _) = await CreateAsync();

        var response = await api.PostAsync($"/loadbalancers/{id}/nodes", """{"nodes":[{"address":"10.0.0.1","port":80}]}""");

        Assert.Equal(400, response.Status);
        Assert.Contains(response.Messages, m => m.StartsWith("nodes[0]: duplicate node 10.0.0.1:80", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Add_DuplicateWithinTheRequest_Returns400()
    {
        var (api, id, _) = await CreateAsync();

        var response = await api.PostAsync($"/loadbalancers/{id}/nodes", """
            {"nodes":[{"address":"10.0.0.5","port":80},{"address":"10.0.0.5","port":80}]}
            """);

        Assert.Equal(400, response.Status);
        Assert.Contains(response.Messages, m => m.StartsWith("nodes[1]: duplicate node", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Create_DuplicateNodes_Returns400()
    {
        var response = await _host.NewAccount().PostAsync("/loadbalancers", ApiClient.LoadBalancerBody("HTTP", ApiHost.NextPort(),
            nodes: """[{"address":"10.0.0.1","port":80},{"address":"10.0.0.1","port":80}]"""));

        Assert.Equal(400, response.Status);
        Assert.Contains(response.Messages, m => m.StartsWith("nodes[1]: duplicate node", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Add_BeyondTheNodeLimitOf25_Returns413AndAddsNothing()
    {
        var (api, id, _) = await CreateAsync();
        var ok = "{\"nodes\":[" + string.Join(",", Enumerable.Range(2, 24).Select(i => $$"""{"address":"10.2.0.{{i}}","port":80}""")) + "]}";
        Assert.Equal(202, (await api.PostAsync($"/loadbalancers/{id}/nodes", ok)).Status);

        var response = await api.PostAsync($"/loadbalancers/{id}/nodes", """{"nodes":[{"address":"10.3.0.1","port":80}]}""");

        Assert.Equal(413, response.Status);
        Assert.Equal(25, (await api.GetAsync($"/loadbalancers/{id}/nodes")).Body!["nodes"]!.AsArray().Count);
    }

    [Fact]
    public async Task Add_EmptyList_Returns400()
    {
        var (api, id, _) = await CreateAsync();

        var response = await api.PostAsync($"/loadbalancers/{id}/nodes", """{"nodes":[]}""");

        Assert.Equal(400, response.Status);
    }

    [Fact]
    public async Task Get_Existing_Returns200WithNodeRootKey()
    {
        var (api, id, nodeId) = await CreateAsync();

        var response = await api.GetAsync($"/loadbalancers/{id}/nodes/{nodeId}");

        Assert.Equal(200, response.Status);
        Assert.Equal(nodeId, response.Body!["node"]!["id"]!.GetValue<int>());
    }

    [Fact]
    public async Task Get_UnknownNode_Returns404NodeNotFound()
    {
        var (api, id, _) = await CreateAsync();

        var response = await api.GetAsync($"/loadbalancers/{id}/nodes/999999");

        Assert.Equal(404, response.Status);
        Assert.Equal("""{"message":"Node not found","code":404}""", response.Text);
    }

    [Theory]
    [InlineData("""{"node":{"condition":"DRAINING","weight":9,"type":"SECONDARY"}}""")]
    [InlineData("""{"condition":"DRAINING","weight":9,"type":"SECONDARY"}""")]
    public async Task Update_MutableFields_Returns202AndApplies(string body)
    {
        var (api, id, nodeId) = await CreateAsync();

        var response = await api.PutAsync($"/loadbalancers/{id}/nodes/{nodeId}", body);

        Assert.Equal(202, response.Status);
        var node = (await api.GetAsync($"/loadbalancers/{id}/nodes/{nodeId}")).Body!["node"]!;
        Assert.Equal("DRAINING", node["condition"]!.GetValue<string>());
        Assert.Equal(9, node["weight"]!.GetValue<int>());
        Assert.Equal("SECONDARY", node["type"]!.GetValue<string>());
        Assert.Equal(NodeCondition.Draining, _host.DataPlane.Live[id].Nodes.Single().Condition);
    }

    [Theory]
    [InlineData("""{"node":{"address":"10.0.0.9"}}""", "address: is immutable")]
    [InlineData("""{"node":{"port":81}}""", "port: is immutable")]
    [InlineData("""{"node":{"status":"OFFLINE"}}""", "status: is read-only")]
    [InlineData("""{"node":{"weight":0}}""", "weight: must be from 1 to 100")]
    [InlineData("""{"node":{"weight":101}}""", "weight: must be from 1 to 100")]
    [InlineData("""{"node":{"condition":"OFF"}}""", "condition: must be one of")]
    [InlineData("""{"node":{"type":"TERTIARY"}}""", "type: must be PRIMARY or SECONDARY")]
    [InlineData("""{"node":{"weight":"heavy"}}""", "weight: must be an integer")]
    [InlineData("""{"node":{}}""", "node: give at least one of")]
    public async Task Update_InvalidOrImmutableField_Returns400NamingIt(string body, string message)
    {
        var (api, id, nodeId) = await CreateAsync();

        var response = await api.PutAsync($"/loadbalancers/{id}/nodes/{nodeId}", body);

        Assert.Equal(400, response.Status);
        Assert.Contains(response.Messages, m => m.StartsWith(message, StringComparison.Ordinal));
        var node = _host.Store.LoadAll().Single(c => c.Id == id).Nodes.Single();
        Assert.Equal(("10.0.0.1", 80, 1, NodeStatus.Online), (node.Address, node.Port, node.Weight, node.Status));
    }

    [Fact]
    public async Task Update_UnknownNode_Returns404()
    {
        var (api, id, _) = await CreateAsync();

        var response = await api.PutAsync($"/loadbalancers/{id}/nodes/999999", """{"condition":"DISABLED"}""");

        Assert.Equal(404, response.Status);
        Assert.Equal("Node not found", response.Body!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Delete_OneOfTwo_Returns202AndRemovesIt()
    {
        var (api, id, nodeId) = await CreateAsync();
        await api.PostAsync($"/loadbalancers/{id}/nodes", """{"nodes":[{"address":"10.0.0.2","port":80}]}""");

        var response = await api.DeleteAsync($"/loadbalancers/{id}/nodes/{nodeId}");

        Assert.Equal(202, response.Status);
        Assert.Equal(404, (await api.GetAsync($"/loadbalancers/{id}/nodes/{nodeId}")).Status);
        Assert.Equal("10.0.0.2", _host.DataPlane.Live[id].Nodes.Single().Address);
    }

    [Fact]
    public async Task Delete_LastNode_Returns400AndKeepsIt()
    {
        var (api, id, nodeId) = await CreateAsync();

        var response = await api.DeleteAsync($"/loadbalancers/{id}/nodes/{nodeId}");

        Assert.Equal(400, response.Status);
        Assert.Contains(response.Messages, m => m.StartsWith("nodes: a load balancer must keep at least one node", StringComparison.Ordinal));
        Assert.Equal(200, (await api.GetAsync($"/loadbalancers/{id}/nodes/{nodeId}")).Status);
    }

    [Fact]
    public async Task Delete_UnknownNode_Returns404()
    {
        var (api, id, _) = await CreateAsync();

        var response = await api.DeleteAsync($"/loadbalancers/{id}/nodes/999999");

        Assert.Equal(404, response.Status);
        Assert.Equal("Node not found", response.Body!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task BulkDelete_TwoOfThree_Returns202()
    {
        var (api, id, first) = await CreateAsync();
        var added = (await api.PostAsync($"/loadbalancers/{id}/nodes", """{"nodes":[{"address":"10.0.0.2","port":80},{"address":"10.0.0.3","port":80}]}"""))
            .Body!["nodes"]!.AsArray().Select(n => n!["id"]!.GetValue<int>()).ToArray();

        var response = await api.DeleteAsync($"/loadbalancers/{id}/nodes?id={first}&id={added[0]}");

        Assert.Equal(202, response.Status);
        Assert.Equal([added[1]], _host.DataPlane.Live[id].Nodes.Select(n => n.Id).ToArray());
    }

    [Fact]
    public async Task BulkDelete_EveryNode_Returns400AndDeletesNothing()
    {
        var (api, id, first) = await CreateAsync();
        var second = (await api.PostAsync($"/loadbalancers/{id}/nodes", """{"nodes":[{"address":"10.0.0.2","port":80}]}"""))
            .Body!["nodes"]![0]!["id"]!.GetValue<int>();

        var response = await api.DeleteAsync($"/loadbalancers/{id}/nodes?id={first}&id={second}");

        Assert.Equal(400, response.Status);
        Assert.Equal(2, (await api.GetAsync($"/loadbalancers/{id}/nodes")).Body!["nodes"]!.AsArray().Count);
    }

    [Fact]
    public async Task BulkDelete_OneMissing_Returns404AndDeletesNothing()
    {
        var (api, id, first) = await CreateAsync();
        await api.PostAsync($"/loadbalancers/{id}/nodes", """{"nodes":[{"address":"10.0.0.2","port":80}]}""");

        var response = await api.DeleteAsync($"/loadbalancers/{id}/nodes?id={first}&id=999999");

        Assert.Equal(404, response.Status);
        Assert.Equal(2, _host.Store.LoadAll().Single(c => c.Id == id).Nodes.Length);
    }

    [Fact]
    public async Task BulkDelete_MoreThan10_Returns400()
    {
        var (api, id, _) = await CreateAsync();

        var response = await api.DeleteAsync($"/loadbalancers/{id}/nodes?" + string.Join("&", Enumerable.Range(1, 11).Select(i => $"id={i}")));

        Assert.Equal(400, response.Status);
    }
}
