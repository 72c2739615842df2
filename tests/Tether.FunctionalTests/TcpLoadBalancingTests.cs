using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Tether.FunctionalTests.Infrastructure;

namespace Tether.FunctionalTests;

/// <summary>Layer 4 TCP load balancing over real sockets: algorithms and SOURCE_IP persistence per connection,
/// half-close, bulk transfer, idle timeout, passive health, protocol changes, graceful stop, HTTPS pass-through and two
/// load balancers on one virtual IP.</summary>
public sealed class TcpLoadBalancingTests(TetherFixture fixture) : IClassFixture<TetherFixture>, IAsyncLifetime
{
    private readonly TetherInstance _tether = fixture.Tether;
    private TcpEchoBackend[] _backends = null!;

    public Task InitializeAsync()
    {
        _backends = [TcpEchoBackend.Start("t1"), TcpEchoBackend.Start("t2"), TcpEchoBackend.Start("t3")];
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        foreach (var b in _backends)
        {
            await b.DisposeAsync();
        }
    }

    private int[] Ports(int count) => [.. _backends.Take(count).Select(b => b.Port)];

    [Fact]
    public async Task RoundRobin_ThreeNodes_SpreadsConnectionsEvenly()
    {
        var (_, port) = await _tether.CreateAsync("TCP", "ROUND_ROBIN", Layer4.Nodes(Ports(3)));

        var spread = new Dictionary<string, int>();
        for (var i = 0; i < 30; i++)
        {
            var name = await TcpTestClient.ReachAsync(port);
            spread[name] = spread.GetValueOrDefault(name) + 1;
        }

        Assert.Equal(3, spread.Count);
        Assert.All(spread.Values, v => Assert.Equal(10, v));
    }

    [Fact]
    public async Task SourceIp_ManyClientAddresses_EachStaysOnOneNodeAndSpreadByWeight()
    {
        var (_, port) = await _tether.CreateAsync("TCP_CLIENT_FIRST", "RANDOM", [(_backends[0].Port, 1), (_backends[1].Port, 3)],
            """{"persistenceType":"SOURCE_IP"}""");

        var clientsPerNode = new Dictionary<string, int>();
        for (var x = 2; x <= 101; x++)
        {
            var source = $"127.0.0.{x}";
            var first = await TcpTestClient.ReachAsync(port, source);
            for (var again = 0; again < 2; again++)
            {
                Assert.Equal(first, await TcpTestClient.ReachAsync(port, source));
            }

            clientsPerNode[first] = clientsPerNode.GetValueOrDefault(first) + 1;
        }

        // Weights 1:3 over 100 clients by consistent hashing: about 25 and 75.
        Assert.InRange(clientsPerNode.GetValueOrDefault("t1"), 8, 45);
        Assert.InRange(clientsPerNode.GetValueOrDefault("t2"), 55, 92);
    }

    [Fact]
    public async Task LeastConnections_OpenConnections_GoToTheLeastLoadedNode()
    {
        var (id, port) = await _tether.CreateAsync("MYSQL", "LEAST_CONNECTIONS", Layer4.Nodes(Ports(2)));
        var open = new List<(TcpTestClient Client, string Node)>();
        try
        {
            for (var i = 0; i < 4; i++)
            {
                var client = await TcpTestClient.ConnectAsync(port);
                open.Add((client, await client.ReadLineAsync()));
                if (i % 2 == 1)
                {
                    // After an even number of connections both nodes hold the same number.
                    Assert.NotEqual(open[i - 1].Node, open[i].Node);
                }
            }

            Assert.Equal(2, _tether.Node(id, _backends[0].Port).Counters.Active);
            Assert.Equal(2, _tether.Node(id, _backends[1].Port).Counters.Active);

            foreach (var (client, _) in open.Where(o => o.Node == "t1").ToList())
            {
                client.Dispose();
            }

            await Layer4.EventuallyAsync(() => _tether.Node(id, _backends[0].Port).Counters.Active == 0, "t1 has no connection");
            for (var i = 0; i < 2; i++)
            {
                var client = await TcpTestClient.ConnectAsync(port);
                open.Add((client, await client.ReadLineAsync()));
                Assert.Equal("t1", open[^1].Node);
            }
        }
        finally
        {
            foreach (var (client, _) in open)
            {
                client.Dispose();
            }
        }
    }

    [Fact]
    public async Task HalfClosed_ClientSendsFin_StillReceivesTheNodesAnswer()
    {
        var (_, port) = await _tether.CreateAsync("TCP", "ROUND_ROBIN", Layer4.Nodes(Ports(1)), extra: ""","halfClosed":true""");
        using var client = await TcpTestClient.ConnectAsync(port);
        Assert.Equal("t1", await client.ReadLineAsync());
        await client.SendAsync("hello\n");
        Assert.Equal("hello", await client.ReadLineAsync());

        client.Socket.Shutdown(SocketShutdown.Send);

        Assert.Equal("bye\n", await client.ReadToEndAsync());
    }

