using System.Globalization;
using System.Text;
using Tether.FunctionalTests.Infrastructure;

namespace Tether.FunctionalTests;

/// <summary>
/// HTTP/1.1 request framing at the load balancer's listener (RFC 9112), over raw sockets so that the exact bytes are
/// what the test says: ambiguous or malformed framing is refused before anything reaches a node (and the connection is
/// closed where the framing cannot be trusted any more), limits answer their status codes, and valid bodies (chunked,
/// with extensions and trailers, large, behind <c>Expect: 100-continue</c>) reach the node intact. Whatever path
/// serves the listener, these must hold.
/// </summary>
public sealed class Http1FramingTests(Http1Fixture fixture) : IClassFixture<Http1Fixture>
{
    private const int TenMiB = 10 * 1024 * 1024;

    private readonly TestBackend _backend = fixture.Backend;
    private readonly int _port = fixture.Port;

    [Fact]
    public async Task Request_ContentLengthAndChunked_Answers400AndCloses()
    {
        await AssertRefusedAsync(
            "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", mustClose: true, 400);
    }

    [Theory]
    [InlineData("Content-Length: 5\r\nContent-Length: 6")]
    [InlineData("Content-Length: 5, 6")]
    [InlineData("Content-Length: abc")]
    [InlineData("Content-Length: -5")]
    [InlineData("Content-Length: +5")]
    public async Task Request_InvalidContentLength_Answers400AndCloses(string contentLength)
    {
        await AssertRefusedAsync($"POST /echo HTTP/1.1\r\nHost: h\r\n{contentLength}\r\n\r\nhello", mustClose: true, 400);
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("chunked, gzip")]
    public async Task Request_FinalCodingNotChunked_Answers400Or501AndCloses(string transferEncoding)
    {
        await AssertRefusedAsync($"POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: {transferEncoding}\r\n\r\nhello", mustClose: true, 400, 501);
    }

    [Fact]
    public async Task Request_HeaderBlockOver32KiB_Answers431()
    {
        var headers = new StringBuilder();
        for (var i = 0; i < 40; i++)
        {
            headers.Append(CultureInfo.InvariantCulture, $"X-Big-{i}: {new string('a', 1000)}\r\n");
        }

        await AssertRefusedAsync($"GET /echo HTTP/1.1\r\nHost: h\r\n{headers}\r\n", mustClose: false, 431);
    }

    [Fact]
    public async Task Request_RequestLineOver8KiB_Answers414()
    {
        await AssertRefusedAsync($"GET /echo?q={new string('a', 9000)} HTTP/1.1\r\nHost: h\r\n\r\n", mustClose: false, 414);
    }

    [Fact]
    public async Task Request_Over100HeaderLines_Answers431()
    {
        var headers = new StringBuilder();
        for (var i = 0; i < 101; i++)
        {
            headers.Append(CultureInfo.InvariantCulture, $"X-H-{i}: {i}\r\n");
        }

        await AssertRefusedAsync($"GET /echo HTTP/1.1\r\nHost: h\r\n{headers}\r\n", mustClose: false, 431);
    }

    [Fact]
    public async Task Request_WithinLimits_IsForwarded()
    {
        // 90 header lines, about 24 KiB of headers and a 4 KiB request line: well inside the limits above, so a path
        // whose limits are tighter than promised fails here.
        var headers = new StringBuilder();
        for (var i = 0; i < 90; i++)
        {
            headers.Append(CultureInfo.InvariantCulture, $"X-H-{i}: {new string('b', 260)}\r\n");
        }

        using var connection = await RawHttpConnection.ConnectAsync(_port);
        var response = await connection.RoundTripAsync($"GET /echo?q={new string('a', 4000)} HTTP/1.1\r\nHost: h\r\n{headers}\r\n");

        Assert.True(response.Status == 200, $"expected 200: {response}");
        Assert.Equal(new string('b', 260), Assert.Single(response.EchoHeader("X-H-89")));
    }

    [Theory]
    [InlineData("GET /echo HTTP/1.1\r\n\r\n")]
    [InlineData("GET /echo HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")]
    public async Task Request_MissingOrDuplicateHost_Answers400(string request)
    {
        await AssertRefusedAsync(request, mustClose: false, 400);
    }

    [Theory]
    [InlineData("X-A: 1\r\n folded")]
    [InlineData("X-A: 1\r\n\tfolded")]
    [InlineData("X-A : 1")]
    [InlineData("X-A\t: 1")]
    public async Task Request_MalformedHeaderLine_Answers400(string header)
    {
        await AssertRefusedAsync($"GET /echo HTTP/1.1\r\nHost: h\r\n{header}\r\n\r\n", mustClose: false, 400);
    }

    [Fact]
    public async Task Post_ChunkedBodyWithExtensionAndTrailers_ReachesNodeIntactAndKeepsConnection()
    {
        var body = TestBackend.Pattern(1024 + 500 + 3);
        var request = new MemoryStream();
        request.Write("POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"u8);
        request.Write("400\r\n"u8);
        request.Write(body.AsSpan(0, 1024));
        request.Write("\r\n1f4;name=value;flag\r\n"u8);
        request.Write(body.AsSpan(1024, 500));
        request.Write("\r\n3\r\n"u8);
        request.Write(body.AsSpan(1524, 3));
        request.Write("\r\n0\r\nX-Trailer: t\r\nX-Other: u\r\n\r\n"u8);
        using var connection = await RawHttpConnection.ConnectAsync(_port);

        await connection.SendAsync(request.ToArray());
        var response = await connection.ReadFinalResponseAsync();
        var second = await connection.RoundTripAsync("GET /echo?second HTTP/1.1\r\nHost: h\r\n\r\n");

        Assert.True(response.Status == 200, $"expected 200: {response}");
        Assert.Equal(body.Length.ToString(CultureInfo.InvariantCulture), response.Echo("length"));
        Assert.Equal(TestBackend.Sha256Hex(body), response.Echo("sha256"));
        Assert.True(second.Status == 200, $"second request: {second}");
        Assert.Equal("?second", second.Echo("query"));
    }

