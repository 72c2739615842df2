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

/// <summary>IPV6 virtual IPs over real sockets: the IPv6 public address is <c>::1</c> (TetherInstance), a virtual IP
/// added with <c>POST /virtualips</c> makes the load balancer answer on <c>[::1]:port</c> (HTTP, TLS, TCP, UDP), with
/// the client's IPv6 address in X-Forwarded-For, the access list and SOURCE_IP persistence; removing it closes the
/// port.</summary>
public sealed class VirtualIpTests : TetherTestBase
{
    private const string AddIpv6 = """{"ipVersion":"IPV6","type":"PUBLIC"}""";

    private static HttpClient Ipv6Client(int port) =>
        new(new SocketsHttpHandler { UseCookies = false, UseProxy = false, PooledConnectionLifetime = TimeSpan.Zero })
        {
            BaseAddress = new Uri($"http://[::1]:{port}/"),
            Timeout = TimeSpan.FromSeconds(30),
        };

    private async Task<int> AddIpv6VirtualIpAsync(int id)
    {
        var response = await _tether.SendJsonAsync(HttpMethod.Post, $"loadbalancers/{id}/virtualips", AddIpv6);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"add virtual IP: {(int)response.StatusCode} {text}");
        var vip = JsonNode.Parse(text)!;
        Assert.Equal("::1", vip["address"]!.GetValue<string>());
        return vip["id"]!.GetValue<int>();
    }

    private async Task RemoveVirtualIpAsync(int id, int vipId)
    {
        var response = await _tether.SendJsonAsync(HttpMethod.Delete, $"loadbalancers/{id}/virtualips/{vipId}", null);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    /// <summary>True once <c>[::1]:port</c> refuses connections (the removed listener stops in the background), false
    /// when it still accepts after 10 s.</summary>
    private static async Task<bool> Ipv6PortClosesAsync(int port, SocketType type = SocketType.Stream)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            if (type == SocketType.Dgram)
            {
                // A UDP port is closed when binding it works again.
                try
                {
                    using var probe = new Socket(AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp) { DualMode = false };
                    probe.Bind(new IPEndPoint(IPAddress.IPv6Loopback, port));
                    return true;
                }
                catch (SocketException)
                {
                }
            }
            else
            {
                using var client = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp);
                try
                {
                    await client.ConnectAsync(IPAddress.IPv6Loopback, port);
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
                {
                    return true;
                }
            }

            await Task.Delay(25);
        }

        return false;
    }

    [Fact]
    public async Task Http_Ipv6VirtualIp_ServesOnIpv6WithTheClientAddressInXffAndClosesWhenRemoved()
    {
        var (id, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", [_backends[0]]);
        using var ipv4 = Clients.WithoutCookies(port);

        var vipId = await AddIpv6VirtualIpAsync(id);

        using (var client = Ipv6Client(port))
        {
            var headers = await client.GetStringAsync("/headers");
            Assert.Contains("x-forwarded-for=::1\n", headers, StringComparison.Ordinal);
            Assert.Contains($"host=[::1]:{port}", headers, StringComparison.Ordinal);
        }

        Assert.Equal("b1", await ipv4.GetStringAsync("/"));
        var vips = (await _tether.GetJsonAsync($"loadbalancers/{id}/virtualips"))["virtualIps"]!.AsArray();
        Assert.Equal(["127.0.0.1", "::1"], vips.Select(v => v!["address"]!.GetValue<string>()));

        await RemoveVirtualIpAsync(id, vipId);

        Assert.True(await Ipv6PortClosesAsync(port), $"[::1]:{port} still accepts after the virtual IP was removed");
        Assert.Equal("b1", await ipv4.GetStringAsync("/"));
    }

    [Fact]
    public async Task Tcp_Ipv6VirtualIp_ForwardsBytesAndClosesWhenRemoved()
    {
        await using var echo = TcpEchoBackend.Start("t1");
        var (id, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", [echo.Port], protocol: "TCP");

        var vipId = await AddIpv6VirtualIpAsync(id);

        using (var client = new TcpClient(AddressFamily.InterNetworkV6))
        {
            await client.ConnectAsync(IPAddress.IPv6Loopback, port);
            var stream = client.GetStream();
            using var reader = new StreamReader(stream, Encoding.ASCII);
            Assert.Equal("t1", await reader.ReadLineAsync());
            await stream.WriteAsync("over ipv6\n"u8.ToArray());
            Assert.Equal("over ipv6", await reader.ReadLineAsync());
        }

        await RemoveVirtualIpAsync(id, vipId);

        Assert.True(await Ipv6PortClosesAsync(port), $"[::1]:{port} still accepts after the virtual IP was removed");
    }

    [Fact]
    public async Task Udp_Ipv6VirtualIp_ForwardsDatagramsAndClosesWhenRemoved()
    {
        await using var echo = UdpEchoBackend.Start("u1");
        var (id, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", [echo.Port], protocol: "UDP");

        var vipId = await AddIpv6VirtualIpAsync(id);

        using (var client = new UdpClient(AddressFamily.InterNetworkV6))
        {
            client.Connect(IPAddress.IPv6Loopback, port);
            await client.SendAsync("ping"u8.ToArray());
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            var answer = await client.ReceiveAsync(timeout.Token);
            Assert.Contains("ping", Encoding.ASCII.GetString(answer.Buffer), StringComparison.Ordinal);
        }

        await RemoveVirtualIpAsync(id, vipId);

        Assert.True(await Ipv6PortClosesAsync(port, SocketType.Dgram), $"[::1]:{port}/UDP is still bound after the virtual IP was removed");
    }

    [Fact]
    public async Task SslTermination_Ipv6VirtualIp_ServesTlsOnTheSecurePort()
    {
        var (id, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", [_backends[0]]);
        var securePort = FreePort.Next();
        using var key = RSA.Create(2048);
        using var cert = new CertificateRequest("CN=v6.test", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        var ssl = await _tether.SendJsonAsync(HttpMethod.Put, $"loadbalancers/{id}/ssltermination",
            $$$"""{"sslTermination":{"certificate":{{{JsonSerializer.Serialize(cert.ExportCertificatePem())}}},"privateKey":{{{JsonSerializer.Serialize(key.ExportPkcs8PrivateKeyPem())}}},"securePort":{{{securePort}}},"enabled":true}}""");
        Assert.True(ssl.IsSuccessStatusCode, $"PUT ssltermination: {(int)ssl.StatusCode} {await ssl.Content.ReadAsStringAsync()}");

        await AddIpv6VirtualIpAsync(id);

        using var https = new HttpClient(new SocketsHttpHandler
        {
            UseProxy = false,
#pragma warning disable CA5359 // the test's certificate is self-signed on purpose
            SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, _, _, _) => true },
#pragma warning restore CA5359
        })
        { BaseAddress = new Uri($"https://[::1]:{securePort}/") };
        var headers = await https.GetStringAsync("/headers");
        Assert.Contains("x-forwarded-for=::1\n", headers, StringComparison.Ordinal);
        Assert.Contains("x-forwarded-proto=https", headers, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AccessList_DenyIpv6Loopback_RefusesIpv6ClientsOnly()
    {
        var (id, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", [_backends[0]]);
        await AddIpv6VirtualIpAsync(id);
        var deny = await _tether.SendJsonAsync(HttpMethod.Post, $"loadbalancers/{id}/accesslist",
            """{"accessList":[{"address":"::1/128","type":"DENY"}]}""");
        Assert.Equal(HttpStatusCode.Accepted, deny.StatusCode);

        using var ipv6 = Ipv6Client(port);
        await Assert.ThrowsAsync<HttpRequestException>(() => ipv6.GetStringAsync("/"));
        using var ipv4 = Clients.WithoutCookies(port);
        Assert.Equal("b1", await ipv4.GetStringAsync("/"));
    }

    [Fact]
    public async Task SourceIp_Ipv6Client_StaysOnOneNodeAndIsListedAsAnIpv6Session()
    {
        var (id, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", _backends, """{"persistenceType":"SOURCE_IP"}""");
        await AddIpv6VirtualIpAsync(id);

        using var client = Ipv6Client(port);
        var spread = await Clients.SpreadAsync(client, 9);

        Assert.Single(spread);
        var session = Assert.Single((await _tether.GetJsonAsync($"loadbalancers/{id}/sessionpersistence/sessions"))["sessions"]!.AsArray())!;
        Assert.Contains(":", session["key"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Add_Ipv6PortHeldByAnotherProgram_Returns400AndTheIpv4ListenerStays()
    {
        var (id, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", [_backends[0]]);
        using var squatter = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp) { DualMode = false };
        squatter.Bind(new IPEndPoint(IPAddress.IPv6Loopback, port));
        squatter.Listen();

        var response = await _tether.SendJsonAsync(HttpMethod.Post, $"loadbalancers/{id}/virtualips", AddIpv6);

        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("address already in use", text, StringComparison.Ordinal);
        Assert.Single((await _tether.GetJsonAsync($"loadbalancers/{id}/virtualips"))["virtualIps"]!.AsArray());
        using var ipv4 = Clients.WithoutCookies(port);
        Assert.Equal("b1", await ipv4.GetStringAsync("/"));
    }
}
