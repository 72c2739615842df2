using System.Net;

namespace Tether.Cluster.Tests;

/// <summary>Two in-process Tether instances in cluster mode on one Garnet server (issue 14): a change through either
/// instance's API is live on both.</summary>
public sealed class TwoInstanceTests(GarnetServerFixture garnet) : IClassFixture<GarnetServerFixture>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task CreateThroughA_AddNodeThroughB_BothInstancesServeBothChanges()
    {
        await using var one = await NamedBackend.StartAsync("one");
        await using var two = await NamedBackend.StartAsync("two");
        await using var a = await ClusterHost.StartAsync(garnet.Configuration, "a", "127.0.0.2");
        await using var b = await ClusterHost.StartAsync(garnet.Configuration, "b", "127.0.0.3");
        // The admin token A generated at its first start lives in Redis: B accepts it.
        var token = (await File.ReadAllTextAsync(Path.Combine(a.DataDirectory, "admin-token"))).Trim();
        a.UseToken(token);
        b.UseToken(token);
        Assert.False(File.Exists(Path.Combine(b.DataDirectory, "admin-token")));

        var port = Ports.Free();
        var (status, created) = await a.SendAsync(HttpMethod.Post, "loadbalancers", $$$"""
            {"loadBalancer":{"name":"shared","protocol":"HTTP","port":{{{port}}},"virtualIps":[{"type":"PUBLIC"}],
             "nodes":[{"address":"127.0.0.1","port":{{{one.Port}}},"condition":"ENABLED"}]}}
            """);
        Assert.Equal(HttpStatusCode.Accepted, status);
        var id = created!["loadBalancer"]!["id"]!.GetValue<int>();

        // Served on B (127.0.0.3), which never saw the API call.
        Assert.True(await AnswersAsync($"http://127.0.0.3:{port}/", "one"), "B never served the load balancer created through A");

        // A node added through B: same id on A, and A sends traffic to it.
        var response = await PollAsync(async () =>
        {
            var r = await b.SendAsync(HttpMethod.Post, $"loadbalancers/{id}/nodes",
                $$$"""{"nodes":[{"address":"127.0.0.1","port":{{{two.Port}}},"condition":"ENABLED"}]}""");
            return r.Status == HttpStatusCode.Accepted ? r : default;
        });
        var nodeId = response.Body!["nodes"]![0]!["id"]!.GetValue<int>();
        Assert.True(await AnswersAsync($"http://127.0.0.2:{port}/", "two"), "A never used the node added through B");
        var (_, onA) = await a.SendAsync(HttpMethod.Get, $"loadbalancers/{id}/nodes/{nodeId}");
        Assert.Equal(two.Port, onA!["node"]!["port"]!.GetValue<int>());
    }

    private static async Task<bool> AnswersAsync(string url, string name)
    {
        using var client = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.Zero, UseProxy = false })
        {
            Timeout = TimeSpan.FromSeconds(5),
        };
        var start = TimeProvider.System.GetTimestamp();
        while (TimeProvider.System.GetElapsedTime(start) < Deadline)
        {
            try
            {
                if (await client.GetStringAsync(url) == name)
                {
                    return true;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(20);
        }

        return false;
    }

    private static async Task<T> PollAsync<T>(Func<Task<T?>> attempt)
    {
        var start = TimeProvider.System.GetTimestamp();
        while (true)
        {
            if (await attempt() is { } value && !EqualityComparer<T>.Default.Equals(value, default))
            {
                return value;
            }

            Assert.True(TimeProvider.System.GetElapsedTime(start) < Deadline, "deadline passed");
            await Task.Delay(20);
        }
    }
}
