using Tether.FunctionalTests.Infrastructure;
using Tether.Proxy;

namespace Tether.FunctionalTests;

/// <summary>
/// Node connections on both HTTP data paths (issue 10): a pooled connection that became readable while idle is never
/// reused (B2), a client connection holds no node connection between its requests (R5), the per-node connection
/// limit queues and then answers 503, and what a reverse proxy answers 501 to itself.
/// </summary>
public sealed class Http1NodeConnectionTests(Http1NodeConnectionFixture fixture) : IClassFixture<Http1NodeConnectionFixture>
{
    public static TheoryData<bool> Paths => new() { true, false };

    /// <summary>B2: the node writes a second, unasked answer 100 ms after each real one. Tether must discard the
    /// connection (it is readable while idle) instead of handing those bytes to the next client as its answer.</summary>
    [Theory]
    [MemberData(nameof(Paths))]
    public async Task PooledConnection_NodeSentBytesAfterAnswer_NextClientGetsItsOwnAnswer(bool fastPath)
    {
        var written = 0;
        await using var node = RawBackend.Start(async c =>
        {
            while (await c.ReadHeadAsync() is { } head)
            {
                var target = head.Split(' ')[1];
                await c.WriteAsync($"HTTP/1.1 200 OK\r\nContent-Length: {target.Length}\r\n\r\n{target}");
                await Task.Delay(100);
                await c.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nEXTRA!");
                Interlocked.Increment(ref written);
            }
        });
        var tether = fixture.For(fastPath);
        var (_, port) = await tether.CreateLoadBalancerAsync("ROUND_ROBIN", [node.Port]);

        for (var i = 0; i < 8; i++)
        {
            using var client = await RawHttpConnection.ConnectAsync(port);
            var response = await client.RoundTripAsync($"GET /client-{i} HTTP/1.1\r\nHost: h\r\n\r\n");

            Assert.True(response.Status == 200 && response.Text == $"/client-{i}", $"client {i} got another answer: {response}");
            await WaitUntilAsync(() => Volatile.Read(ref written) > i);
            await Task.Delay(50); // the extra bytes reach Tether's idle connection
        }
    }

