using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Tether.FunctionalTests.Infrastructure;
using Tether.Proxy;

namespace Tether.FunctionalTests;

/// <summary>
/// The HTTP/1.1 fast path on Kestrel's connection layer (src/Tether.Proxy/Http/FastPath), over real sockets: its
/// timeouts on Kestrel's heartbeat (client keep-alive, node data timeout), the hand-over of a connection to Kestrel's
/// HTTP stack (WebSocket after fast-path requests, HTTP/1.0), its node connections (a stale pooled connection is
/// replaced, a refused connect is retried elsewhere), TLS, and the Kestrel + YARP path when the fast path is off.
/// </summary>
/// <remarks>The fast path forwards a node's head as it is, while Kestrel writes a <c>Date</c> field on every answer
/// it makes: a <see cref="RawBackend"/> that sends no <c>Date</c> tells which path served a request.</remarks>
public sealed class Http1FastPathTests(Http1FastPathFixture fixture) : IClassFixture<Http1FastPathFixture>
{
    private const string Ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

    private readonly TetherInstance _tether = fixture.Tether;
    private readonly TestBackend[] _backends = fixture.Backends;

    [Fact]
    public async Task KeepAlive_IdleClientConnection_IsClosedAndCounted()
    {
        await using var tether = await TetherInstance.StartAsync(proxyOptions: new ProxyOptions { KeepAliveTimeoutSeconds = 1, ShutdownTimeoutSeconds = 5 });
        var (id, port) = await tether.CreateLoadBalancerAsync("ROUND_ROBIN", _backends.Take(1));
        using var connection = await RawHttpConnection.ConnectAsync(port);
        var response = await connection.RoundTripAsync("GET /echo HTTP/1.1\r\nHost: h\r\n\r\n");
        Assert.True(response.Status == 200, $"expected 200: {response}");
        var idle = Stopwatch.StartNew();

        var closed = await connection.ServerClosedAsync(TimeSpan.FromSeconds(10));
        idle.Stop();

        Assert.True(closed, "the idle connection was still open after 10 s");
        // 1 s of keep-alive on a 1 s heartbeat: about 2 s; the bound is generous.
        Assert.True(idle.Elapsed < TimeSpan.FromSeconds(5), $"closed after {idle.Elapsed.TotalSeconds:F1} s");
        Assert.Equal(0, connection.PendingBytes);
        var stats = await tether.GetJsonAsync($"loadbalancers/{id}/stats");
        Assert.True(stats["keepAliveTimedOut"]!.GetValue<long>() >= 1, stats.ToJsonString());
    }

    [Fact]
    public async Task KeepAlive_ConnectionInUse_IsNotClosed()
    {
        await using var tether = await TetherInstance.StartAsync(proxyOptions: new ProxyOptions { KeepAliveTimeoutSeconds = 2, ShutdownTimeoutSeconds = 5 });
        var (_, port) = await tether.CreateLoadBalancerAsync("ROUND_ROBIN", _backends.Take(1));
        using var connection = await RawHttpConnection.ConnectAsync(port);

        // Requests every 300 ms for 5 s: the connection is never idle for 2 s (the margin leaves room for a loaded
        // CI machine that stalls the test for a moment).
        var watch = Stopwatch.StartNew();
        var count = 0;
        while (watch.Elapsed < TimeSpan.FromSeconds(5))
        {
            var response = await connection.RoundTripAsync($"GET /echo?i={count} HTTP/1.1\r\nHost: h\r\n\r\n");
            Assert.True(response.Status == 200, $"request {count} after {watch.Elapsed.TotalSeconds:F1} s: {response}");
            count++;
            await Task.Delay(300);
        }

        // And a request that waits on the node longer than the keep-alive timeout is not cut either.
        var slow = await connection.RoundTripAsync("GET /slow?ms=3500 HTTP/1.1\r\nHost: h\r\n\r\n");
        Assert.True(slow.Status == 200, $"a request slower than the keep-alive timeout: {slow}");
    }