    [Fact]
    public async Task Post_10MiBContentLengthBody_ArrivesIntact()
    {
        var body = TestBackend.Pattern(TenMiB);
        using var connection = await RawHttpConnection.ConnectAsync(_port);

        await connection.SendAsync($"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: {body.Length}\r\n\r\n");
        await connection.SendAsync(body);
        var response = await connection.ReadFinalResponseAsync();

        Assert.True(response.Status == 200, $"expected 200: {response}");
        Assert.Equal(body.Length.ToString(CultureInfo.InvariantCulture), response.Echo("length"));
        Assert.Equal(TestBackend.Sha256Hex(body), response.Echo("sha256"));
    }

    [Fact]
    public async Task Post_10MiBChunkedBody_ArrivesIntact()
    {
        var body = TestBackend.Pattern(TenMiB);
        var request = new MemoryStream();
        request.Write("POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"u8);
        for (var offset = 0; offset < body.Length;)
        {
            // Uneven chunk sizes, so that chunk boundaries fall anywhere in the proxy's buffers.
            var size = Math.Min(body.Length - offset, 50_000 + (offset % 7919));
            request.Write(Encoding.ASCII.GetBytes(size.ToString("x", CultureInfo.InvariantCulture) + "\r\n"));
            request.Write(body.AsSpan(offset, size));
            request.Write("\r\n"u8);
            offset += size;
        }

        request.Write("0\r\n\r\n"u8);
        using var connection = await RawHttpConnection.ConnectAsync(_port);

        await connection.SendAsync(request.ToArray());
        var response = await connection.ReadFinalResponseAsync();

        Assert.True(response.Status == 200, $"expected 200: {response}");
        Assert.Equal(body.Length.ToString(CultureInfo.InvariantCulture), response.Echo("length"));
        Assert.Equal(TestBackend.Sha256Hex(body), response.Echo("sha256"));
    }

    [Fact]
    public async Task Get_10MiBChunkedResponse_ArrivesIntact()
    {
        using var connection = await RawHttpConnection.ConnectAsync(_port);

        var response = await connection.RoundTripAsync($"GET /chunked?size={TenMiB} HTTP/1.1\r\nHost: h\r\n\r\n");

        Assert.True(response.Status == 200, $"expected 200: {response}");
        Assert.False(response.Truncated, $"truncated: {response}");
        Assert.Equal(TestBackend.Sha256Hex(TestBackend.Pattern(TenMiB)), TestBackend.Sha256Hex(response.Body));
    }

    [Fact]
    public async Task Post_Expect100Continue_Answers100ThenEchoesBody()
    {
        var body = TestBackend.Pattern(100_000);
        using var connection = await RawHttpConnection.ConnectAsync(_port);

        // RFC 9110 10.1.1: the client waits for 100 (Continue) before it sends the content; a proxy forwards the
        // expectation or answers 100 itself, but never leaves the client waiting.
        await connection.SendAsync($"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: {body.Length}\r\nExpect: 100-continue\r\n\r\n");
        var interim = await connection.ReadResponseAsync();
        Assert.True(interim.Status == 100, $"expected 100 Continue before the body: {interim}");
        await connection.SendAsync(body);
        var response = await connection.ReadFinalResponseAsync();

        Assert.True(response.Status == 200, $"expected 200: {response}");
        Assert.Equal(body.Length.ToString(CultureInfo.InvariantCulture), response.Echo("length"));
        Assert.Equal(TestBackend.Sha256Hex(body), response.Echo("sha256"));
    }

    /// <summary>Sends <paramref name="request"/> on a new connection and checks that it is refused: the answer's status
    /// is one of <paramref name="statuses"/>, the server closes the connection after it when <paramref name="mustClose"/>
    /// (the framing of what follows cannot be trusted), and the node got nothing.</summary>
    private async Task AssertRefusedAsync(string request, bool mustClose, params int[] statuses)
    {
        var before = _backend.Requests;
        using var connection = await RawHttpConnection.ConnectAsync(_port);
        await connection.SendAsync(request);
        var response = await connection.ReadFinalResponseAsync();

        Assert.True(statuses.Contains(response.Status), $"expected {string.Join(" or ", statuses)}: {response}");
        if (mustClose)
        {
            Assert.True(await connection.ServerClosedAsync(), "the server kept the connection open after a request whose framing is unknown");
        }

        Assert.True(_backend.Requests == before, "the node got the request");
    }
}

/// <summary>One Tether, one <see cref="TestBackend"/> and one ROUND_ROBIN HTTP load balancer over it, shared by the
/// tests of a class.</summary>
public sealed class Http1Fixture : IAsyncLifetime
{
    public TetherInstance Tether { get; private set; } = null!;

    public TestBackend Backend { get; private set; } = null!;

    /// <summary>The load balancer's id.</summary>
    public int Id { get; private set; }

    /// <summary>The load balancer's port on 127.0.0.1.</summary>
    public int Port { get; private set; }

    public async Task InitializeAsync()
    {
        Tether = await TetherInstance.StartAsync();
        Backend = await TestBackend.StartAsync("h1");
        (Id, Port) = await Tether.CreateLoadBalancerAsync("ROUND_ROBIN", [Backend]);
    }

    public async Task DisposeAsync()
    {
        await Tether.DisposeAsync();
        await Backend.DisposeAsync();
    }
}
