using System.Diagnostics.CodeAnalysis;
using System.Net.Security;
using Microsoft.Extensions.Logging;
using Tether.Core.Model;
using Tether.Core.Runtime;

namespace Tether.Proxy.Health;

/// <summary>
/// What every load balancer's <see cref="HealthChecker"/> shares, owned by the data plane: the bound on concurrent
/// probes (<see cref="ProxyOptions.MaxConcurrentHealthProbes"/>), the HTTP client of the HTTP and HTTPS probes, the
/// clock and the logger.
/// </summary>
internal sealed class HealthMonitoring : IDisposable
{
    private readonly SemaphoreSlim _slots;
    private readonly HttpMessageInvoker _http;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public HealthMonitoring(ProxyOptions options, TimeProvider time, ILoggerFactory loggerFactory)
    {
        _slots = new SemaphoreSlim(Math.Max(1, options.MaxConcurrentHealthProbes));
        _time = time;
        _logger = loggerFactory.CreateLogger<HealthChecker>();
        _http = new HttpMessageInvoker(CreateHandler(), disposeHandler: true);
    }

    /// <summary>Starts the checker of <paramref name="monitor"/> over <paramref name="runtime"/>'s nodes.</summary>
    public HealthChecker Start(LoadBalancerRuntime runtime, HealthMonitorConfig monitor) =>
        new(runtime, monitor, CreateProbe(monitor), _slots, _time, _logger);

    /// <summary>The probe of the monitor's type.</summary>
    public IHealthProbe CreateProbe(HealthMonitorConfig monitor) =>
        monitor.IsHttp ? new HttpProbe(_http, monitor) : ConnectProbe.Instance;

    public void Dispose()
    {
        _http.Dispose();
        _slots.Dispose();
    }

    /// <summary>
    /// The handler of HTTP and HTTPS probes: no proxy, no cookies, no redirects, no decompression, no connection
    /// reuse beyond one probe (probes send <c>Connection: close</c>), and any node certificate accepted (node
    /// certificates are usually self-signed; the probe checks that the node answers, not who it is).
    /// </summary>
    [SuppressMessage("Security", "CA5359:Do Not Disable Certificate Validation",
        Justification = "Health probes only: nodes usually have self-signed certificates (see HttpProbe).")]
    private static SocketsHttpHandler CreateHandler() => new()
    {
        UseProxy = false,
        UseCookies = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = System.Net.DecompressionMethods.None,
        PooledConnectionLifetime = TimeSpan.Zero,
        SslOptions = new SslClientAuthenticationOptions
        {
            RemoteCertificateValidationCallback = static (_, _, _, _) => true,
        },
    };
}
