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

    /// <summary><c>created</c> is ISO 8601 UTC (<c>2019-10-25T17:50:10Z</c>, the current Rackspace reference), not the
    /// older guide's <c>10-30-2012 10:18:23</c>: openstack.net reads it as a DateTimeOffset, which reads ISO 8601 in any
    /// culture and the older form only where month-day-year is the culture's order; gophercloud, pkgcloud and fog keep
    /// the string.</summary>
    [Theory]
    [InlineData("")]
    [InlineData("en-US")]
    [InlineData("de-DE")]
    [InlineData("ja-JP")]
    public async Task GetNodeEvents_Created_IsIso8601UtcThatReadsTheSameInEveryCulture(string culture)
    {
        var (api, id, nodes) = await CreateMonitoredAsync();
        var change = _dataPlane.FindRuntime(id)!.SetNodeStatus(nodes[0], NodeStatus.Offline, "Connection refused")!;

        var created = (await api.GetAsync($"/loadbalancers/{id}/nodes/events")).Body!["nodeServiceEvents"]![0]!["created"]!.GetValue<string>();

        var parsed = DateTimeOffset.Parse(created, System.Globalization.CultureInfo.GetCultureInfo(culture), System.Globalization.DateTimeStyles.AssumeUniversal);
        Assert.Equal(change.Created.ToUnixTimeSeconds(), parsed.ToUnixTimeSeconds());
        Assert.Equal(TimeSpan.Zero, DateTimeOffset.ParseExact(created, "yyyy-MM-dd'T'HH:mm:ssK", System.Globalization.CultureInfo.InvariantCulture).Offset);
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
