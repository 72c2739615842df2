using Tether.FunctionalTests.Infrastructure;

namespace Tether.FunctionalTests;

/// <summary>
/// HTTP/1.1 response framing from a node (RFC 9112 section 6.3), with a hand-written node (<see cref="RawBackend"/>)
/// that answers what a real server would not: close-delimited bodies arrive whole, invalid framing becomes 502, a body
/// cut short never looks complete to the client, interim responses do not take the final one's place, and the node's
/// hop-by-hop headers stay on the node's side of the proxy.
/// </summary>
public sealed class Http1ResponseTests(TetherFixture fixture) : IClassFixture<TetherFixture>
{
    private const string Ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

    private readonly TetherInstance _tether = fixture.Tether;

    [Fact]
    public async Task Response_CloseDelimitedBody_ArrivesComplete()
    {
        var body = TestBackend.Pattern(100_000);
        await using var node = RawBackend.Start(async c =>
        {
            await c.ReadHeadAsync();
            await c.WriteAsync("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n");
            await c.WriteAsync(body);
        });
        var (_, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", [node.Port]);
        using var connection = await RawHttpConnection.ConnectAsync(port);

        var response = await connection.RoundTripAsync("GET / HTTP/1.1\r\nHost: h\r\n\r\n");

        Assert.True(response.Status == 200, $"expected 200: {response}");
        Assert.False(response.Truncated, $"truncated: {response}");
        Assert.Equal(body, response.Body);
    }

    [Theory]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")]
    [InlineData("HELLO WORLD\r\n\r\n")]
    [InlineData("HTTP/1.1 2x0 OK\r\nContent-Length: 2\r\n\r\nok")]
    public async Task Response_InvalidFraming_Answers502(string answer)
    {
        await using var node = RawBackend.Answering(answer);
        var (_, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", [node.Port]);
        using var connection = await RawHttpConnection.ConnectAsync(port);

        var response = await connection.RoundTripAsync("GET / HTTP/1.1\r\nHost: h\r\n\r\n");

        Assert.True(response.Status == 502, $"expected 502: {response}");
    }

    [Fact]
    public async Task Response_ShorterThanContentLength_NeverLooksCompleteAndProxyStaysUp()
    {
        await using var node = RawBackend.Answering("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789");
        var (_, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", [node.Port]);

        using (var connection = await RawHttpConnection.ConnectAsync(port))
        {
            await connection.SendAsync("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
            RawResponse? response;
            try
            {
                response = await connection.ReadFinalResponseAsync();
            }
            catch (EndOfStreamException)
            {
                // The proxy cut the connection before the head went out: the client knows the answer failed.
                response = null;
            }

            // Otherwise either the head went out and the client's connection is cut (fewer bytes, then EOF), or the
            // proxy answered an error of its own; never a complete 1000-byte body.
            if (response is not null)
            {
                Assert.False(response.Status == 200 && !response.Truncated, $"the client got a complete answer: {response}");
                if (response.Status == 200)
                {
                    Assert.True(response.Body.Length < 1000, $"body of {response.Body.Length} bytes");
                    Assert.True(await connection.ServerClosedAsync(), "the client's connection stayed open after a cut body");
                }
                else
                {
                    Assert.True(response.Status >= 500, $"expected a 5xx: {response}");
                }
            }
        }

        node.Handler = async c =>
        {
            await c.ReadHeadAsync();
            await c.WriteAsync(Ok);
        };
        using var again = await RawHttpConnection.ConnectAsync(port);
        var next = await again.RoundTripAsync("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        Assert.True(next.Status == 200 && next.Text == "ok", $"a new request after the cut: {next}");
    }

    [Theory]
    [InlineData("HTTP/1.1 100 Continue\r\n\r\n")]
    [InlineData("HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n")]
    public async Task Response_InterimBeforeFinal_ClientGetsFinal200(string interim)
    {
        await using var node = RawBackend.Answering(interim + Ok);
        var (_, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", [node.Port]);
        using var connection = await RawHttpConnection.ConnectAsync(port);

        var response = await connection.RoundTripAsync("GET / HTTP/1.1\r\nHost: h\r\n\r\n");

        Assert.True(response.Status == 200, $"expected 200: {response}");
        Assert.Equal("ok", response.Text);
    }

    /// <summary>RFC 9110 section 15.2: a proxy forwards the 1xx answers it did not ask for (103 Early Hints lets the
    /// browser preload), fields included, before the final answer.</summary>
    [Fact]
    public async Task Response_EarlyHints_IsForwardedBeforeTheFinalAnswer()
    {
        await using var node = RawBackend.Answering("HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n" + Ok);
        var (_, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", [node.Port]);
        using var connection = await RawHttpConnection.ConnectAsync(port);
        var interim = new List<RawResponse>();

        await connection.SendAsync("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        var response = await connection.ReadFinalResponseAsync(interim: interim);

        var hints = Assert.Single(interim);
        Assert.Equal(103, hints.Status);
        Assert.Equal("</style.css>; rel=preload", Assert.Single(hints.Values("Link")));
        Assert.Equal(200, response.Status);
        Assert.Equal("ok", response.Text);
    }

    [Fact]
    public async Task Response_ConnectionCloseAndKeepAlive_StayOnNodeSideAndClientKeepsConnection()
    {
        await using var node = RawBackend.Answering("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\nKeep-Alive: timeout=5\r\n\r\nok");
        var (_, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", [node.Port]);
        using var connection = await RawHttpConnection.ConnectAsync(port);

        var first = await connection.RoundTripAsync("GET /1 HTTP/1.1\r\nHost: h\r\n\r\n");
        var second = await connection.RoundTripAsync("GET /2 HTTP/1.1\r\nHost: h\r\n\r\n");

        Assert.True(first.Status == 200 && first.Text == "ok", $"first: {first}");
        Assert.Empty(first.Values("Keep-Alive"));
        Assert.True(second.Status == 200 && second.Text == "ok", $"second, on the same connection: {second}");
        Assert.Equal(2, node.Accepted);
    }
}
