using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Tether.FunctionalTests.Infrastructure;

namespace Tether.FunctionalTests;

/// <summary>SSL termination over real sockets (issue 5; seed 000): one HTTP load balancer serving HTTPS on its secure
/// port and HTTP on its port, one persistence cookie across both, X-Forwarded-Proto, secureTrafficOnly,
/// httpsRedirect, certificate replacement without rebinding, a TLS port that cannot be bound, and certificate mappings
/// chosen by the client's SNI host name (issue 12).</summary>
public sealed class SslTerminationTests : TetherTestBase
{
    [Fact]
    public async Task HttpCookie_ClientMovesBetweenHttpsAndHttp_KeepsOneNode()
    {
        var (id, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", _backends, """{"persistenceType":"HTTP_COOKIE"}""");
        var securePort = FreePort.Next();
        using var cert = Certificate("CN=one.test");
        Assert.Equal(HttpStatusCode.OK, (await PutSslAsync(id, cert, securePort)).StatusCode);
        var jar = new CookieContainer();
        using var https = Client($"https://127.0.0.1:{securePort}/", jar, out var seen);
        using var http = Client($"http://127.0.0.1:{port}/", jar, out _);

        var first = await https.GetStringAsync("/");
        var answers = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            answers.Add(await http.GetStringAsync("/"));
            answers.Add(await https.GetStringAsync("/"));
        }

        Assert.All(answers, a => Assert.Equal(first, a));
        Assert.Equal(cert.Thumbprint, seen.Value!.Thumbprint);
        Assert.Contains("x-forwarded-proto=https\n", await https.GetStringAsync("/headers"));
        Assert.Contains("x-forwarded-proto=http\n", await http.GetStringAsync("/headers"));
        Assert.Contains($"x-forwarded-port={securePort}\n", await https.GetStringAsync("/headers"));
    }

    [Fact]
    public async Task SecureTrafficOnly_PlainPortClosesAndHttpsRedirect_Answers301()
    {
        var (id, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", _backends);
        var securePort = FreePort.Next();
        using var cert = Certificate("CN=two.test");
        await PutSslAsync(id, cert, securePort, ",\"secureTrafficOnly\":true");
        await Task.Delay(300);
        using var plain = Clients.WithoutCookies(port);
        await Assert.ThrowsAsync<HttpRequestException>(() => plain.GetStringAsync("/"));

        var redirect = await _tether.SendJsonAsync(HttpMethod.Put, $"loadbalancers/{id}", """{"loadBalancer":{"httpsRedirect":true}}""");
        Assert.Equal(HttpStatusCode.Accepted, redirect.StatusCode);
        using var noRedirects = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false });
        using var response = await noRedirects.GetAsync($"http://127.0.0.1:{port}/some/path?x=1");

        Assert.Equal(HttpStatusCode.MovedPermanently, response.StatusCode);
        Assert.Equal($"https://127.0.0.1:{securePort}/some/path?x=1", response.Headers.Location!.ToString());
    }

    [Fact]
    public async Task NewCertificate_IsServedWithoutRebinding()
    {
        var (id, _) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", _backends);
        var securePort = FreePort.Next();
        using var first = Certificate("CN=first.test");
        using var second = Certificate("CN=second.test");
        await PutSslAsync(id, first, securePort);
        using (var before = Client($"https://127.0.0.1:{securePort}/", null, out var seenBefore))
        {
            await before.GetStringAsync("/");
            Assert.Equal(first.Thumbprint, seenBefore.Value!.Thumbprint);
        }

        Assert.Equal(HttpStatusCode.OK, (await PutSslAsync(id, second, securePort)).StatusCode);

        using var after = Client($"https://127.0.0.1:{securePort}/", null, out var seenAfter);
        await after.GetStringAsync("/");
        Assert.Equal(second.Thumbprint, seenAfter.Value!.Thumbprint);
    }

    [Fact]
    public async Task SecurePortInUse_Answers400AndChangesNothing()
    {
        var (id, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", _backends);
        using var blocker = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        blocker.Start();
        var taken = ((IPEndPoint)blocker.LocalEndpoint).Port;
        using var cert = Certificate("CN=three.test");

        var put = await PutSslAsync(id, cert, taken);

        Assert.Equal(HttpStatusCode.BadRequest, put.StatusCode);
        Assert.Contains("address already in use", await put.Content.ReadAsStringAsync());
        Assert.Equal("{\"sslTermination\":{}}", (await _tether.GetJsonAsync($"loadbalancers/{id}/ssltermination")).ToJsonString());
        using var plain = Clients.WithoutCookies(port);
        Assert.Equal(HttpStatusCode.OK, (await plain.GetAsync("/")).StatusCode);
    }

    [Fact]
    public async Task CertificateMappings_ClientSniName_PicksTheMappedCertificateElseTheOwnOne()
    {
        var (id, _) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", _backends[..1]);
        var securePort = FreePort.Next();
        using var a = Certificate("CN=a.own.test");
        using var b = Certificate("CN=one.example.test");
        using var c = Certificate("CN=two.example.test");
        Assert.Equal(HttpStatusCode.OK, (await PutSslAsync(id, a, securePort)).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await AddMappingAsync(id, "one.example.test", b)).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await AddMappingAsync(id, "two.example.test", c)).StatusCode);
        var before = _backends[0].Requests;

        var cases = new (string? Sni, X509Certificate2 Expected)[]
        {
            ("one.example.test", b), ("TWO.example.test", c), (null, a), ("three.example.test", a),
        };
        foreach (var (sni, expected) in cases)
        {
            var (presented, answer) = await GetOverTlsAsync(securePort, sni);
            Assert.True(expected.Thumbprint == presented.Thumbprint, $"SNI {sni ?? "(none)"}: got {presented.Subject}, expected {expected.Subject}");
            Assert.StartsWith("HTTP/1.1 200", answer, StringComparison.Ordinal);
            Assert.Contains("X-Backend: b1", answer, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("x-forwarded-proto=https", answer, StringComparison.Ordinal);
        }

        Assert.Equal(before + cases.Length, _backends[0].Requests);
    }

    /// <summary>Rackspace's stats have an SSL counterpart of each connection field; Tether counts the traffic of the SSL
    /// termination listener there and only there, on the fast path (HTTP/1.1) and on the Kestrel path (HTTP/2 by
    /// ALPN) alike, while plain traffic keeps to the plain fields.</summary>
    [Theory]
    [InlineData("1.1")]
    [InlineData("2.0")]
    public async Task Stats_TrafficThroughTls_CountsInSslFieldsAndPlainTrafficInPlainOnes(string version)
    {
        var dead = await TestBackend.StartAsync("dead");
        await dead.DisposeAsync();
        var (id, port) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", [_backends[0], dead], extra: ""","timeout":30""");
        var securePort = FreePort.Next();
        using var cert = Certificate("CN=stats.test");
        Assert.Equal(HttpStatusCode.OK, (await PutSslAsync(id, cert, securePort)).StatusCode);
        using var https = Client($"https://127.0.0.1:{securePort}/", null, out _);
        https.DefaultRequestVersion = Version.Parse(version);
        https.DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact;

        for (var i = 0; i < 4; i++)
        {
            using var response = await https.GetAsync("/");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode); // a refused connect is retried on the live node
            Assert.Equal(Version.Parse(version), response.Version);
        }

        // No step depends on the machine's speed: each phase starts with nothing in flight (a client has an answer a
        // moment before Tether counts its end), the node holds the three concurrent requests until all three are
        // there, and the load balancer's timeout is 1 s only for the slow requests.
        await _tether.StatsWhenIdleAsync(id);
        var concurrent = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => https.GetAsync("/together?n=3")));
        foreach (var response in concurrent)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            response.Dispose();
        }

        await _tether.StatsWhenIdleAsync(id);
        Assert.Equal(HttpStatusCode.Accepted, (await _tether.SendJsonAsync(HttpMethod.Put, $"loadbalancers/{id}", """{"timeout":1}""")).StatusCode);
        using (var slow = await https.GetAsync("/slow?ms=2500"))
        {
            Assert.Equal(HttpStatusCode.GatewayTimeout, slow.StatusCode);
        }

        var stats = await _tether.StatsWhenIdleAsync(id);
        Assert.True(stats["connectErrorSsl"]!.GetValue<long>() >= 1, stats.ToJsonString());
        Assert.True(stats["connectFailureSsl"]!.GetValue<long>() >= 1, stats.ToJsonString());
        Assert.Equal(1, stats["dataTimedOutSsl"]!.GetValue<long>());
        Assert.Equal(3, stats["maxConnSsl"]!.GetValue<int>());
        Assert.Equal(0, stats["currentConnSsl"]!.GetValue<long>());
        Assert.Equal(0, stats["connectTimeOutSsl"]!.GetValue<long>());
        foreach (var plain in new[] { "connectError", "connectFailure", "dataTimedOut", "maxConn", "connectTimeOut", "currentConn" })
        {
            Assert.True(stats[plain]!.GetValue<long>() == 0, $"{plain} counted TLS traffic: {stats.ToJsonString()}");
        }

        using var http = Clients.WithoutCookies(port);
        using (var slow = await http.GetAsync("/slow?ms=2500"))
        {
            Assert.Equal(HttpStatusCode.GatewayTimeout, slow.StatusCode);
        }

        var after = await _tether.StatsWhenIdleAsync(id);
        Assert.Equal(1, after["dataTimedOut"]!.GetValue<long>());
        Assert.Equal(1, after["maxConn"]!.GetValue<long>());
        Assert.Equal(1, after["dataTimedOutSsl"]!.GetValue<long>());
        Assert.Equal(stats["connectErrorSsl"]!.GetValue<long>(), after["connectErrorSsl"]!.GetValue<long>());
        Assert.Equal(stats["maxConnSsl"]!.GetValue<long>(), after["maxConnSsl"]!.GetValue<long>());
    }

    [Fact]
    public async Task Stats_IdleTlsClientConnection_CountsKeepAliveTimedOutSsl()
    {
        await _tether.DisposeAsync();
        _tether = await TetherInstance.StartAsync(proxyOptions: new Tether.Proxy.ProxyOptions { KeepAliveTimeoutSeconds = 1, ShutdownTimeoutSeconds = 5 });
        var (id, _) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", _backends[..1]);
        var securePort = FreePort.Next();
        using var cert = Certificate("CN=idle.test");
        Assert.Equal(HttpStatusCode.OK, (await PutSslAsync(id, cert, securePort)).StatusCode);
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, securePort);
        await using var tls = new SslStream(tcp.GetStream());
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "idle.test",
#pragma warning disable CA5359 // the test's certificate is self-signed on purpose
            RemoteCertificateValidationCallback = (_, _, _, _) => true,
#pragma warning restore CA5359
            ApplicationProtocols = [SslApplicationProtocol.Http11],
        });
        await tls.WriteAsync("GET / HTTP/1.1\r\nHost: idle.test\r\n\r\n"u8.ToArray());

        // Read the answer and then on until the server closes the idle connection (read returns 0, or the reset).
        var buffer = new byte[4096];
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        var received = new System.Text.StringBuilder();
        try
        {
            int read;
            while ((read = await tls.ReadAsync(buffer, cancel.Token)) > 0)
            {
                received.Append(System.Text.Encoding.ASCII.GetString(buffer, 0, read));
            }
        }
        catch (IOException e) when (e.InnerException is System.Net.Sockets.SocketException)
        {
            // Closed by the server with a reset: closed all the same.
        }

        Assert.StartsWith("HTTP/1.1 200", received.ToString(), StringComparison.Ordinal);
        var stats = await _tether.GetJsonAsync($"loadbalancers/{id}/stats");
        Assert.Equal(1, stats["keepAliveTimedOutSsl"]!.GetValue<long>());
        Assert.Equal(0, stats["keepAliveTimedOut"]!.GetValue<long>());
    }

    /// <summary>One HTTP/1.1 request over an SslStream that sends <paramref name="sni"/> as its SNI host name (none
    /// when null: the target is the IP address); the certificate the server presented and the raw answer.</summary>
    private static async Task<(X509Certificate2 Presented, string Answer)> GetOverTlsAsync(int port, string? sni)
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        X509Certificate2? presented = null;
        await using var tls = new SslStream(tcp.GetStream());
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = sni ?? "127.0.0.1",
#pragma warning disable CA5359 // the test's certificates are self-signed on purpose; the callback records what it saw
            RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            {
                presented = certificate is null ? null : new X509Certificate2(certificate);
                return true;
            },
#pragma warning restore CA5359
        });
        var request = System.Text.Encoding.ASCII.GetBytes($"GET /headers HTTP/1.1\r\nHost: {sni ?? "127.0.0.1"}\r\nConnection: close\r\n\r\n");
        await tls.WriteAsync(request);
        using var reader = new StreamReader(tls);
        var answer = await reader.ReadToEndAsync();
        return (presented!, answer);
    }

    private Task<HttpResponseMessage> AddMappingAsync(int id, string hostName, X509Certificate2 cert)
    {
        var body = new System.Text.Json.Nodes.JsonObject
        {
            ["certificateMapping"] = new System.Text.Json.Nodes.JsonObject
            {
                ["hostName"] = hostName,
                ["certificate"] = cert.ExportCertificatePem(),
                ["privateKey"] = cert.GetRSAPrivateKey()!.ExportPkcs8PrivateKeyPem(),
            },
        };
        return _tether.SendJsonAsync(HttpMethod.Post, $"loadbalancers/{id}/ssltermination/certificatemappings", body.ToJsonString());
    }

    private Task<HttpResponseMessage> PutSslAsync(int id, X509Certificate2 cert, int securePort, string extra = "")
    {
        var certificate = JsonSerializer.Serialize(cert.ExportCertificatePem());
        var key = JsonSerializer.Serialize(cert.GetRSAPrivateKey()!.ExportPkcs8PrivateKeyPem());
        return _tether.SendJsonAsync(HttpMethod.Put, $"loadbalancers/{id}/ssltermination",
            $$$"""{"sslTermination":{"certificate":{{{certificate}}},"privateKey":{{{key}}},"securePort":{{{securePort}}},"enabled":true{{{extra}}}}}""");
    }

    private static X509Certificate2 Certificate(string subject)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        return cert;
    }

    /// <summary>A client that trusts whatever certificate the server shows (self-signed in the test) and records it.</summary>
    private static HttpClient Client(string baseAddress, CookieContainer? jar, out StrongBox<X509Certificate2?> seen)
    {
        var box = new StrongBox<X509Certificate2?>();
        seen = box;
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            UseCookies = jar is not null,
            CookieContainer = jar ?? new CookieContainer(),
            SslOptions = new SslClientAuthenticationOptions
            {
#pragma warning disable CA5359 // the test's certificate is self-signed on purpose; the callback records what it saw
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                {
                    box.Value = certificate is null ? null : new X509Certificate2(certificate);
                    return true;
                },
#pragma warning restore CA5359
            },
        };
        return new HttpClient(handler) { BaseAddress = new Uri(baseAddress) };
    }

    private sealed class StrongBox<T>
    {
        public T? Value { get; set; }
    }
}
