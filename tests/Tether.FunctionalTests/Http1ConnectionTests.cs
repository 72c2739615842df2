using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using Tether.FunctionalTests.Infrastructure;

namespace Tether.FunctionalTests;

/// <summary>
/// HTTP/1.1 connection management and header handling at the load balancer (RFC 9112, RFC 9110 section 7.6): pipelining,
/// keep-alive and <c>Connection: close</c>, HTTP/1.0 clients, responses without a body, hop-by-hop headers and the
/// forwarding headers, WebSocket upgrades, and Set-Cookie lines kept apart.
/// </summary>
public sealed class Http1ConnectionTests(Http1Fixture fixture) : IClassFixture<Http1Fixture>
{
    private readonly Http1Fixture _fixture = fixture;
    private readonly int _port = fixture.Port;

    [Theory]
    [InlineData(2)]
    [InlineData(10)]
    public async Task Pipelining_RequestsInOneSend_AnswersAllInOrder(int count)
    {
        var requests = new StringBuilder();
        for (var i = 0; i < count; i++)
        {
            requests.Append(CultureInfo.InvariantCulture, $"GET /echo?i={i} HTTP/1.1\r\nHost: h\r\n\r\n");
        }

        using var connection = await RawHttpConnection.ConnectAsync(_port);
        await connection.SendAsync(requests.ToString());

        for (var i = 0; i < count; i++)
        {
            var response = await connection.ReadFinalResponseAsync();
            Assert.True(response.Status == 200, $"response {i}: {response}");
            Assert.Equal($"?i={i}", response.Echo("query"));
        }
    }

    [Fact]
    public async Task KeepAlive_100SequentialRequests_AllAnsweredOnOneConnection()
    {
        using var connection = await RawHttpConnection.ConnectAsync(_port);

        for (var i = 0; i < 100; i++)
        {
            var response = await connection.RoundTripAsync($"GET /echo?i={i} HTTP/1.1\r\nHost: h\r\n\r\n");
            Assert.True(response.Status == 200, $"request {i}: {response}");
            Assert.Equal($"?i={i}", response.Echo("query"));
            Assert.False(response.ConnectionHas("close"), $"request {i} was answered with Connection: close: {response}");
        }
    }

    [Fact]
    public async Task KeepAlive_RequestWithConnectionClose_AnswersCloseAndCloses()
    {
        using var connection = await RawHttpConnection.ConnectAsync(_port);

        var response = await connection.RoundTripAsync("GET /echo HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");

        Assert.True(response.Status == 200, $"expected 200: {response}");
        Assert.True(response.ConnectionHas("close"), $"no Connection: close in the answer: {response}");
        Assert.True(await connection.ServerClosedAsync(), "the server kept the connection open");
        Assert.Equal(0, connection.PendingBytes);
    }

    [Theory]
    [InlineData("/echo")]
    [InlineData("/chunked?size=5000")]
    public async Task Http10_WithoutHost_Answers200WithoutChunkingAndCloses(string path)
    {
        using var connection = await RawHttpConnection.ConnectAsync(_port);

        var response = await connection.RoundTripAsync($"GET {path} HTTP/1.0\r\n\r\n");

        Assert.True(response.Status == 200, $"expected 200: {response}");
        // RFC 9112 6.1: no Transfer-Encoding in a response to an HTTP/1.0 request (the node's chunked answer is
        // close-delimited or given a length instead).
        Assert.Empty(response.Values("Transfer-Encoding"));
        Assert.False(response.Truncated, $"truncated: {response}");
        if (path.StartsWith("/chunked", StringComparison.Ordinal))
        {
            Assert.Equal(TestBackend.Pattern(5000), response.Body);
        }
        else
        {
            Assert.Equal("/echo", response.Echo("path"));
        }

        Assert.True(await connection.ServerClosedAsync(), "the server kept an HTTP/1.0 connection open without keep-alive");
    }

    [Fact]
    public async Task Http10_KeepAlive_Answers200()
    {
        using var connection = await RawHttpConnection.ConnectAsync(_port);

        var response = await connection.RoundTripAsync("GET /echo HTTP/1.0\r\nHost: h\r\nConnection: keep-alive\r\n\r\n");

        Assert.True(response.Status == 200, $"expected 200: {response}");
        Assert.Empty(response.Values("Transfer-Encoding"));
        Assert.Equal("/echo", response.Echo("path"));
    }

