using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tether.FunctionalTests.Infrastructure;

namespace Tether.FunctionalTests;

/// <summary>
/// The usage reports over real sockets (issue 12 item 6): traffic of known size through HTTP (the HTTP/1.1 fast path
/// and the Kestrel path), TCP, UDP and SSL termination, then <c>GET /loadbalancers/{id}/usage/current</c> shows the
/// bytes on the client's socket. Tether polls every second here (<c>Management:UsagePollSeconds</c>), and each test
/// waits until the record shows the expected figures (or a deadline passes and the assertion shows what it had).
/// </summary>
public sealed class UsageTests : IAsyncLifetime
{
    private static readonly Dictionary<string, string?> PollEverySecond = new() { ["Management:UsagePollSeconds"] = "1" };

    private TetherInstance _tether = null!;
    private TestBackend _backend = null!;

    public async Task InitializeAsync()
    {
        _tether = await TetherInstance.StartAsync(configuration: PollEverySecond);
        _backend = await TestBackend.StartAsync("b1");
    }

    public async Task DisposeAsync()
    {
        await _tether.DisposeAsync();
        await _backend.DisposeAsync();
    }

    [Fact]
    public async Task Http_FastPath_TransferIsTheBytesOnTheClientSocket()
    {
        var (id, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", [_backend]);
        var (sent, received) = await RawExchangeAsync(port, "GET /bytes?size=5000 HTTP/1.1\r\nHost: usage.test\r\nConnection: close\r\n\r\n");
        Assert.True(received > 5000, $"received {received}");

        var record = await WaitForUsageAsync(_tether, id, r => Long(r, "incomingTransfer") >= sent && Long(r, "outgoingTransfer") >= received);
        Assert.Equal(sent, Long(record, "incomingTransfer"));
        Assert.Equal(received, Long(record, "outgoingTransfer"));
        Assert.Equal(0, Long(record, "incomingTransferSsl"));
        Assert.Equal(0, Long(record, "outgoingTransferSsl"));
        Assert.Equal("CREATE_LOADBALANCER", record["eventType"]!.GetValue<string>());
        Assert.Equal("SERVICENET", record["vipType"]!.GetValue<string>());
    }

    [Fact]
    public async Task Http_KestrelPath_TransferIsTheBytesOnTheClientSocket()
    {
        // HTTP/1.0 is served by Kestrel and YARP, not by the fast path (docs/operations.md).
        var (id, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", [_backend]);
        var body = new string('x', 3000);
        var (sent, received) = await RawExchangeAsync(port,
            $"POST /echo HTTP/1.0\r\nHost: usage.test\r\nContent-Length: {body.Length}\r\n\r\n{body}");
        Assert.True(sent > 3000 && received > 100, $"sent {sent}, received {received}");

        var record = await WaitForUsageAsync(_tether, id, r => Long(r, "incomingTransfer") >= sent && Long(r, "outgoingTransfer") >= received);
        Assert.Equal(sent, Long(record, "incomingTransfer"));
        Assert.Equal(received, Long(record, "outgoingTransfer"));
    }

    [Fact]
    public async Task Tcp_EchoedLines_TransferIsThePayloadBothWays()
    {
        await using var echo = TcpEchoBackend.Start("t1");
        var (id, port) = await _tether.CreateAsync("TCP", "ROUND_ROBIN", Layer4.Nodes(echo.Port));
        using (var client = await TcpTestClient.ConnectAsync(port))
        {
            Assert.Equal("t1", await client.ReadLineAsync());
            await client.SendAsync("hello usage\n");
            Assert.Equal("hello usage", await client.ReadLineAsync());
        }

        // Sent: "hello usage\n" (12 bytes); received: "t1\n" and the echo (3 + 12 bytes).
        var record = await WaitForUsageAsync(_tether, id, r => Long(r, "incomingTransfer") >= 12 && Long(r, "outgoingTransfer") >= 15);
        Assert.Equal(12, Long(record, "incomingTransfer"));
        Assert.Equal(15, Long(record, "outgoingTransfer"));
    }

    [Fact]
    public async Task Udp_RequestAndReply_TransferIsTheDatagramPayloads()
    {
        await using var echo = UdpEchoBackend.Start("u1");
        var (id, port) = await _tether.CreateAsync("UDP", "ROUND_ROBIN", Layer4.Nodes(echo.Port));
        using var client = new UdpTestClient(port);
        var reply = await client.TryRequestAsync("ping-usage", 5000);
        Assert.NotNull(reply);

        // Sent: 10 bytes; received: "u1|<flow port>|ping-usage".
        var replyLength = Encoding.UTF8.GetByteCount($"u1|{reply.FlowPort}|ping-usage");
        var record = await WaitForUsageAsync(_tether, id, r => Long(r, "incomingTransfer") >= 10 && Long(r, "outgoingTransfer") >= replyLength);
        Assert.Equal(10, Long(record, "incomingTransfer"));
        Assert.Equal(replyLength, Long(record, "outgoingTransfer"));
    }

    [Fact]
    public async Task SslTermination_Http2OverTls_CountsTheTlsBytesAsSsl()
    {
        var (id, _) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", [_backend]);
        // After the first poll, so that turning SSL termination on is an event of its own (before it, the load
        // balancer's first record would start with SSL on).
        Assert.Equal("CREATE_LOADBALANCER", (await WaitForUsageAsync(_tether, id, r => r["eventType"] is not null))["eventType"]!.GetValue<string>());
        var securePort = FreePort.Next();
        using var cert = Certificate();
        var put = await _tether.SendJsonAsync(HttpMethod.Put, $"loadbalancers/{id}/ssltermination",
            $$$"""{"sslTermination":{"certificate":{{{JsonSerializer.Serialize(cert.ExportCertificatePem())}}},"privateKey":{{{JsonSerializer.Serialize(cert.GetRSAPrivateKey()!.ExportPkcs8PrivateKeyPem())}}},"securePort":{{{securePort}}},"enabled":true}}""");
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);

        using var handler = new SocketsHttpHandler
        {
            UseProxy = false,
#pragma warning disable CA5359 // the test's certificate is self-signed on purpose
            SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, _, _, _) => true },
#pragma warning restore CA5359
        };
        using var https = new HttpClient(handler) { DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        using var response = await https.GetAsync($"https://127.0.0.1:{securePort}/bytes?size=20000");
        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Equal(20000, (await response.Content.ReadAsByteArrayAsync()).Length);

        // TLS records carry the handshake and framing besides the 20000 bytes of body: at least that much went out.
        var record = await WaitForUsageAsync(_tether, id, r => Long(r, "outgoingTransferSsl") >= 20000 && Long(r, "incomingTransferSsl") > 0,
            sslMode: "MIXED");
        Assert.Equal(0, Long(record, "incomingTransfer"));
        Assert.Equal(0, Long(record, "outgoingTransfer"));
        Assert.Equal("SSL_MIXED_ON", record["eventType"]!.GetValue<string>());
    }

