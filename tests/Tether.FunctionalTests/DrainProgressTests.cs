using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using Tether.FunctionalTests.Infrastructure;
using Xunit.Abstractions;

namespace Tether.FunctionalTests;

/// <summary>Drain progress end to end (issue 13): a real Tether on a fake clock, real TCP backends, a real client
/// that holds its connection and is pinned by SOURCE_IP. The DRAINING node shows <c>drainingSince</c>, the session
/// and the connection that remain, and gets one <c>drained</c> node event once both are gone.</summary>
public sealed class DrainProgressTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private TetherInstance _tether = null!;
    private TcpEchoBackend[] _backends = null!;

    public async Task InitializeAsync()
    {
        _tether = await TetherInstance.StartAsync(time: _clock);
        _backends = [TcpEchoBackend.Start("n1"), TcpEchoBackend.Start("n2")];
    }

    public async Task DisposeAsync()
    {
        await _tether.DisposeAsync();
        foreach (var b in _backends)
        {
            await b.DisposeAsync();
        }
    }

    [Fact]
    public async Task Drain_HeldConnectionAndPinnedSession_CountsThenOneDrainedEvent()
    {
        var (id, port) = await _tether.CreateAsync("TCP", "ROUND_ROBIN", Layer4.Nodes(_backends[0].Port, _backends[1].Port),
            """{"persistenceType":"SOURCE_IP","persistenceTimeout":60}""");
        using var client = await TcpTestClient.ConnectAsync(port);
        var name = await client.ReadLineAsync();
        var backend = _backends.Single(b => b.Name == name);
        var nodeId = (await NodesAsync(id)).Single(n => n["port"]!.GetValue<int>() == backend.Port)["id"]!.GetValue<int>();
        var log = new StringBuilder();

        var drainedAt = _clock.GetUtcNow();
        var put = await _tether.SendJsonAsync(HttpMethod.Put, $"loadbalancers/{id}/nodes/{nodeId}", """{"node":{"condition":"DRAINING"}}""");
        Assert.Equal(HttpStatusCode.Accepted, put.StatusCode);

        // Draining, with the held connection and its session.
        _clock.Advance(TimeSpan.FromSeconds(2));
        var node = await NodeAsync(id, nodeId);
        log.AppendLine($"t+2s  connection held:  {node.ToJsonString()}");
        Assert.Equal("DRAINING", node["condition"]!.GetValue<string>());
        Assert.Equal(drainedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture),
            node["drainingSince"]!.GetValue<string>());
        Assert.Equal(1, node["persistedSessions"]!.GetValue<int>());
        Assert.Equal(1, node["activeConnections"]!.GetValue<int>());
        Assert.False(node["drained"]!.GetValue<bool>());
        var listed = (await NodesAsync(id)).Single(n => n["id"]!.GetValue<int>() == nodeId);
        Assert.Equal(1, listed["activeConnections"]!.GetValue<int>());
        Assert.Equal(1, listed["persistedSessions"]!.GetValue<int>());

        // The pinned client still reaches the draining node on a new connection.
        Assert.Equal(name, await TcpTestClient.ReachAsync(port));

        // The connection closes: the session remains, so not drained yet.
        client.Dispose();
        for (var i = 0; i < 500 && (await NodeAsync(id, nodeId))["activeConnections"]!.GetValue<int>() != 0; i++)
        {
            await Task.Delay(10);
        }

        _clock.Advance(TimeSpan.FromSeconds(2));
        node = await NodeAsync(id, nodeId);
        log.AppendLine($"t+4s  connection closed: {node.ToJsonString()}");
        Assert.Equal(0, node["activeConnections"]!.GetValue<int>());
        Assert.Equal(1, node["persistedSessions"]!.GetValue<int>());
        Assert.False(node["drained"]!.GetValue<bool>());
        Assert.Empty(await DrainedEventsAsync(id, nodeId));

        // The session expires (60 s idle): drained at the next check, once.
        _clock.Advance(TimeSpan.FromSeconds(61));
        _clock.Advance(TimeSpan.FromSeconds(1));
        node = await NodeAsync(id, nodeId);
        log.AppendLine($"t+66s session expired: {node.ToJsonString()}");
        Assert.Equal(0, node["persistedSessions"]!.GetValue<int>());
        Assert.True(node["drained"]!.GetValue<bool>());
        var drained = Assert.Single(await DrainedEventsAsync(id, nodeId));
        log.AppendLine($"event: {drained.ToJsonString()}");
        Assert.Equal($"Node '{nodeId}' drained for load balancer '{id}'", drained["description"]!.GetValue<string>());
        Assert.StartsWith("Node drained: no persisted session and no active connection left", drained["detailedMessage"]!.GetValue<string>(), StringComparison.Ordinal);
        _clock.Advance(TimeSpan.FromSeconds(5));
        Assert.Single(await DrainedEventsAsync(id, nodeId));
        output.WriteLine(log.ToString());
    }

    private async Task<List<JsonNode>> NodesAsync(int id) =>
        [.. (await _tether.GetJsonAsync($"loadbalancers/{id}/nodes"))["nodes"]!.AsArray().Select(n => n!)];

    private async Task<JsonNode> NodeAsync(int id, int nodeId) =>
        (await _tether.GetJsonAsync($"loadbalancers/{id}/nodes/{nodeId}"))["node"]!;

    private async Task<List<JsonNode>> DrainedEventsAsync(int id, int nodeId) =>
        [.. (await _tether.GetJsonAsync($"loadbalancers/{id}/nodes/{nodeId}/events"))["nodeServiceEvents"]!.AsArray()
            .Select(e => e!).Where(e => e["title"]!.GetValue<string>() == "Node Drained")];
}
