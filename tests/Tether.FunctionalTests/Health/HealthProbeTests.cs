using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Tether.Core.LoadBalancing;
using Tether.Core.Model;
using Tether.FunctionalTests.Infrastructure;
using Tether.Proxy;
using Tether.Proxy.Health;

namespace Tether.FunctionalTests.Health;

/// <summary>The CONNECT, HTTP and HTTPS probes against real sockets, one probe at a time.</summary>
public sealed class HealthProbeTests : IDisposable
{
    private readonly HealthMonitoring _monitoring = new(new ProxyOptions(), TimeProvider.System, NullLoggerFactory.Instance);

    public void Dispose() => _monitoring.Dispose();

    [Fact]
    public async Task Connect_ListeningNode_Passes()
    {
        await using var backend = await TestBackend.StartAsync("a");

        var result = await Probe(Monitor(HealthMonitorType.Connect), backend.Port);

        Assert.Equal(ProbeResult.Pass(), result);
    }

    [Fact]
    public async Task Connect_ClosedPort_FailsWithConnectionRefused()
    {
        var result = await Probe(Monitor(HealthMonitorType.Connect), FreePort.Next());

        Assert.Equal(ProbeResult.Fail("Connection refused"), result);
    }

    [Fact]
    public async Task Http_BodyRegex_MatchesOnlyTheFirst2048Bytes()
    {
        await using var backend = await TestBackend.StartAsync("a");
        backend.HealthBody = new string('x', 2044) + "ALIVE";
        var monitor = Monitor(HealthMonitorType.Http, "/health") with { BodyRegex = "ALIVE" };

        var cut = await Probe(monitor, backend.Port);
        backend.HealthBody = new string('x', 2043) + "ALIVE";
        var fits = await Probe(monitor, backend.Port);

        Assert.Equal(ProbeResult.Fail("Response body did not match bodyRegex 'ALIVE' within the first 2048 bytes"), cut);
        Assert.Equal(ProbeResult.Pass(), fits);
    }

    [Fact]
    public async Task Http_DefaultHostHeader_IsTheNodeAddress()
    {
        await using var backend = await TestBackend.StartAsync("a");

        Assert.Equal(ProbeResult.Pass(), await Probe(Monitor(HealthMonitorType.Http, "/health"), backend.Port));
        Assert.Equal($"127.0.0.1:{backend.Port}", backend.LastHealthHost);
    }

    [Fact]
    public async Task Http_RedirectIsNotFollowed_AndJudgedByItsStatus()
    {
        await using var backend = await TestBackend.StartAsync("a");
        backend.HealthStatus = 302;

        Assert.Equal(ProbeResult.Pass(), await Probe(Monitor(HealthMonitorType.Http, "/health"), backend.Port));
        Assert.Equal(
            ProbeResult.Fail("Status code 302 did not match statusRegex '^2'"),
            await Probe(Monitor(HealthMonitorType.Http, "/health") with { StatusRegex = "^2" }, backend.Port));
        Assert.Equal(2, backend.HealthChecks);
    }

    [Fact]
    public async Task Https_SelfSignedNodeCertificate_IsAccepted()
    {
        await using var node = await HttpsNode.StartAsync();

        var result = await Probe(Monitor(HealthMonitorType.Https, "/health") with { BodyRegex = "^secure$", HostHeader = "node.internal" }, node.Port);

        Assert.Equal(ProbeResult.Pass(), result);
        Assert.Equal("node.internal", node.LastHost);
    }

    [Fact]
    public async Task Http_AgainstHttpsNode_Fails()
    {
        await using var node = await HttpsNode.StartAsync();

        var result = await Probe(Monitor(HealthMonitorType.Http, "/health"), node.Port);

        Assert.False(result.Healthy);
    }

    private static HealthMonitorConfig Monitor(HealthMonitorType type, string? path = null) => new()
    {
        Type = type,
        DelaySeconds = 1,
        TimeoutSeconds = 2,
        AttemptsBeforeDeactivation = 1,
        Path = path,
    };

    private async Task<ProbeResult> Probe(HealthMonitorConfig monitor, int port)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        var node = new NodeState(new NodeConfig { Id = 1, Address = "127.0.0.1", Port = port }, new NodeCounters());
        return await _monitoring.CreateProbe(monitor).ProbeAsync(node, timeout.Token);
    }

    /// <summary>A Kestrel node serving HTTPS with a fresh self-signed certificate; <c>/health</c> answers
    /// <c>secure</c>.</summary>
    private sealed class HttpsNode : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private HttpsNode(WebApplication app) => _app = app;

        public int Port { get; private set; }

        public string? LastHost { get; private set; }

        public static async Task<HttpsNode> StartAsync()
        {
            using var key = RSA.Create(2048);
            var request = new CertificateRequest("CN=tether-test-node", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            using var ephemeral = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
            var certificate = X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null);

            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseKestrelHttpsConfiguration();
            builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(certificate)));
            var app = builder.Build();
            var self = new HttpsNode(app);
            app.MapGet("/health", (Microsoft.AspNetCore.Http.HttpContext c) =>
            {
                self.LastHost = c.Request.Host.Value;
                return "secure";
            });
            await app.StartAsync();
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            self.Port = new Uri(address).Port;
            return self;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
