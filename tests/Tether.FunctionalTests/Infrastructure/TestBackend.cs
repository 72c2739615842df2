using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Tether.FunctionalTests.Infrastructure;

/// <summary>A real Kestrel backend on 127.0.0.1 with an ephemeral port. It answers with its name (body and
/// <c>X-Backend</c>), echoes forwarding headers on <c>/headers</c>, waits on <c>/slow?ms=N</c>, and answers health
/// probes on <c>/health</c> with <see cref="HealthStatus"/> and <see cref="HealthBody"/> (not counted in
/// <see cref="Requests"/>).</summary>
public sealed class TestBackend : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _requests;
    private int _healthChecks;
    private volatile int _healthStatus = 200;
    private volatile string _healthBody = "OK";
    private volatile string? _lastHealthHost;

    private TestBackend(string name, WebApplication app)
    {
        Name = name;
        _app = app;
    }

    public string Name { get; }

    public int Port { get; private set; }

    public int Requests => Volatile.Read(ref _requests);

    /// <summary>The status code <c>/health</c> answers (default 200).</summary>
    public int HealthStatus
    {
        get => _healthStatus;
        set => _healthStatus = value;
    }

    /// <summary>The body <c>/health</c> answers (default <c>OK</c>).</summary>
    public string HealthBody
    {
        get => _healthBody;
        set => _healthBody = value;
    }

    /// <summary>How many requests <c>/health</c> received.</summary>
    public int HealthChecks => Volatile.Read(ref _healthChecks);

    /// <summary>The Host header of the last <c>/health</c> request.</summary>
    public string? LastHealthHost => _lastHealthHost;

    public static async Task<TestBackend> StartAsync(string name, int port = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        TestBackend? self = null;
        app.Use((context, next) =>
        {
            if (context.Request.Path == "/health")
            {
                Interlocked.Increment(ref self!._healthChecks);
                self._lastHealthHost = context.Request.Headers.Host;
                context.Response.StatusCode = self.HealthStatus;
                return context.Response.WriteAsync(self.HealthBody);
            }

            Interlocked.Increment(ref self!._requests);
            context.Response.Headers["X-Backend"] = name;
            return next(context);
        });
        app.MapGet("/headers", (HttpContext c) => string.Join('\n',
            $"x-forwarded-for={c.Request.Headers["X-Forwarded-For"]}",
            $"x-forwarded-proto={c.Request.Headers["X-Forwarded-Proto"]}",
            $"x-forwarded-port={c.Request.Headers["X-Forwarded-Port"]}",
            $"host={c.Request.Headers.Host}",
            $"cookie={c.Request.Headers.Cookie}"));
        app.MapGet("/slow", async (int ms, CancellationToken ct) =>
        {
            await Task.Delay(ms, ct);
            return name;
        });
        app.MapFallback(() => name);
        self = new TestBackend(name, app);
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

/// <summary>Ports for load balancers (the API needs a concrete port).</summary>
public static class FreePort
{
    private static int _next = 20000 + (Environment.ProcessId % 200) * 100;

    /// <summary>A port that was free a moment ago on 127.0.0.1.</summary>
    public static int Next()
    {
        while (true)
        {
            var port = Interlocked.Increment(ref _next);
            try
            {
                using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, port);
                listener.Start();
                listener.Stop();
                return port;
            }
            catch (System.Net.Sockets.SocketException)
            {
            }
        }
    }
}