    [Fact]
    public async Task Head_ResourceWithLength_AnswersHeadersWithoutBodyAndKeepsConnection()
    {
        using var connection = await RawHttpConnection.ConnectAsync(_port);

        var head = await connection.RoundTripAsync("HEAD /bytes?size=1000 HTTP/1.1\r\nHost: h\r\n\r\n", headRequest: true);
        // Body bytes sent after the HEAD answer would be read as the start of this one.
        var next = await connection.RoundTripAsync("GET /echo?next HTTP/1.1\r\nHost: h\r\n\r\n");

        Assert.True(head.Status == 200, $"expected 200: {head}");
        Assert.True(head.Header("Content-Length") is null or "1000", $"Content-Length of the HEAD answer: {head}");
        Assert.True(next.Status == 200, $"the request after HEAD: {next}");
        Assert.Equal("?next", next.Echo("query"));
    }

    [Theory]
    [InlineData(204)]
    [InlineData(304)]
    public async Task Get_StatusWithoutBody_AnswersNoBodyAndKeepsConnection(int code)
    {
        using var connection = await RawHttpConnection.ConnectAsync(_port);

        var response = await connection.RoundTripAsync($"GET /status?code={code} HTTP/1.1\r\nHost: h\r\n\r\n");
        var next = await connection.RoundTripAsync("GET /echo?next HTTP/1.1\r\nHost: h\r\n\r\n");

        Assert.True(response.Status == code, $"expected {code}: {response}");
        Assert.Empty(response.Values("Transfer-Encoding"));
        if (code == 204)
        {
            Assert.Empty(response.Values("Content-Length"));
        }

        Assert.True(next.Status == 200, $"the request after {code}: {next}");
        Assert.Equal("?next", next.Echo("query"));
    }

    [Fact]
    public async Task Forwarding_HopByHopHeaders_AreDroppedAndForwardingHeadersSet()
    {
        using var connection = await RawHttpConnection.ConnectAsync(_port);

        var response = await connection.RoundTripAsync("GET /echo HTTP/1.1\r\nHost: example.test:8080\r\nConnection: keep-alive, X-Hop\r\n"
            + "X-Hop: 1\r\nKeep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\nX-End: 2\r\n\r\n");

        Assert.True(response.Status == 200, $"expected 200: {response}");
        // Every difference at once, so that one run tells the whole story.
        var expected = new (string Name, string? Value)[]
        {
            ("X-Hop", null), // named in Connection: RFC 9110 7.6.1
            ("Keep-Alive", null),
            ("Proxy-Connection", null),
            ("X-End", "2"),
            ("Host", "example.test:8080"),
            ("X-Forwarded-For", "127.0.0.1"),
            ("X-Forwarded-Proto", "http"),
            ("X-Forwarded-Port", _port.ToString(CultureInfo.InvariantCulture)),
        };
        var wrong = expected
            .Select(e => (e.Name, e.Value, Seen: response.EchoHeader(e.Name)))
            .Where(e => e.Value is null ? e.Seen.Count != 0 : e.Seen.Count != 1 || e.Seen[0] != e.Value)
            .Select(e => $"{e.Name}: expected {e.Value ?? "(absent)"}, the node saw [{string.Join(" | ", e.Seen)}]")
            .ToList();
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }

    [Fact]
    public async Task Forwarding_ClientForwardedFor_IsAppendedTo()
    {
        using var connection = await RawHttpConnection.ConnectAsync(_port);

        var response = await connection.RoundTripAsync("GET /echo HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n");

        Assert.True(response.Status == 200, $"expected 200: {response}");
        // One line or several: a list header means the same either way (RFC 9110 5.3).
        Assert.Equal("1.2.3.4, 127.0.0.1", string.Join(", ", response.EchoHeader("X-Forwarded-For")));
    }

    [Fact]
    public async Task WebSocket_ThroughLoadBalancer_EchoesMessages()
    {
        using var timeout = new CancellationTokenSource(RawHttpConnection.ReadTimeout);
        using var socket = new ClientWebSocket();

        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{_port}/ws"), timeout.Token);
        await WebSocketChecks.EchoTwiceAndCloseAsync(socket, timeout.Token);
    }

    [Fact]
    public async Task HttpCookie_NodeSetsTwoCookies_ClientGetsThreeSetCookieLines()
    {
        var (id, port) = await _fixture.Tether.CreateLoadBalancerAsync("ROUND_ROBIN", [_fixture.Backend], """{"persistenceType":"HTTP_COOKIE"}""");
        using var connection = await RawHttpConnection.ConnectAsync(port);

        var response = await connection.RoundTripAsync("GET /set-cookie HTTP/1.1\r\nHost: h\r\n\r\n");

        Assert.True(response.Status == 200, $"expected 200: {response}");
        var lines = response.Values("Set-Cookie");
        Assert.True(lines.Count == 3, $"expected three Set-Cookie lines: {response}");
        Assert.Contains("app-a=1; Path=/", lines);
        Assert.Contains("app-b=2; Path=/; HttpOnly", lines);
        Assert.Single(lines, l => l.StartsWith($"tether-{id}=", StringComparison.Ordinal));
    }
}
