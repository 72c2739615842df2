using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Prometheus;
using Tether.Core;
using Tether.Core.LoadBalancing;
using Tether.Core.SessionPersistence;
using Tether.Management;
using Tether.Management.Storage;
using Tether.Proxy;
using Yarp.ReverseProxy.Forwarder;

namespace Tether;

/// <summary>
/// The composition root of <c>tether serve</c>: one process holding the management API and the data plane
/// (DESIGN.md section 1). The functional tests build the same host.
/// </summary>
public static class TetherHost
{
    /// <summary>Builds the host: configuration, the store, the data plane, the API. Nothing listens until the
    /// returned application is started; <see cref="StartAsync"/> does that and restores every stored load balancer.</summary>
    /// <param name="settings">Settings (flags already applied).</param>
    /// <param name="proxyOptions">Data plane settings, or <c>null</c> for the configured ones.</param>
    /// <param name="configure">Optional last-minute changes to the configuration (tests).</param>
    public static WebApplication Build(TetherSettings settings, ProxyOptions? proxyOptions = null, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
            o.UseUtcTimestamp = true;
        });
        // Per-request framework logs (hosting diagnostics) stay off the hot path; Tether's own events keep Information.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Yarp", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information);
        var configuration = settings.Configuration ?? builder.Configuration;
        proxyOptions ??= configuration.GetSection("Proxy").Get<ProxyOptions>() ?? new ProxyOptions();

        // The store creates the data directory with mode 0700 (it holds tokens and cookie keys).
        var dataDirectory = Path.GetFullPath(settings.DataDirectory);
        proxyOptions.DataDirectory ??= dataDirectory;
        var managementOptions = new ManagementOptions
        {
            DataDirectory = dataDirectory,
            ListenUrl = settings.ManagementUrl,
            PublicAddress = settings.PublicAddress,
            PrivateAddress = settings.PrivateAddress,
            MaskClientAddresses = configuration.GetValue("Management:MaskClientAddresses", true),
            MetricsRequireToken = configuration.GetValue("Management:MetricsRequireToken", false),
            MetricsUrl = configuration["Management:MetricsUrl"],
        };
        configuration.GetSection("Management:Tokens").Bind(managementOptions.Tokens);

        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(proxyOptions);
        builder.Services.AddHttpForwarder();
        builder.Services.AddTetherManagement(managementOptions);
        builder.WebHost.UseUrls(MetricsEndpointExtensions.ListenUrls(managementOptions));
        builder.Services.AddSingleton(sp =>
        {
            var store = sp.GetRequiredService<TetherStore>();
            var keys = store.GetOrCreateCookieKeys();
            return new DataPlane(
                sp.GetRequiredService<IHttpForwarder>(),
                new CookieKeyRing(keys.Select(k => new CookieKey(k.Id, k.Secret))),
                proxyOptions,
                sp.GetRequiredService<TimeProvider>(),
                SharedRandomSource.Instance,
                sp.GetRequiredService<ILoggerFactory>(),
                store,
                store.GetOrCreateCookieKeys);
        });
        builder.Services.AddSingleton<IDataPlane>(sp => sp.GetRequiredService<DataPlane>());
        builder.Services.AddSingleton<IRuntimeRegistry>(sp => sp.GetRequiredService<DataPlane>());
        configure?.Invoke(builder);

        var app = builder.Build();
        app.MapTetherManagementApi();
        // Without a token by default, as Prometheus scrapes; Management:MetricsRequireToken and Management:MetricsUrl
        // change that (docs/operations.md "Metrics").
        var registry = app.Services.GetRequiredService<DataPlane>().Metrics.Registry;
        app.MapTetherMetrics(registry.CollectAndExportAsTextAsync);
        return app;
    }

    /// <summary>Starts the management API, then restores every stored load balancer into the data plane (API calls
    /// made meanwhile wait for the restore). Binding the API first means a second instance started on the same data
    /// directory and port fails before it touches any load balancer.</summary>
    public static async Task StartAsync(WebApplication app, CancellationToken cancellationToken = default)
    {
        Proxy.Limits.ProcessLimits.Apply(app.Services.GetRequiredService<ProxyOptions>(), app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Tether.Proxy"));
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        await app.Services.GetRequiredService<LoadBalancerService>().RestoreAllAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Turns on the runtime's inline socket completions when <see cref="ProxyOptions.InlineScheduling"/> is on
    /// and the operator did not set <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS</c> either way. Must run before
    /// the process opens its first socket (the runtime reads the variable once).</summary>
    public static void PrepareRuntime(TetherSettings settings)
    {
        const string Variable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";
        var proxy = settings.Configuration?.GetSection("Proxy").Get<ProxyOptions>() ?? new ProxyOptions();
        if (proxy.InlineScheduling && Environment.GetEnvironmentVariable(Variable) is null)
        {
            Environment.SetEnvironmentVariable(Variable, "1");
        }
    }

    /// <summary>Reads settings from the JSON file, <c>TETHER_</c> environment variables and flags.</summary>
    /// <exception cref="ArgumentException">The management URL or a <c>Proxy</c> setting is invalid (the message names
    /// it and its allowed range).</exception>
    /// <param name="configFile">The JSON file, or <c>null</c> for <c>tether.json</c> when present.</param>
    /// <param name="overrides">Flag values (null entries are skipped).</param>
    public static TetherSettings LoadSettings(string? configFile, IDictionary<string, string?> overrides)
    {
        var configuration = new ConfigurationBuilder()
            .AddJsonFile(Path.GetFullPath(configFile ?? "tether.json"), optional: configFile is null)
            .AddEnvironmentVariables("TETHER_")
            .AddInMemoryCollection(overrides.Where(o => o.Value is not null))
            .Build();
        var settings = new TetherSettings();
        configuration.Bind(settings);
        var url = configuration["Management:Url"];
        if (!string.IsNullOrEmpty(url))
        {
            settings.ManagementUrl = url;
        }

        if (!Uri.TryCreate(settings.ManagementUrl, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp
            || uri.Port is < 0 or > 65535 || uri.AbsolutePath != "/" || string.IsNullOrEmpty(uri.Host))
        {
            throw new ArgumentException($"The management URL '{settings.ManagementUrl}' is not valid: give http://ADDRESS:PORT, for example http://127.0.0.1:8080.");
        }

        ProxyOptions proxy;
        try
        {
            proxy = configuration.GetSection("Proxy").Get<ProxyOptions>() ?? new ProxyOptions();
        }
        catch (InvalidOperationException e)
        {
            throw new ArgumentException($"The Proxy settings are not valid: {e.InnerException?.Message ?? e.Message}", e);
        }

        var errors = proxy.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("The Proxy settings are not valid: " + string.Join(" ", errors));
        }

        settings.Configuration = configuration;
        return settings;
    }
}