    [Fact]
    public async Task Timeout_NodeSlowerThanTimeout_Answers504AndClosesCleanly()
    {
        var (id, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", _backends.Take(1), extra: ""","timeout":1""");
        using var connection = await RawHttpConnection.ConnectAsync(port);
        var watch = Stopwatch.StartNew();

        var response = await connection.RoundTripAsync("GET /slow?ms=8000 HTTP/1.1\r\nHost: h\r\n\r\n");
        watch.Stop();

        Assert.True(response.Status == 504, $"expected 504: {response}");
        Assert.False(response.Truncated, $"the 504 was cut: {response}");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(6), $"504 after {watch.Elapsed.TotalSeconds:F1} s");
        // Http1Connection.ForwardAsync: a data timeout closes the client connection (the node's answer may still come).
        Assert.True(response.ConnectionHas("close"), $"no Connection: close on the 504: {response}");
        Assert.True(await connection.ServerClosedAsync(), "the connection stayed open after the 504");
        Assert.Equal(0, connection.PendingBytes);
        var stats = await _tether.GetJsonAsync($"loadbalancers/{id}/stats");
        Assert.True(stats["dataTimedOut"]!.GetValue<long>() >= 1, stats.ToJsonString());

        using var next = await RawHttpConnection.ConnectAsync(port);
        var after = await next.RoundTripAsync("GET /echo HTTP/1.1\r\nHost: h\r\n\r\n");
        Assert.True(after.Status == 200, $"a request after the timeout: {after}");
    }

    [Fact]
    public async Task HandOver_WebSocketAfterFastPathRequests_BothWork()
    {
        var (_, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", _backends.Take(1));
        using var connection = await RawHttpConnection.ConnectAsync(port);
        for (var i = 0; i < 3; i++)
        {
            var plain = await connection.RoundTripAsync($"GET /echo?i={i} HTTP/1.1\r\nHost: h\r\n\r\n");
            Assert.True(plain.Status == 200, $"request {i} before the upgrade: {plain}");
            Assert.Equal($"?i={i}", plain.Echo("query"));
        }

        await connection.SendAsync("GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
            + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
        var upgrade = await connection.ReadResponseAsync();

        Assert.True(upgrade.Status == 101, $"expected 101: {upgrade}");
        Assert.Equal("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", upgrade.Header("Sec-WebSocket-Accept"));
        Assert.Equal(0, connection.PendingBytes);
        using var timeout = new CancellationTokenSource(RawHttpConnection.ReadTimeout);
        await using var stream = new NetworkStream(connection.Socket, ownsSocket: false);
        using var socket = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions { IsServer = false, KeepAliveInterval = TimeSpan.Zero });
        await WebSocketChecks.EchoTwiceAndCloseAsync(socket, timeout.Token);
    }

    [Fact]
    public async Task HandOver_MidConnection_LaterRequestsAreServedByKestrel()
    {
        await using var node = KeepAliveNode();
        var (_, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", [node.Port]);
        using var connection = await RawHttpConnection.ConnectAsync(port);

        var first = await connection.RoundTripAsync("GET /1 HTTP/1.1\r\nHost: h\r\n\r\n");
        var handedOver = await connection.RoundTripAsync("GET /2 HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n");
        var after = await connection.RoundTripAsync("GET /3 HTTP/1.1\r\nHost: h\r\n\r\n");

        Assert.True(first.Status == 200 && first.Text == "ok", $"first: {first}");
        Assert.Null(first.Header("Date")); // the fast path
        Assert.True(handedOver.Status == 200 && handedOver.Text == "ok", $"the request with Expect: {handedOver}");
        Assert.NotNull(handedOver.Header("Date")); // Kestrel
        Assert.True(after.Status == 200 && after.Text == "ok", $"the request after the hand-over: {after}");
    }

    [Fact]
    public async Task Http10_FirstRequest_IsHandedOverServedAndClosed()
    {
        await using var node = KeepAliveNode();
        var (_, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", [node.Port]);
        using var connection = await RawHttpConnection.ConnectAsync(port);

        var response = await connection.RoundTripAsync("GET /old HTTP/1.0\r\n\r\n");

        Assert.True(response.Status == 200 && response.Text == "ok", $"expected 200 ok: {response}");
        Assert.NotNull(response.Header("Date")); // Kestrel's HTTP stack answered
        Assert.True(await connection.ServerClosedAsync(), "an HTTP/1.0 connection without keep-alive stayed open");
        var head = Assert.Single(node.Heads);
        Assert.StartsWith("GET /old HTTP/1.", head, StringComparison.Ordinal);
        Assert.Contains("X-Forwarded-For: 127.0.0.1\r\n", head, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task FastPathOff_RoundRobinAndCookiePersistence_Work()
    {
        await using var tether = await TetherInstance.StartAsync(proxyOptions: new ProxyOptions { Http1FastPath = false, ShutdownTimeoutSeconds = 5 });
        await using var node = KeepAliveNode();
        var (_, markerPort) = await tether.CreateLoadBalancerAsync("ROUND_ROBIN", [node.Port]);
        var (_, roundRobinPort) = await tether.CreateLoadBalancerAsync("ROUND_ROBIN", _backends);
        var (cookieId, cookiePort) = await tether.CreateLoadBalancerAsync("ROUND_ROBIN", _backends, """{"persistenceType":"HTTP_COOKIE"}""");

        using var marker = await RawHttpConnection.ConnectAsync(markerPort);
        var kestrel = await marker.RoundTripAsync("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        using var plain = Clients.WithoutCookies(roundRobinPort);
        var spread = await Clients.SpreadAsync(plain, 20);
        using var browser = Clients.WithCookieJar(cookiePort, out var jar);
        var pinned = await Clients.SpreadAsync(browser, 20);

        Assert.True(kestrel.Status == 200 && kestrel.Header("Date") is not null, $"not answered by Kestrel's HTTP stack: {kestrel}");
        Assert.Equal("b1=10 b2=10", string.Join(' ', spread.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => $"{s.Key}={s.Value}")));
        Assert.Single(pinned);
        Assert.NotNull(jar.GetCookies(new Uri($"http://127.0.0.1:{cookiePort}/"))[$"tether-{cookieId}"]);
    }

    [Fact]
    public async Task FastPathOn_RawNodeAnswer_HasNoDateField()
    {
        // The premise of the Date marker the other tests use.
        await using var node = KeepAliveNode();
        var (_, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", [node.Port]);
        using var connection = await RawHttpConnection.ConnectAsync(port);

        var response = await connection.RoundTripAsync("GET / HTTP/1.1\r\nHost: h\r\n\r\n");

        Assert.True(response.Status == 200 && response.Text == "ok", $"expected 200 ok: {response}");
        Assert.Null(response.Header("Date"));
    }

    [Fact]
    public async Task StaleConnection_KeptNodeConnectionClosedByNode_NextRequestGets200()
    {
        // Every node connection answers one request with keep-alive, then the node closes it.
        await using var node = RawBackend.Answering(Ok);
        var (_, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", [node.Port]);
        using var connection = await RawHttpConnection.ConnectAsync(port);

        var first = await connection.RoundTripAsync("GET /1 HTTP/1.1\r\nHost: h\r\n\r\n");
        await WaitUntilAsync(() => node.Heads.Count == 1);
        await Task.Delay(200); // the node's FIN reaches Tether
        var second = await connection.RoundTripAsync("GET /2 HTTP/1.1\r\nHost: h\r\n\r\n");
        var third = await connection.RoundTripAsync("GET /3 HTTP/1.1\r\nHost: h\r\n\r\n");

        Assert.True(first.Status == 200 && first.Text == "ok", $"first: {first}");
        Assert.True(second.Status == 200 && second.Text == "ok", $"second, on a stale node connection: {second}");
        Assert.True(third.Status == 200 && third.Text == "ok", $"third: {third}");
        Assert.Equal(3, node.Accepted);
        Assert.Equal(["GET /1", "GET /2", "GET /3"], node.Heads.Select(h => h[..6]));
    }

    [Fact]
    public async Task StaleConnection_PooledNodeConnectionClosedByNode_NextClientGets200()
    {
        await using var node = RawBackend.Answering(Ok);
        var (_, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", [node.Port]);
        using (var first = await RawHttpConnection.ConnectAsync(port))
        {
            // Connection: close ends the client connection, and its node connection goes back to the pool.
            var response = await first.RoundTripAsync("GET /1 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
            Assert.True(response.Status == 200 && response.Text == "ok", $"first: {response}");
            Assert.True(await first.ServerClosedAsync(), "the first client connection stayed open");
        }

        await Task.Delay(200);
        using var second = await RawHttpConnection.ConnectAsync(port);
        var next = await second.RoundTripAsync("GET /2 HTTP/1.1\r\nHost: h\r\n\r\n");

        Assert.True(next.Status == 200 && next.Text == "ok", $"second client, on a stale pooled connection: {next}");
        Assert.Equal(2, node.Accepted);
    }

    [Fact]
    public async Task ConnectRefused_OneOfTwoNodes_RetriedOnTheOtherAndCounted()
    {
        var closedPort = FreePort.Next();
        var (id, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", [closedPort, _backends[0].Port]);
        using var connection = await RawHttpConnection.ConnectAsync(port);

        for (var i = 0; i < 4; i++)
        {
            var response = await connection.RoundTripAsync($"GET /echo?i={i} HTTP/1.1\r\nHost: h\r\n\r\n");
            Assert.True(response.Status == 200, $"request {i}: {response}");
            Assert.Equal("b1", response.Header("X-Backend"));
        }

        var stats = await _tether.GetJsonAsync($"loadbalancers/{id}/stats");
        Assert.True(stats["connectError"]!.GetValue<long>() >= 1, stats.ToJsonString());
    }

    [Fact]
    public async Task Tls_RequestOverHttps_IsServedByFastPathWithForwardedProtoHttps()
    {
        await using var node = KeepAliveNode();
        var (id, _) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", [node.Port]);
        var securePort = FreePort.Next();
        using var cert = Certificate("CN=fastpath.test");
        using var put = await PutSslAsync(id, cert, securePort);
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        using var client = HttpsClient(securePort);

        using var first = await client.GetAsync("/a");
        using var second = await client.GetAsync("/b");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(HttpVersion.Version11, first.Version);
        Assert.Null(first.Headers.Date); // the fast path, not Kestrel's HTTP stack
        var heads = node.Heads.ToArray();
        Assert.Equal(2, heads.Length);
        Assert.All(heads, h => Assert.Contains("X-Forwarded-Proto: https\r\n", h, StringComparison.Ordinal));
        Assert.All(heads, h => Assert.Contains($"X-Forwarded-Port: {securePort}\r\n", h, StringComparison.Ordinal));
    }

    /// <summary>RFC 9112 section 4: <c>status-line = HTTP-version SP status-code SP [ reason-phrase ]</c>. A node may
    /// omit the SP before an empty reason (Tether's parser accepts it), but Tether is then the sender of the status line
    /// and must not generate one that does not match the grammar (RFC 9110 section 2.2). The Kestrel + YARP path sends
    /// <c>HTTP/1.1 200 OK</c> here (seen with Http1FastPath=false).</summary>
    [Fact]
    public async Task Response_StatusLineWithoutReason_IsForwardedWithSpace()
    {
        await using var node = RawBackend.Answering("HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok");
        var (_, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", [node.Port]);
        using var socket = await ConnectAsync(port);

        await socket.SendAsync(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: h\r\n\r\n"));
        var head = await ReadHeadAsync(socket);

        var statusLine = head[..head.IndexOf("\r\n", StringComparison.Ordinal)];
        Assert.True(statusLine.StartsWith("HTTP/1.1 200 ", StringComparison.Ordinal), $"status line sent to the client: '{statusLine}'");
    }

    /// <summary>RFC 9112 section 2.2: a server SHOULD ignore at least one empty line before a request line (old clients
    /// send CRLF after a POST body). Kestrel's HTTP stack does (dotnet/aspnetcore#40747): with Http1FastPath=false this
    /// answers 200.</summary>
    [Theory]
    [InlineData("\r\nGET /echo?second HTTP/1.1\r\nHost: h\r\n\r\n")]
    [InlineData("\r\n\r\nGET /echo?second HTTP/1.1\r\nHost: h\r\n\r\n")]
    public async Task Request_EmptyLineBeforeRequestLine_IsIgnored(string next)
    {
        var (_, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", _backends.Take(1));
        using var connection = await RawHttpConnection.ConnectAsync(port);

        var post = await connection.RoundTripAsync("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi");
        var second = await connection.RoundTripAsync(next);

        Assert.True(post.Status == 200, $"the POST: {post}");
        Assert.True(second.Status == 200, $"the request after an empty line: {second}");
        Assert.Equal("?second", second.Echo("query"));
    }

    /// <summary>A client that sends a head and part of its body, then nothing, must not hold the connection (and a
    /// node connection) forever. The Kestrel + YARP path answers 408 after the load balancer's timeout (2 s here; seen
    /// with Http1FastPath=false); the fast path waits in <c>SendBodyAsync</c> in its Client phase, which no heartbeat
    /// timeout covers.</summary>
    [Fact]
    public async Task Request_ClientStallsMidBody_ConnectionIsEndedAfterTheTimeout()
    {
        var (_, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", _backends.Take(1), extra: ""","timeout":2""");
        using var connection = await RawHttpConnection.ConnectAsync(port);

        await connection.SendAsync("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\nabc");
        var closed = await connection.ServerClosedAsync(TimeSpan.FromSeconds(10));

        Assert.True(closed, $"the connection was still open 10 s after the client stopped sending its body, with a 2 s timeout ({connection.PendingBytes} bytes received)");
    }

    [Fact]
    public async Task Request_HeadStartedThenStopped_IsClosedAfterRequestHeadersTimeout()
    {
        await using var tether = await TetherInstance.StartAsync(proxyOptions: new ProxyOptions { RequestHeadersTimeoutSeconds = 2, ShutdownTimeoutSeconds = 5 });
        var (_, port) = await tether.CreateLoadBalancerAsync("ROUND_ROBIN", _backends.Take(1));
        using var connection = await RawHttpConnection.ConnectAsync(port);
        var watch = Stopwatch.StartNew();

        await connection.SendAsync("GET /echo HTTP/1.1\r\nHost: h\r\n");
        var closed = await connection.ServerClosedAsync(TimeSpan.FromSeconds(10));

        Assert.True(closed, "a head left unfinished was still open after 10 s with a 2 s request headers timeout");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(6), $"closed after {watch.Elapsed.TotalSeconds:F1} s");
    }

    /// <summary>ProxyOptions.RequestHeadersTimeoutSeconds is "how long a client may take to send a request head once it
    /// started" (as Kestrel's RequestHeadersTimeout). Http1Connection.RunAsync calls SetPhase(Phase.Head) after every
    /// read of an incomplete head, which restarts the clock, so a client that trickles its head a few bytes at a time
    /// (slowloris) is never cut.</summary>
    [Fact]
    public async Task Request_HeadTrickledSlowly_IsClosedAfterRequestHeadersTimeout()
    {
        await using var tether = await TetherInstance.StartAsync(proxyOptions: new ProxyOptions { RequestHeadersTimeoutSeconds = 2, ShutdownTimeoutSeconds = 5 });
        var (_, port) = await tether.CreateLoadBalancerAsync("ROUND_ROBIN", _backends.Take(1));
        using var connection = await RawHttpConnection.ConnectAsync(port);
        using var stop = new CancellationTokenSource();
        var watch = Stopwatch.StartNew();
        await connection.SendAsync("GET /echo HTTP/1.1\r\nHost: h\r\n");
        var trickle = Task.Run(async () =>
        {
            // One field line every 500 ms for up to 12 s; stops at the first failed send (the server closed).
            for (var i = 0; i < 24 && !stop.IsCancellationRequested; i++)
            {
                await Task.Delay(500);
                try
                {
                    await connection.Socket.SendAsync(Encoding.ASCII.GetBytes($"X-Slow-{i}: 1\r\n"), SocketFlags.None);
                }
                catch (SocketException)
                {
                    return;
                }
            }
        });

        var closed = await connection.ServerClosedAsync(TimeSpan.FromSeconds(10));
        var elapsed = watch.Elapsed;
        await stop.CancelAsync();
        await trickle.WaitAsync(TimeSpan.FromSeconds(15));

        Assert.True(closed, "a head trickled one line every 500 ms was still being read after 10 s with a 2 s request headers timeout");
        Assert.True(elapsed < TimeSpan.FromSeconds(6), $"closed after {elapsed.TotalSeconds:F1} s");
    }

    /// <summary>RFC 9112 section 3.2: a server MUST answer 400 to a request whose Host field value is invalid (Host =
    /// uri-host [ ":" port ]). The Kestrel + YARP path does (seen with Http1FastPath=false, the same values); the fast
    /// path forwards them to the node (the node here answers 200 to anything).</summary>
    [Theory]
    [InlineData("a b")]
    [InlineData("a/b")]
    [InlineData("a@b")]
    [InlineData("h:8x")]
    [InlineData("a:b:c")]
    public async Task Request_InvalidHostValue_Answers400(string host)
    {
        await using var node = KeepAliveNode();
        var (_, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", [node.Port]);
        using var connection = await RawHttpConnection.ConnectAsync(port);

        var response = await connection.RoundTripAsync($"GET / HTTP/1.1\r\nHost: {host}\r\n\r\n");

        Assert.True(response.Status == 400, $"Host '{host}': {response}");
        Assert.Empty(node.Heads);
    }

    [Theory]
    [InlineData("")]
    [InlineData("[::1]:80")]
    [InlineData("a_b.example:8080")]
    [InlineData("example.test")]
    public async Task Request_ValidHostValue_IsForwarded(string host)
    {
        await using var node = KeepAliveNode();
        var (_, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", [node.Port]);
        using var connection = await RawHttpConnection.ConnectAsync(port);

        var response = await connection.RoundTripAsync($"GET / HTTP/1.1\r\nHost: {host}\r\n\r\n");

        Assert.True(response.Status == 200, $"Host '{host}': {response}");
        Assert.Contains($"Host: {host}\r\n", Assert.Single(node.Heads), StringComparison.Ordinal);
    }

    /// <summary>A chunk size of 2^63 or more makes ChunkedBodyReader.Advance loop forever (see
    /// ChunkedBodyReaderTests.Advance_SizeOf2Pow63OrMore_ReturnsMinusOne): one request pins a Tether thread at 100 %
    /// CPU and its connection never ends (run once unskipped: still open after 5 s, 4.6 s of CPU in those 5 s).
    /// Skipped because a failing run leaves that thread spinning for the rest of the test run.</summary>
    [Fact]
    public async Task Request_ChunkSizeOf2Pow63_Answers400AndCloses()
    {
        var (_, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", _backends.Take(1));
        using var connection = await RawHttpConnection.ConnectAsync(port);

        await connection.SendAsync("POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n8000000000000000\r\nabcdefgh\r\n0\r\n\r\n");
        var closed = await connection.ServerClosedAsync(TimeSpan.FromSeconds(10));

        Assert.True(closed, "the connection was still open 10 s after an impossible chunk size");
    }

    /// <summary>A node that answers every request on a connection with <see cref="Ok"/> (no <c>Date</c>) until the peer
    /// closes.</summary>
    private static RawBackend KeepAliveNode() => RawBackend.Start(async c =>
    {
        while (await c.ReadHeadAsync() is not null)
        {
            await c.WriteAsync(Ok);
        }
    });

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(watch.Elapsed < RawHttpConnection.ReadTimeout, "condition not met in time");
            await Task.Delay(20);
        }
    }

    private static async Task<Socket> ConnectAsync(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var timeout = new CancellationTokenSource(RawHttpConnection.ReadTimeout);
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), timeout.Token);
        return socket;
    }

    /// <summary>The bytes up to the end of the first head, exactly as sent (Latin-1).</summary>
    private static async Task<string> ReadHeadAsync(Socket socket)
    {
        var received = new List<byte>();
        var buffer = new byte[4096];
        using var timeout = new CancellationTokenSource(RawHttpConnection.ReadTimeout);
        while (true)
        {
            var text = Encoding.Latin1.GetString([.. received]);
            var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end >= 0)
            {
                return text[..(end + 4)];
            }

            var n = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            if (n == 0)
            {
                throw new EndOfStreamException($"connection ended before the end of the head: '{text}'");
            }

            received.AddRange(buffer.AsSpan(0, n));
        }
    }

    private Task<HttpResponseMessage> PutSslAsync(int id, X509Certificate2 cert, int securePort)
    {
        var certificate = JsonSerializer.Serialize(cert.ExportCertificatePem());
        var key = JsonSerializer.Serialize(cert.GetRSAPrivateKey()!.ExportPkcs8PrivateKeyPem());
        return _tether.SendJsonAsync(HttpMethod.Put, $"loadbalancers/{id}/ssltermination",
            $$$"""{"sslTermination":{"certificate":{{{certificate}}},"privateKey":{{{key}}},"securePort":{{{securePort}}},"enabled":true}}""");
    }

    private static X509Certificate2 Certificate(string subject)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
    }

    /// <summary>An HTTP/1.1 client over TLS that accepts the test's self-signed certificate.</summary>
    private static HttpClient HttpsClient(int port) =>
        new(new SocketsHttpHandler
        {
            UseProxy = false,
            UseCookies = false,
            SslOptions = new SslClientAuthenticationOptions
            {
#pragma warning disable CA5359 // the test's certificate is self-signed on purpose
                RemoteCertificateValidationCallback = (_, _, _, _) => true,
#pragma warning restore CA5359
            },
        })
        {
            BaseAddress = new Uri($"https://127.0.0.1:{port}/"),
            Timeout = TimeSpan.FromSeconds(30),
        };
}

/// <summary>One Tether with default proxy options and two real backends (<c>b1</c>, <c>b2</c>) for
/// <see cref="Http1FastPathTests"/>; tests that need other options start a Tether of their own.</summary>
public sealed class Http1FastPathFixture : IAsyncLifetime
{
    public TetherInstance Tether { get; private set; } = null!;

    public TestBackend[] Backends { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Tether = await TetherInstance.StartAsync();
        Backends = [await TestBackend.StartAsync("b1"), await TestBackend.StartAsync("b2")];
    }

    public async Task DisposeAsync()
    {
        await Tether.DisposeAsync();
        foreach (var backend in Backends)
        {
            await backend.DisposeAsync();
        }
    }
}
