using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Tether.FunctionalTests.Infrastructure;

namespace Tether.FunctionalTests.Cluster;

/// <summary>Issue 14 with real processes: two <c>tether serve --redis</c> instances on 127.0.0.2 and 127.0.0.3 and a
/// real <c>redis-server</c>. A client that moves from one instance to the other (the virtual IP moved) keeps its
/// node: HTTP_COOKIE through the shared cookie keys, SOURCE_IP through the shared stick table.</summary>
public sealed class ClusterPersistenceTests : TetherClusterTestBase
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task HttpCookie_IssuedThroughA_HonouredThroughB()
    {
        var a = await StartInstanceAsync("127.0.0.2", "a");
        var b = await StartInstanceAsync("127.0.0.3", "b");
        var (_, port) = await a.CreateLoadBalancerAsync("ROUND_ROBIN", Backends, """{"persistenceType":"HTTP_COOKIE"}""");
        await WaitServedAsync(b, port);

        using var throughA = a.Client(port);
        var first = await throughA.GetAsync(new Uri("/", UriKind.Relative));
        var cookie = first.Headers.GetValues("Set-Cookie").First().Split(';')[0];
        var node = await first.Content.ReadAsStringAsync();

        using var throughB = b.Client(port);
        for (var i = 0; i < 20; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/");
            request.Headers.Add("Cookie", cookie);
            using var answer = await throughB.SendAsync(request);
            Assert.Equal(node, await answer.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task SourceIp_PinnedThroughA_NodeAddedThroughB_KeepsItsNodeThroughB()
    {
        await using var b4 = await TestBackend.StartAsync("b4");
        var a = await StartInstanceAsync("127.0.0.2", "a");
        var b = await StartInstanceAsync("127.0.0.3", "b");
        var (id, port) = await a.CreateLoadBalancerAsync("ROUND_ROBIN", Backends, """{"persistenceType":"SOURCE_IP"}""");
        await WaitServedAsync(b, port);

        // 32 clients, each from its own source address, pinned through A.
        var clients = Enumerable.Range(1, 32).Select(i => IPAddress.Parse($"127.10.0.{i.ToString(CultureInfo.InvariantCulture)}")).ToArray();
        var pinned = new Dictionary<IPAddress, string>();
        foreach (var client in clients)
        {
            pinned[client] = await GetFromAsync(client, a.Address, port);
        }

        // A node added through B: without the shared stick table, Maglev would move about a quarter of the clients to it.
        var added = await b.SendJsonAsync(HttpMethod.Post, $"loadbalancers/{id.ToString(CultureInfo.InvariantCulture)}/nodes",
            $$"""{"nodes":[{"address":"127.0.0.1","port":{{b4.Port}},"condition":"ENABLED"}]}""");
        Assert.Equal(HttpStatusCode.Accepted, added.StatusCode);
        await WaitUntilAsync(async () => (await a.GetJsonAsync($"loadbalancers/{id.ToString(CultureInfo.InvariantCulture)}/nodes"))["nodes"]!.AsArray().Count == 4,
            "A never saw the node added through B");

        var moved = new List<string>();
        foreach (var client in clients)
        {
            var node = await GetFromAsync(client, b.Address, port);
            if (node != pinned[client])
            {
                moved.Add($"{client}: {pinned[client]} -> {node}");
            }
        }

        Assert.True(moved.Count == 0, "clients moved: " + string.Join(", ", moved));
        Assert.Equal(0, b4.Requests);
    }

    private static async Task WaitServedAsync(TetherProcess instance, int port)
    {
        using var client = instance.Client(port);
        await WaitUntilAsync(async () =>
        {
            try
            {
                return (await client.GetAsync(new Uri("/", UriKind.Relative))).StatusCode == HttpStatusCode.OK;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, $"{instance.Address} never served port {port.ToString(CultureInfo.InvariantCulture)}");
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string failure)
    {
        var start = TimeProvider.System.GetTimestamp();
        while (!await condition())
        {
            Assert.True(TimeProvider.System.GetElapsedTime(start) < Deadline, failure);
            await Task.Delay(100);
        }
    }

    /// <summary>One GET from <paramref name="source"/> (a raw socket bound to that address) to
    /// <paramref name="address"/>:<paramref name="port"/>; returns the answer's body (the backend's name).</summary>
    private static async Task<string> GetFromAsync(IPAddress source, string address, int port)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(source, 0));
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Parse(address), port));
        await socket.SendAsync(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: lb\r\nConnection: close\r\n\r\n"));
        var received = new MemoryStream();
        var buffer = new byte[4096];
        int n;
        while ((n = await socket.ReceiveAsync(buffer)) > 0)
        {
            received.Write(buffer, 0, n);
        }

        var text = Encoding.ASCII.GetString(received.ToArray());
        Assert.StartsWith("HTTP/1.1 200", text, StringComparison.Ordinal);
        return text[(text.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..];
    }
}