    [Fact]
    public async Task HalfClosed_NodeSendsFin_ClientCanStillSend()
    {
        await using var node = TcpEchoBackend.Start("closer", TcpEchoMode.ShutdownSendFirst);
        var (_, port) = await _tether.CreateAsync("TCP", "ROUND_ROBIN", Layer4.Nodes(node.Port), extra: ""","halfClosed":true""");
        using var client = await TcpTestClient.ConnectAsync(port);
        Assert.Equal("closer", await client.ReadLineAsync());
        Assert.Equal("", await client.ReadToEndAsync());

        await client.SendAsync("late data\n");
        client.Socket.Shutdown(SocketShutdown.Send);

        Assert.Equal("late data\n", await node.Received.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task NotHalfClosed_ClientSendsFin_ClosesBothDirections()
    {
        var (_, port) = await _tether.CreateAsync("TCP", "ROUND_ROBIN", Layer4.Nodes(Ports(1)));
        using var client = await TcpTestClient.ConnectAsync(port);
        Assert.Equal("t1", await client.ReadLineAsync());
        await client.SendAsync("hello\n");
        Assert.Equal("hello", await client.ReadLineAsync());

        client.Socket.Shutdown(SocketShutdown.Send);

        Assert.Equal("", await client.ReadToEndAsync());
        await Layer4.EventuallyAsync(() => _backends[0].Active == 0, "the node's connection is closed");
    }

    [Fact]
    public async Task NotHalfClosed_NodeSendsFin_ClosesBothDirections()
    {
        await using var node = TcpEchoBackend.Start("closer", TcpEchoMode.ShutdownSendFirst);
        var (_, port) = await _tether.CreateAsync("TCP", "ROUND_ROBIN", Layer4.Nodes(node.Port));
        using var client = await TcpTestClient.ConnectAsync(port);
        Assert.Equal("closer", await client.ReadLineAsync());
        Assert.Equal("", await client.ReadToEndAsync());

        // Tether closed its side to the node as soon as the node's FIN arrived: the node read nothing.
        Assert.Equal("", await node.Received.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task Transfer_64MiBEchoedThroughTether_ArrivesIntact()
    {
        const int total = 64 * 1024 * 1024;
        var (_, port) = await _tether.CreateAsync("TCP_STREAM", "ROUND_ROBIN", Layer4.Nodes(Ports(1)));
        using var client = await TcpTestClient.ConnectAsync(port);
        Assert.Equal("t1", await client.ReadLineAsync());
        var socket = client.Socket;

        var stopwatch = Stopwatch.StartNew();
        var send = Task.Run(async () =>
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var random = new Random(42);
            var chunk = new byte[256 * 1024];
            for (var sent = 0; sent < total; sent += chunk.Length)
            {
                random.NextBytes(chunk);
                hash.AppendData(chunk);
                await socket.SendAsync(chunk, SocketFlags.None);
            }

            return hash.GetHashAndReset();
        });
        var receive = Task.Run(async () =>
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[256 * 1024];
            var received = 0;
            while (received < total)
            {
                var n = await socket.ReceiveAsync(buffer.AsMemory(0, Math.Min(buffer.Length, total - received)), SocketFlags.None);
                Assert.NotEqual(0, n);
                hash.AppendData(buffer, 0, n);
                received += n;
            }

            return hash.GetHashAndReset();
        });

        var sentHash = await send.WaitAsync(TimeSpan.FromSeconds(30));
        var receivedHash = await receive.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(Convert.ToHexString(sentHash), Convert.ToHexString(receivedHash));
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(20), $"64 MiB echoed in {stopwatch.Elapsed}");
    }

    [Fact]
    public async Task IdleTimeout_NoBytesEitherWay_ClosesTheConnection()
    {
        var (_, port) = await _tether.CreateAsync("TCP", "ROUND_ROBIN", Layer4.Nodes(Ports(1)), extra: ""","timeout":1""");
        using var client = await TcpTestClient.ConnectAsync(port);
        Assert.Equal("t1", await client.ReadLineAsync());
        await client.SendAsync("ping\n");
        Assert.Equal("ping", await client.ReadLineAsync());
        var quietSince = Stopwatch.StartNew();

        var rest = await client.ReadToEndAsync(timeoutMs: 5000);

        Assert.Equal("", rest);
        Assert.InRange(quietSince.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(3));
        await Layer4.EventuallyAsync(() => _backends[0].Active == 0, "the node's connection is closed");
    }

    [Fact]
    public async Task RefusedNode_IsHeldOutAndTheConnectionGoesToAnotherNode()
    {
        var dead = await TcpEchoBackend.DeadPortAsync();
        var (id, port) = await _tether.CreateAsync("TCP", "ROUND_ROBIN", Layer4.Nodes(dead, _backends[0].Port));

        for (var i = 0; i < 6; i++)
        {
            Assert.Equal("t1", await TcpTestClient.ReachAsync(port));
        }

        var deadNode = _tether.Node(id, dead);
        Assert.Equal(1, deadNode.Counters.Failures);
        Assert.Equal(0, deadNode.Counters.Active);
        Assert.False(deadNode.IsAvailable(_tether.Runtime(id).Time.GetTimestamp()));
    }

    [Fact]
    public async Task RefusedNode_SourceIpPinnedClient_IsRepinnedToAnotherNode()
    {
        await using var a = TcpEchoBackend.Start("a");
        await using var b = TcpEchoBackend.Start("b");
        var (_, port) = await _tether.CreateAsync("TCP", "ROUND_ROBIN", Layer4.Nodes(a.Port, b.Port), """{"persistenceType":"SOURCE_IP"}""");
        const string source = "127.0.0.7";
        var first = await TcpTestClient.ReachAsync(port, source);
        await (first == "a" ? a : b).DisposeAsync();

        var second = await TcpTestClient.ReachAsync(port, source);

        Assert.NotEqual(first, second);
        Assert.Equal(second, await TcpTestClient.ReachAsync(port, source));
    }

    [Fact]
    public async Task RefusedNode_SourceIpWithFallbackDisabled_ClosesTheConnection()
    {
        await using var a = TcpEchoBackend.Start("a");
        await using var b = TcpEchoBackend.Start("b");
        var (_, port) = await _tether.CreateAsync("TCP", "ROUND_ROBIN", Layer4.Nodes(a.Port, b.Port),
            """{"persistenceType":"SOURCE_IP","disableFallback":true}""");
        const string source = "127.0.0.8";
        var first = await TcpTestClient.ReachAsync(port, source);
        await (first == "a" ? a : b).DisposeAsync();

        // The pinned node refuses: no second attempt; then it is held out and the pin forbids fallback.
        await Assert.ThrowsAsync<EndOfStreamException>(() => TcpTestClient.ReachAsync(port, source));
        await Assert.ThrowsAsync<EndOfStreamException>(() => TcpTestClient.ReachAsync(port, source));
    }

    [Fact]
    public async Task NoNodeAvailable_AllNodesDisabled_ClosesTheConnection()
    {
        var (id, port) = await _tether.CreateAsync("LDAP", "RANDOM", Layer4.Nodes(Ports(1)));
        var nodes = await _tether.GetJsonAsync($"loadbalancers/{id}/nodes");
        var nodeId = nodes["nodes"]![0]!["id"]!.GetValue<int>();
        var update = await _tether.SendJsonAsync(HttpMethod.Put, $"loadbalancers/{id}/nodes/{nodeId}", """{"condition":"DISABLED"}""");
        Assert.Equal(HttpStatusCode.Accepted, update.StatusCode);

        await Assert.ThrowsAsync<EndOfStreamException>(() => TcpTestClient.ReachAsync(port));
        Assert.Equal(0, _backends[0].Connections);
    }

    [Fact]
    public async Task ProtocolChange_HttpToTcpAndBackOnTheSamePort_SwitchesLayers()
    {
        await using var web = await TestBackend.StartAsync("web");
        var (id, port) = await _tether.CreateLoadBalancerAsync("RANDOM", [web]);
        Assert.Contains("x-forwarded-for=127.0.0.1", await GetFreshAsync(port, "/headers"));

        var toTcp = await _tether.SendJsonAsync(HttpMethod.Put, $"loadbalancers/{id}", """{"loadBalancer":{"protocol":"TCP"}}""");
        Assert.Equal(HttpStatusCode.Accepted, toTcp.StatusCode);
        // At layer 4 Tether adds no header: the node sees the client's request as sent.
        Assert.Contains("x-forwarded-for=\n", await GetFreshAsync(port, "/headers"));

        var toHttp = await _tether.SendJsonAsync(HttpMethod.Put, $"loadbalancers/{id}", """{"loadBalancer":{"protocol":"HTTP"}}""");
        Assert.Equal(HttpStatusCode.Accepted, toHttp.StatusCode);
        Assert.Contains("x-forwarded-for=127.0.0.1", await GetFreshAsync(port, "/headers"));
    }

    [Fact]
    public async Task PortChange_PortInUse_Answers400AndKeepsServing()
    {
        var (id, port) = await _tether.CreateAsync("TCP", "RANDOM", Layer4.Nodes(Ports(1)));
        using var blocker = new TcpListener(IPAddress.Loopback, 0);
        blocker.Start();
        var taken = ((IPEndPoint)blocker.LocalEndpoint).Port;

        var update = await _tether.SendJsonAsync(HttpMethod.Put, $"loadbalancers/{id}", $$"""{"port":{{taken}}}""");

        Assert.Equal(HttpStatusCode.BadRequest, update.StatusCode);
        Assert.Contains("address already in use", await update.Content.ReadAsStringAsync());
        Assert.Equal("t1", await TcpTestClient.ReachAsync(port));
    }

    [Fact]
    public async Task Delete_OpenConnection_FinishesWhileNewConnectionsAreRefused()
    {
        var (id, port) = await _tether.CreateAsync("TCP", "RANDOM", Layer4.Nodes(Ports(1)));
        var client = await TcpTestClient.ConnectAsync(port);
        Assert.Equal("t1", await client.ReadLineAsync());

        var delete = _tether.SendJsonAsync(HttpMethod.Delete, $"loadbalancers/{id}", null);
        await Layer4.EventuallyAsync(() => IsRefused(port), "the port refuses new connections");
        await client.SendAsync("still here\n");
        Assert.Equal("still here", await client.ReadLineAsync());
        Assert.False(delete.IsCompleted);
        client.Dispose();

        using var response = await delete.WaitAsync(TimeSpan.FromSeconds(4));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    [Fact]
    public async Task Delete_ConnectionStillOpenAfterTheShutdownTimeout_IsAborted()
    {
        await using var tether = await TetherInstance.StartAsync(proxyOptions: new Tether.Proxy.ProxyOptions { ShutdownTimeoutSeconds = 1 });
        var (id, port) = await tether.CreateAsync("TCP", "RANDOM", Layer4.Nodes(Ports(1)));
        using var client = await TcpTestClient.ConnectAsync(port);
        Assert.Equal("t1", await client.ReadLineAsync());
        var stopping = Stopwatch.StartNew();

        using var response = await tether.SendJsonAsync(HttpMethod.Delete, $"loadbalancers/{id}", null);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.InRange(stopping.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(4));
        Assert.Equal("", await client.ReadToEndAsync());
        await Layer4.EventuallyAsync(() => _backends[0].Active == 0, "the node's connection is closed");
    }

    [Fact]
    public async Task SharedVirtualIp_HttpAndHttpsPassThrough_EachKeepsItsOwnPersistence()
    {
        await using var web1 = await TestBackend.StartAsync("web1");
        await using var web2 = await TestBackend.StartAsync("web2");
        using var certificate = TlsBackend.CreateCertificate("tls-backend");
        await using var tls1 = await TlsBackend.StartAsync("tls1", certificate);
        await using var tls2 = await TlsBackend.StartAsync("tls2", certificate);
        var (httpId, httpPort) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", [web1, web2], """{"persistenceType":"HTTP_COOKIE"}""");
        var vipId = await _tether.VirtualIpIdAsync(httpId);
        var (httpsId, httpsPort) = await _tether.CreateAsync("HTTPS", "ROUND_ROBIN", Layer4.Nodes(tls1.Port, tls2.Port),
            """{"persistenceType":"SOURCE_IP"}""", virtualIpId: vipId);
        Assert.Equal(vipId, await _tether.VirtualIpIdAsync(httpsId));

        // HTTP on one port of the address: the cookie keeps the browser on one node.
        using var browser = Clients.WithCookieJar(httpPort, out _);
        Assert.Single(await Clients.SpreadAsync(browser, 10));

        // HTTPS on another port of the same address: TLS passes through to the node (its certificate), and each
        // client address stays on one node while the addresses spread over both.
        var nodesSeen = new HashSet<string>();
        for (var x = 2; x <= 21; x++)
        {
            // The client accepts only the nodes' certificate: TLS is the node's, Tether only passes it through.
            using var https = TlsBackend.Client(httpsPort, $"127.0.0.{x}", certificate);
            var first = await https.GetStringAsync("/");
            Assert.Equal(first, await https.GetStringAsync("/"));
            nodesSeen.Add(first);
        }

        Assert.Equal(["tls1", "tls2"], nodesSeen.Order());
    }

    private static async Task<string> GetFreshAsync(int port, string path)
    {
        using var client = Clients.WithoutCookies(port);
        return await client.GetStringAsync(path);
    }

    private static bool IsRefused(int port)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Connect(IPAddress.Loopback, port);
            return false;
        }
        catch (SocketException)
        {
            return true;
        }
    }
}
