using Tether.Core.Model;

namespace Tether.Management.Tests.Endpoints;

/// <summary>Node status is the live one health monitoring set in the runtime, and its changes are node events.</summary>
public sealed class NodeStatusEndpointsTests : IAsyncLifetime, IDisposable
{
    private const string Connect = """{"healthMonitor":{"type":"CONNECT","delay":1,"timeout":1,"attemptsBeforeDeactivation":1}}""";
    private const string TwoNodes = """[{"address":"10.0.0.1","port":80},{"address":"10.0.0.2","port":80}]""";

    private readonly TempDirectory _directory = new();
    private readonly RuntimeDataPlane _dataPlane = new();
    private ApiHost _host = null!;

    public async Task InitializeAsync() => _host = await ApiHost.StartAsync(_directory.Path, dataPlane: _dataPlane);

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _directory.Dispose();
    }

    public void Dispose() => _directory.Dispose();

    private async Task<(ApiClient Api, int Id, int[] Nodes)> CreateMonitoredAsync()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync(nodes: TwoNodes);
        Assert.Equal(202, (await api.PutAsync($"/loadbalancers/{id}/healthmonitor", Connect)).Status);
        var nodes = _dataPlane.Live[id].Nodes.Select(n => n.Id).ToArray();
        return (api, id, nodes);
    }

    [Fact]
    public async Task GetNodes_NodeSetOfflineByMonitoring_ShowsOfflineEverywhere()
    {
        var (api, id, nodes) = await CreateMonitoredAsync();

        _dataPlane.FindRuntime(id)!.SetNodeStatus(nodes[1], NodeStatus.Offline, "Connection refused");

        var list = (await api.GetAsync($"/loadbalancers/{id}/nodes")).Body!["nodes"]!.AsArray();
        Assert.Equal(["ONLINE", "OFFLINE"], list.Select(n => n!["status"]!.GetValue<string>()));
        Assert.Equal("OFFLINE", (await api.GetAsync($"/loadbalancers/{id}/nodes/{nodes[1]}")).Body!["node"]!["status"]!.GetValue<string>());
        var lb = (await api.GetAsync($"/loadbalancers/{id}")).Body!["loadBalancer"]!["nodes"]!.AsArray();
        Assert.Equal(["ONLINE", "OFFLINE"], lb.Select(n => n!["status"]!.GetValue<string>()));
        // Status is not stored: the store keeps the operator's configuration only.
        Assert.All(_host.Store.LoadAll().Single(c => c.Id == id).Nodes, n => Assert.Equal(NodeStatus.Online, n.Status));
    }

    [Fact]
    public async Task DeleteHealthMonitor_OfflineNodes_AreOnlineAgainAndRecorded()
    {
        var (api, id, nodes) = await CreateMonitoredAsync();
        _dataPlane.FindRuntime(id)!.SetNodeStatus(nodes[0], NodeStatus.Offline, "Connection refused");

        Assert.Equal(202, (await api.DeleteAsync($"/loadbalancers/{id}/healthmonitor")).Status);

        var list = (await api.GetAsync($"/loadbalancers/{id}/nodes")).Body!["nodes"]!.AsArray();
        Assert.All(list, n => Assert.Equal("ONLINE", n!["status"]!.GetValue<string>()));
        var events = (await api.GetAsync($"/loadbalancers/{id}/nodes/events")).Body!["nodeServiceEvents"]!.AsArray();
        Assert.Equal(["OFFLINE", "ONLINE"], events.Select(e => e!["description"]!.GetValue<string>().Split('\'')[3]));
        Assert.Equal("Health monitor removed", events[1]!["detailedMessage"]!.GetValue<string>());
    }

    [Fact]
    public async Task GetNodeEvents_StatusChanges_InRackspaceShapeOldestFirst()
    {
        var (api, id, nodes) = await CreateMonitoredAsync();
        var runtime = _dataPlane.FindRuntime(id)!;
        var offline = runtime.SetNodeStatus(nodes[1], NodeStatus.Offline, "Connection refused")!;
        var online = runtime.SetNodeStatus(nodes[1], NodeStatus.Online, "Node is working")!;

        var response = await api.GetAsync($"/loadbalancers/{id}/nodes/events");

        Assert.Equal(200, response.Status);
        var events = response.Body!["nodeServiceEvents"]!.AsArray();
        Assert.Equal(2, events.Count);
        var first = events[0]!.AsObject();
        Assert.Equal(
            ["id", "detailedMessage", "nodeId", "type", "description", "category", "severity", "relativeUri", "accountId",
             "loadbalancerId", "title", "author", "created", "callbackHost"],
            first.Select(p => p.Key));
        Assert.Equal(offline.Id, first["id"]!.GetValue<long>());
        Assert.Equal("Connection refused", first["detailedMessage"]!.GetValue<string>());
        Assert.Equal(nodes[1], first["nodeId"]!.GetValue<int>());
        Assert.Equal("UPDATE_NODE", first["type"]!.GetValue<string>());
        Assert.Equal($"Node '{nodes[1]}' status changed to 'OFFLINE' for load balancer '{id}'", first["description"]!.GetValue<string>());
        Assert.Equal("UPDATE", first["category"]!.GetValue<string>());
        Assert.Equal("INFO", first["severity"]!.GetValue<string>());
        Assert.Equal($"/{api.Account}/loadbalancers/{id}/nodes/{nodes[1]}/events", first["relativeUri"]!.GetValue<string>());
        Assert.Equal(api.Account, first["accountId"]!.GetValue<int>());
        Assert.Equal(id, first["loadbalancerId"]!.GetValue<int>());
        Assert.Equal("Node Status Updated", first["title"]!.GetValue<string>());
        Assert.Equal("Tether", first["author"]!.GetValue<string>());
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", first["created"]!.GetValue<string>());
        Assert.Equal(online.Id, events[1]!["id"]!.GetValue<long>());
        Assert.Equal("Node is working", events[1]!["detailedMessage"]!.GetValue<string>());
        Assert.Equal(new JsonArray().ToJsonString(), response.Body!["links"]!.ToJsonString());
    }

    [Fact]
    public async Task GetNodeEvents_OneNode_OnlyItsEventsAnd404ForAnUnknownNode()
    {
        var (api, id, nodes) = await CreateMonitoredAsync();
        var runtime = _dataPlane.FindRuntime(id)!;
        runtime.SetNodeStatus(nodes[0], NodeStatus.Offline, "Connection refused");
        runtime.SetNodeStatus(nodes[1], NodeStatus.Offline, "Connection refused");

        var response = await api.GetAsync($"/loadbalancers/{id}/nodes/{nodes[1]}/events");

        Assert.Equal(200, response.Status);
        var events = response.Body!["nodeServiceEvents"]!.AsArray();
        Assert.Equal([nodes[1]], events.Select(e => e!["nodeId"]!.GetValue<int>()));
        Assert.Equal(404, (await api.GetAsync($"/loadbalancers/{id}/nodes/999999/events")).Status);
    }
}