    /// <summary>R5: 40 keep-alive clients, each sending one request in turn and then idling, share the node connection
    /// instead of each holding one (HAProxy's <c>http-reuse safe</c>).</summary>
    [Theory]
    [MemberData(nameof(Paths))]
    public async Task KeepAliveClients_IdleAfterOneRequest_HoldNoNodeConnection(bool fastPath)
    {
        await using var node = KeepAliveNode();
        var tether = fixture.For(fastPath);
        var (_, port) = await tether.CreateLoadBalancerAsync("ROUND_ROBIN", [node.Port]);
        var clients = new List<RawHttpConnection>();
        try
        {
            for (var i = 0; i < 40; i++)
            {
                var client = await RawHttpConnection.ConnectAsync(port);
                clients.Add(client);
                var response = await client.RoundTripAsync($"GET /{i} HTTP/1.1\r\nHost: h\r\n\r\n");
                Assert.True(response.Status == 200, $"client {i}: {response}");
            }

            // A client gets its answer a moment before the exchange returns the node connection to the pool, so the
            // next client may find none idle and open one: a few such races under a loaded CI machine are not the
            // defect this test is about (one connection per idle client would be 40).
            Assert.True(node.Accepted <= 4, $"40 idle keep-alive clients made {node.Accepted} node connections");
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
    }

    /// <summary>Proxy:MaxConnectionsPerNode = 1: a second request waits for the one connection; when it does not come
    /// free within Proxy:NodeQueueTimeoutSeconds the client gets a 503, counted as <c>noConnection</c>, and the node
    /// stays in rotation.</summary>
    [Fact]
    public async Task ConnectionLimit_NodeBusyPastQueueTimeout_Answers503AndCounts()
    {
        await using var tether = await TetherInstance.StartAsync(proxyOptions: new ProxyOptions
        {
            MaxConnectionsPerNode = 1,
            NodeQueueTimeoutSeconds = 1,
            ShutdownTimeoutSeconds = 5,
        });
        var (id, port) = await tether.CreateLoadBalancerAsync("ROUND_ROBIN", fixture.Backends.Take(1));
        using var busy = await RawHttpConnection.ConnectAsync(port);
        await busy.SendAsync("GET /slow?ms=3000 HTTP/1.1\r\nHost: h\r\n\r\n");
        await WaitForRequestsInFlightAsync(tether, id, 1);

        using var queued = await RawHttpConnection.ConnectAsync(port);
        var refused = await queued.RoundTripAsync("GET /echo HTTP/1.1\r\nHost: h\r\n\r\n");
        var slow = await busy.ReadResponseAsync();
        var after = await queued.RoundTripAsync("GET /echo HTTP/1.1\r\nHost: h\r\n\r\n");

        Assert.True(refused.Status == 503, $"expected 503 after the queue timeout: {refused}");
        Assert.True(slow.Status == 200, $"the request holding the connection: {slow}");
        Assert.True(after.Status == 200, $"once the connection is free: {after}");
        var stats = await tether.GetJsonAsync($"loadbalancers/{id}/stats");
        Assert.True(stats["noConnection"]!.GetValue<long>() >= 1, stats.ToJsonString());
    }

    /// <summary>A request queued at the limit gets the connection as soon as it comes back.</summary>
    [Fact]
    public async Task ConnectionLimit_ConnectionFreedWithinQueueTimeout_QueuedRequestIsServed()
    {
        await using var tether = await TetherInstance.StartAsync(proxyOptions: new ProxyOptions
        {
            MaxConnectionsPerNode = 1,
            NodeQueueTimeoutSeconds = 10,
            ShutdownTimeoutSeconds = 5,
        });
        var (id, port) = await tether.CreateLoadBalancerAsync("ROUND_ROBIN", fixture.Backends.Take(1));
        using var busy = await RawHttpConnection.ConnectAsync(port);
        await busy.SendAsync("GET /slow?ms=1500 HTTP/1.1\r\nHost: h\r\n\r\n");
        await WaitForRequestsInFlightAsync(tether, id, 1);

        using var queued = await RawHttpConnection.ConnectAsync(port);
        var response = await queued.RoundTripAsync("GET /echo HTTP/1.1\r\nHost: h\r\n\r\n");

        Assert.True(response.Status == 200, $"the queued request: {response}");
        Assert.True((await busy.ReadResponseAsync()).Status == 200);
    }

    /// <summary>RFC 9110 section 15.6.2 and RFC 9112 section 6.1: CONNECT (Tether is no forward proxy) and a request
    /// transfer coding other than chunked alone are answered 501 by Tether, on both paths; nothing reaches the node.</summary>
    [Theory]
    [InlineData(true, "CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n")]
    [InlineData(false, "CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n")]
    [InlineData(true, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n")]
    [InlineData(false, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n")]
    [InlineData(true, "POST / HTTP/1.0\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n")]
    public async Task Request_ConnectOrOtherTransferCoding_Answers501(bool fastPath, string request)
    {
        await using var node = KeepAliveNode();
        var (_, port) = await fixture.For(fastPath).CreateLoadBalancerAsync("ROUND_ROBIN", [node.Port]);
        using var client = await RawHttpConnection.ConnectAsync(port);

        var response = await client.RoundTripAsync(request);

        Assert.True(response.Status == 501, $"expected 501: {response}");
        Assert.Empty(node.Heads);
    }

    /// <summary>RFC 9112 section 3.2.4: <c>OPTIONS *</c> asks about the server as a whole; the fast path forwards it in
    /// asterisk-form, not as <c>OPTIONS /</c>.</summary>
    [Fact]
    public async Task Request_OptionsAsterisk_ReachesNodeAsAsterisk()
    {
        await using var node = KeepAliveNode();
        var (_, port) = await fixture.For(fastPath: true).CreateLoadBalancerAsync("ROUND_ROBIN", [node.Port]);
        using var client = await RawHttpConnection.ConnectAsync(port);

        var response = await client.RoundTripAsync("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n");

        Assert.True(response.Status == 200, $"expected 200: {response}");
        Assert.StartsWith("OPTIONS * HTTP/1.1\r\n", Assert.Single(node.Heads), StringComparison.Ordinal);
    }

    private static RawBackend KeepAliveNode() => RawBackend.Start(async c =>
    {
        while (await c.ReadHeadAsync() is not null)
        {
            await c.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        }
    });

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var i = 0; i < 100 && !condition(); i++)
        {
            await Task.Delay(50);
        }

        Assert.True(condition(), "the condition was not met within 5 s");
    }

    /// <summary>Waits (up to 10 s) until the load balancer has <paramref name="count"/> requests in flight to its nodes
    /// (<c>currentConn</c>): the slow request holds the node's one connection, whatever the machine's load.</summary>
    private static async Task WaitForRequestsInFlightAsync(TetherInstance tether, int id, long count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((await tether.GetJsonAsync($"loadbalancers/{id}/stats"))["currentConn"]!.GetValue<long>() < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"fewer than {count} requests in flight after 10 s");
            await Task.Delay(20);
        }
    }
}

public sealed class Http1NodeConnectionFixture : IAsyncLifetime
{
    private TetherInstance _fast = null!;
    private TetherInstance _kestrel = null!;

    public TestBackend[] Backends { get; private set; } = null!;

    /// <summary>The Tether with the fast path on (true) or off (the Kestrel + YARP path).</summary>
    public TetherInstance For(bool fastPath) => fastPath ? _fast : _kestrel;

    public async Task InitializeAsync()
    {
        _fast = await TetherInstance.StartAsync();
        _kestrel = await TetherInstance.StartAsync(proxyOptions: new ProxyOptions { Http1FastPath = false, ShutdownTimeoutSeconds = 5 });
        Backends = [await TestBackend.StartAsync("b1")];
    }

    public async Task DisposeAsync()
    {
        await _fast.DisposeAsync();
        await _kestrel.DisposeAsync();
        await Backends[0].DisposeAsync();
    }
}