    /// <summary>Sends <paramref name="request"/> on a new connection and reads until the server closes it.</summary>
    /// <returns>The bytes sent and received on the client's socket.</returns>
    private static async Task<(long Sent, long Received)> RawExchangeAsync(int port, string request)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), timeout.Token);
        var bytes = Encoding.ASCII.GetBytes(request);
        await socket.SendAsync(bytes, SocketFlags.None, timeout.Token);
        var buffer = new byte[64 * 1024];
        long received = 0;
        int n;
        while ((n = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token)) > 0)
        {
            received += n;
        }

        return (bytes.Length, received);
    }

    /// <summary>The load balancer's current-usage records summed (the traffic of one test stays within one or two
    /// records), once <paramref name="done"/> holds for the sum, or the sum after 15 s.</summary>
    private static async Task<JsonObject> WaitForUsageAsync(TetherInstance tether, int id, Func<JsonObject, bool> done, string? sslMode = null)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            var records = (await tether.GetJsonAsync($"loadbalancers/{id}/usage/current"))["loadBalancerUsageRecords"]!.AsArray();
            var sum = new JsonObject();
            foreach (var name in (string[])["incomingTransfer", "outgoingTransfer", "incomingTransferSsl", "outgoingTransferSsl"])
            {
                sum[name] = records.Sum(r => r![name]!.GetValue<long>());
            }

            sum["vipType"] = records.Count > 0 ? records[0]!["vipType"]!.GetValue<string>() : null;
            var events = records.Select(r => r!["eventType"]?.GetValue<string>()).Where(e => e is not null).ToList();
            sum["eventType"] = sslMode is null ? events.FirstOrDefault() : events.LastOrDefault();
            var modeSeen = sslMode is null || records.Any(r => r!["sslMode"]!.GetValue<string>() == sslMode);
            if ((done(sum) && modeSeen) || DateTime.UtcNow > deadline)
            {
                return sum;
            }

            await Task.Delay(200);
        }
    }

    private static long Long(JsonObject record, string name) => record[name]!.GetValue<long>();

    private static X509Certificate2 Certificate()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=usage.test", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
    }
}
