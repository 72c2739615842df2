using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Tether.FunctionalTests.Infrastructure;

namespace Tether.FunctionalTests.Tls;

/// <summary>How an SSL termination listener ends a connection (issue 16): every close Tether starts sends a TLS
/// <c>close_notify</c> alert before the TCP FIN (RFC 8446 section 6.1: "Each party MUST send a close_notify alert before
/// closing its write side of the connection"), so that a client can tell a complete answer from a truncated one, and an
/// OpenSSL 3 client keeps the session and resumes it on its next connection. The client is Python's <c>ssl</c> module
/// (OpenSSL) with <c>suppress_ragged_eofs=False</c>: a close without the alert raises <c>SSLEOFError</c> there.</summary>
public sealed class TlsCloseTests : TetherTestBase
{
    private const string Client = """
        import socket, ssl, sys
        port, request, rounds = int(sys.argv[1]), sys.argv[2].encode().decode('unicode_escape').encode('latin-1'), int(sys.argv[3])
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        session = None
        for i in range(rounds):
            s = ctx.wrap_socket(socket.create_connection(('127.0.0.1', port)), suppress_ragged_eofs=False, session=session)
            s.sendall(request)
            data = b''
            end = 'CLOSE_NOTIFY'
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
            except ssl.SSLEOFError:
                end = 'RAGGED_EOF'
            except ConnectionResetError:
                end = 'RESET'
            print(end, 'reused' if s.session_reused else 'new', len(data), data.split(b'\r\n', 1)[0].decode('latin-1'))
            session = s.session
            s.close()
        """;

    [Theory]
    [InlineData("GET / HTTP/1.1\\r\\nHost: t\\r\\nConnection: close\\r\\n\\r\\n", "HTTP/1.1 200")] // the fast path's last answer
    [InlineData("GET / HTTP/1.0\\r\\nHost: t\\r\\n\\r\\n", "HTTP/1.1 200")] // HTTP/1.0: handed to Kestrel and YARP
    [InlineData("GET / HTTP/1.1\\r\\nHost: t\\r\\nContent-Length: 1\\r\\nContent-Length: 2\\r\\n\\r\\n", "HTTP/1.1 400")] // refused head
    public async Task Close_ConnectionEndedByTether_SendsCloseNotifyBeforeFin(string request, string statusLine)
    {
        var securePort = await SslLoadBalancerAsync();

        var lines = await RunClientAsync(securePort, request, rounds: 3);

        Assert.Equal(3, lines.Length);
        Assert.All(lines, line =>
        {
            Assert.StartsWith("CLOSE_NOTIFY ", line, StringComparison.Ordinal);
            Assert.Contains(" " + statusLine, line, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task Close_OpenSslClientOffersItsSessionBack_SessionIsResumed()
    {
        var securePort = await SslLoadBalancerAsync();

        var lines = await RunClientAsync(securePort, "GET / HTTP/1.1\\r\\nHost: t\\r\\nConnection: close\\r\\n\\r\\n", rounds: 4);

        // The first connection makes a full handshake; each next one offers the ticket of the one before.
        Assert.Contains(" new ", lines[0], StringComparison.Ordinal);
        Assert.All(lines.Skip(1), line => Assert.StartsWith("CLOSE_NOTIFY reused ", line, StringComparison.Ordinal));
    }

    private async Task<int> SslLoadBalancerAsync()
    {
        var (id, _) = await _tether.CreateLoadBalancerAsync("ROUND_ROBIN", _backends);
        var securePort = FreePort.Next();
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=close.test", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        var certificate = JsonSerializer.Serialize(cert.ExportCertificatePem());
        var privateKey = JsonSerializer.Serialize(key.ExportPkcs8PrivateKeyPem());
        var answer = await _tether.SendJsonAsync(HttpMethod.Put, $"loadbalancers/{id}/ssltermination",
            $$$"""{"sslTermination":{"certificate":{{{certificate}}},"privateKey":{{{privateKey}}},"securePort":{{{securePort}}},"enabled":true}}""");
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        return securePort;
    }

    private static async Task<string[]> RunClientAsync(int port, string request, int rounds)
    {
        var start = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in (string[])["-c", Client, port.ToString(System.Globalization.CultureInfo.InvariantCulture), request, rounds.ToString(System.Globalization.CultureInfo.InvariantCulture)])
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"python3 client failed: {await error}");
        return (await output).Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }
}
