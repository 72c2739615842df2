using System.Globalization;
using System.Net;
using Garnet;

namespace Tether.Cluster.Tests;

/// <summary>Cluster mode while the store is down (issue 14): configuration writes answer 503 with the Rackspace error
/// body and change nothing, the data plane keeps serving, <c>tether_cluster_store_up</c> says 0; when a store is back
/// on the same port (empty: Garnet keeps nothing), the instance fills it with what it serves and writes are accepted
/// again.</summary>
public sealed class StoreDownTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private static GarnetServer StartGarnet(int port)
    {
        var server = new GarnetServer(["--bind", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture), "--lua"]);
        server.Start();
        return server;
    }

    [Fact]
    public async Task Write_WhileTheStoreIsStopped_Is503AndChangesNothing_ThenAcceptedAfterItIsBack()
    {
        var port = Ports.Free();
        var garnet = StartGarnet(port);
        await using var backend = await NamedBackend.StartAsync("one");
        await using var host = await ClusterHost.StartAsync($"127.0.0.1:{port}", "a", "127.0.0.2");
        host.UseToken((await File.ReadAllTextAsync(Path.Combine(host.DataDirectory, "admin-token"))).Trim());
        var lbPort = Ports.Free();
        var (status, created) = await host.SendAsync(HttpMethod.Post, "loadbalancers", $$$"""
            {"loadBalancer":{"name":"before","protocol":"HTTP","port":{{{lbPort}}},"virtualIps":[{"type":"PUBLIC"}],
             "nodes":[{"address":"127.0.0.1","port":{{{backend.Port}}},"condition":"ENABLED"}]}}
            """);
        Assert.Equal(HttpStatusCode.Accepted, status);
        var id = created!["loadBalancer"]!["id"]!.GetValue<int>();
        Assert.Equal(1, await StoreUpAsync(host));

        garnet.Dispose();
        await WaitAsync(async () => await StoreUpAsync(host) == 0, "tether_cluster_store_up never became 0");

        var (renameStatus, error) = await host.SendAsync(HttpMethod.Put, $"loadbalancers/{id}", """{"loadBalancer":{"name":"during"}}""");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, renameStatus);
        Assert.Equal(503, error!["code"]!.GetValue<int>());
        Assert.Contains("cluster store is unavailable", error["details"]!.GetValue<string>(), StringComparison.Ordinal);
        var (createStatus, _) = await host.SendAsync(HttpMethod.Post, "loadbalancers", $$$"""
            {"loadBalancer":{"name":"new","protocol":"HTTP","port":{{{Ports.Free()}}},"virtualIps":[{"type":"PUBLIC"}],
             "nodes":[{"address":"127.0.0.1","port":{{{backend.Port}}},"condition":"ENABLED"}]}}
            """);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, createStatus);
        var (_, list) = await host.SendAsync(HttpMethod.Get, "loadbalancers");
        var only = Assert.Single(list!["loadBalancers"]!.AsArray());
        Assert.Equal("before", only!["name"]!.GetValue<string>());
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(10) };
        Assert.Equal("one", await client.GetStringAsync($"http://127.0.0.2:{lbPort}/"));

        using var again = StartGarnet(port);
        await WaitAsync(async () => await StoreUpAsync(host) == 1, "tether_cluster_store_up never became 1 again");
        await WaitAsync(async () => (await host.SendAsync(HttpMethod.Put, $"loadbalancers/{id}", """{"loadBalancer":{"name":"after"}}""")).Status == HttpStatusCode.Accepted,
            "writes were never accepted again");
        var (_, after) = await host.SendAsync(HttpMethod.Get, $"loadbalancers/{id}");
        Assert.Equal("after", after!["loadBalancer"]!["name"]!.GetValue<string>());
        Assert.Equal("one", await client.GetStringAsync($"http://127.0.0.2:{lbPort}/"));
    }

    private static async Task<int> StoreUpAsync(ClusterHost host)
    {
        var text = await host.Api.GetStringAsync(new Uri(host.Api.BaseAddress!, "/metrics"));
        // Cluster mode labels every series with its instance: tether_cluster_store_up{instance="a"} 1
        var line = text.Split('\n').Single(l => l.StartsWith("tether_cluster_store_up{", StringComparison.Ordinal));
        return int.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
    }

    private static async Task WaitAsync(Func<Task<bool>> condition, string failure)
    {
        var start = TimeProvider.System.GetTimestamp();
        while (!await condition())
        {
            Assert.True(TimeProvider.System.GetElapsedTime(start) < Deadline, failure);
            await Task.Delay(50);
        }
    }
}
