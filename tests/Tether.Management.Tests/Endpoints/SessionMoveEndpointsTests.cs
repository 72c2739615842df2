using Tether.Core.Runtime;
using Tether.Core.SessionPersistence;

namespace Tether.Management.Tests.Endpoints;

/// <summary><c>POST /loadbalancers/{id}/sessionpersistence/sessions/move</c>: its rules (404, 400, 422, nothing
/// changes on an error), its answer and its audit entry.</summary>
public sealed class SessionMoveEndpointsTests(RuntimeApiHostFixture fixture) : IClassFixture<RuntimeApiHostFixture>
{
    private const string ThreeNodes = """
        [{"address":"10.0.0.1","port":80},{"address":"10.0.0.2","port":80},{"address":"10.0.0.3","port":80}]
        """;

    private const string SourceIp = "\"sessionPersistence\":{\"persistenceType\":\"SOURCE_IP\"}";

    private readonly ApiHost _host = fixture.Host;
    private readonly RuntimeDataPlane _dataPlane = fixture.DataPlane;

    [Fact]
    public async Task Move_All_AnswersMovedAndEveryEntryNamesTheNewNode()
    {
        var (api, id, nodes) = await CreateAsync(sessionsOnFirst: 30);

        var response = await api.PostAsync(Path(id), $$"""{"fromNodeId":{{nodes[0]}},"toNodeId":{{nodes[1]}}}""");

        Assert.Equal(200, response.Status);
        Assert.Equal(30, response.Body!["moved"]!.GetValue<int>());
        Assert.Equal(0, response.Body!["remaining"]!.GetValue<int>());
        Assert.Equal(new Dictionary<int, int> { [nodes[1]] = 30 }, Runtime(id).CountSessionsByNode());
        var listed = (await api.GetAsync($"/loadbalancers/{id}/sessionpersistence/sessions?nodeId={nodes[1]}&limit=1000")).Body!["sessions"]!.AsArray();
        Assert.Equal(30, listed.Count);
    }

    [Fact]
    public async Task Move_Fraction_MovesTheRoundedShareUnderTheRootKeyToo()
    {
        var (api, id, nodes) = await CreateAsync(sessionsOnFirst: 30);

        var response = await api.PostAsync(Path(id), $$$"""{"sessionMove":{"fromNodeId":{{{nodes[0]}}},"toNodeId":{{{nodes[2]}}},"fraction":0.25}}""");

        Assert.Equal(200, response.Status);
        Assert.Equal((8, 22), (response.Body!["moved"]!.GetValue<int>(), response.Body!["remaining"]!.GetValue<int>())); // 7.5 -> 8
        Assert.Equal(new Dictionary<int, int> { [nodes[0]] = 22, [nodes[2]] = 8 }, Runtime(id).CountSessionsByNode());
    }

    [Fact]
    public async Task Move_Done_IsWrittenToTheAuditLog()
    {
        var (api, id, nodes) = await CreateAsync(sessionsOnFirst: 4);

        Assert.Equal(200, (await api.PostAsync(Path(id), $$"""{"fromNodeId":{{nodes[0]}},"toNodeId":{{nodes[1]}},"fraction":0.5}""")).Status);

        var entry = (await api.GetAsync("/audit")).Body!["auditEntries"]!.AsArray().First()!;
        Assert.Equal($"/loadbalancers/{id}/sessionpersistence/sessions/move", entry["resource"]!.GetValue<string>());
        Assert.Equal("POST", entry["method"]!.GetValue<string>());
        Assert.Empty(entry["changes"]!.AsArray());
        Assert.Equal($"session move: 2 sessions from node {nodes[0]} to node {nodes[1]} (fraction 0.5); 2 remain on node {nodes[0]}",
            entry["notes"]![0]!.GetValue<string>());
    }

    [Theory]
    [InlineData("{}", "fromNodeId: required")]
    [InlineData("""{"fromNodeId":1}""", "toNodeId: required")]
    [InlineData("""{"fromNodeId":"1","toNodeId":2}""", "fromNodeId: must be an integer")]
    [InlineData("""{"fromNodeId":FIRST,"toNodeId":FIRST}""", "toNodeId: must differ from fromNodeId")]
    [InlineData("""{"fromNodeId":FIRST,"toNodeId":SECOND,"fraction":0}""", "fraction: 0 is out of range")]
    [InlineData("""{"fromNodeId":FIRST,"toNodeId":SECOND,"fraction":1.5}""", "fraction: 1.5 is out of range")]
    [InlineData("""{"fromNodeId":FIRST,"toNodeId":SECOND,"fraction":-0.5}""", "fraction: -0.5 is out of range")]
    [InlineData("""{"fromNodeId":FIRST,"toNodeId":SECOND,"fraction":"half"}""", "fraction: must be a number")]
    [InlineData("""{"fromNodeId":FIRST,"toNodeId":SECOND,"fracton":0.5}""", "fracton:")]
    public async Task Move_InvalidBody_Answers400AndMovesNothing(string body, string message)
    {
        var (api, id, nodes) = await CreateAsync(sessionsOnFirst: 5);
        body = body.Replace("FIRST", nodes[0].ToString()).Replace("SECOND", nodes[1].ToString());

        var response = await api.PostAsync(Path(id), body);

        Assert.Equal(400, response.Status);
        Assert.Equal(400, response.Body!["code"]!.GetValue<int>());
        Assert.Contains(response.Messages, m => m.StartsWith(message, StringComparison.Ordinal));
        Assert.Equal(new Dictionary<int, int> { [nodes[0]] = 5 }, Runtime(id).CountSessionsByNode());
    }

    [Fact]
    public async Task Move_NodeOfAnotherLoadBalancerOrUnknown_Answers404AndMovesNothing()
    {
        var (api, id, nodes) = await CreateAsync(sessionsOnFirst: 5);
        var (_, _, others) = await CreateAsync(sessionsOnFirst: 0, api);

        var fromMissing = await api.PostAsync(Path(id), $$"""{"fromNodeId":{{others[0]}},"toNodeId":{{nodes[1]}}}""");
        var toMissing = await api.PostAsync(Path(id), $$"""{"fromNodeId":{{nodes[0]}},"toNodeId":999999}""");
        var noLoadBalancer = await api.PostAsync(Path(999999), $$"""{"fromNodeId":{{nodes[0]}},"toNodeId":{{nodes[1]}}}""");

        Assert.Equal((404, "Node not found"), (fromMissing.Status, fromMissing.Body!["message"]!.GetValue<string>()));
        Assert.Contains("fromNodeId", fromMissing.Body!["details"]!.GetValue<string>());
        Assert.Equal((404, "Node not found"), (toMissing.Status, toMissing.Body!["message"]!.GetValue<string>()));
        Assert.Contains("toNodeId", toMissing.Body!["details"]!.GetValue<string>());
        Assert.Equal((404, "Load balancer not found"), (noLoadBalancer.Status, noLoadBalancer.Body!["message"]!.GetValue<string>()));
        Assert.Equal(new Dictionary<int, int> { [nodes[0]] = 5 }, Runtime(id).CountSessionsByNode());
    }

    [Theory]
    [InlineData("DRAINING")]
    [InlineData("DISABLED")]
    public async Task Move_TargetNotEnabled_Answers422AndMovesNothing(string condition)
    {
        var (api, id, nodes) = await CreateAsync(sessionsOnFirst: 5);
        Assert.Equal(202, (await api.PutAsync($"/loadbalancers/{id}/nodes/{nodes[1]}", $$$"""{"node":{"condition":"{{{condition}}}"}}""")).Status);

        var response = await api.PostAsync(Path(id), $$"""{"fromNodeId":{{nodes[0]}},"toNodeId":{{nodes[1]}}}""");

        Assert.Equal(422, response.Status);
        Assert.Equal(422, response.Body!["code"]!.GetValue<int>());
        Assert.Contains(condition, response.Body!["details"]!.GetValue<string>());
        Assert.Equal(new Dictionary<int, int> { [nodes[0]] = 5 }, Runtime(id).CountSessionsByNode());
    }

    [Fact]
    public async Task Move_FromDrainingNode_IsAllowed()
    {
        // Retiring a node: set it DRAINING (no new clients), then move its sessions away.
        var (api, id, nodes) = await CreateAsync(sessionsOnFirst: 5);
        Assert.Equal(202, (await api.PutAsync($"/loadbalancers/{id}/nodes/{nodes[0]}", """{"node":{"condition":"DRAINING"}}""")).Status);

        var response = await api.PostAsync(Path(id), $$"""{"fromNodeId":{{nodes[0]}},"toNodeId":{{nodes[1]}}}""");

        Assert.Equal((200, 5), (response.Status, response.Body!["moved"]!.GetValue<int>()));
    }

    [Fact]
    public async Task Move_WithoutPersistence_MovesNothing()
    {
        var api = _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync(nodes: ThreeNodes);
        var nodes = _dataPlane.Live[id].Nodes.Select(n => n.Id).ToArray();

        var response = await api.PostAsync(Path(id), $$"""{"fromNodeId":{{nodes[0]}},"toNodeId":{{nodes[1]}}}""");

        Assert.Equal((200, 0), (response.Status, response.Body!["moved"]!.GetValue<int>()));
    }

    private static string Path(int id) => $"/loadbalancers/{id}/sessionpersistence/sessions/move";

    private LoadBalancerRuntime Runtime(int id) => _dataPlane.FindRuntime(id)!;

    /// <summary>A SOURCE_IP load balancer with three nodes and <paramref name="sessionsOnFirst"/> clients pinned to
    /// its first node.</summary>
    private async Task<(ApiClient Api, int Id, int[] Nodes)> CreateAsync(int sessionsOnFirst, ApiClient? api = null)
    {
        api ??= _host.NewAccount();
        var id = await api.CreateLoadBalancerAsync(nodes: ThreeNodes, extra: SourceIp);
        var nodes = _dataPlane.Live[id].Nodes.Select(n => n.Id).ToArray();
        var runtime = Runtime(id);
        for (var i = 0; i < sessionsOnFirst; i++)
        {
            var key = ClientAddress.ToKey(new System.Net.IPAddress(new byte[] { 100, 64, (byte)(i >> 8), (byte)i }));
            runtime.StickTable.Set(key, nodes[0], runtime.Time.GetTimestamp());
        }

        return (api, id, nodes);
    }
}
