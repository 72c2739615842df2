using Tether.Cluster;
using Tether.Core;
using Tether.Core.LoadBalancing;
using Tether.Core.SessionPersistence;
using Tether.Management;
using Tether.Management.Panel;
using Tether.Management.Storage;
using Tether.Proxy;
using Yarp.ReverseProxy.Forwarder;

namespace Tether;

/// <summary>
/// The composition root of <c>tether serve</c>: one process holding the management API and the data plane
/// (docs/architecture.md). The functional tests build the same host.
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
            PublicAddressV6 = settings.PublicAddressV6,
            PrivateAddress = settings.PrivateAddress,
            MaskClientAddresses = configuration.GetValue("Management:MaskClientAddresses", true),
            MetricsRequireToken = configuration.GetValue("Management:MetricsRequireToken", false),
            MetricsUrl = configuration["Management:MetricsUrl"],
            RateLimits = configuration["Management:RateLimits"],
            UsagePollSeconds = configuration.GetValue("Management:UsagePollSeconds", 60),
            UsageRetentionDays = configuration.GetValue("Management:UsageRetentionDays", 90),
        };
        configuration.GetSection("Management:Tokens").Bind(managementOptions.Tokens);
        configuration.GetSection("Management:AllowedDomains").Bind(managementOptions.AllowedDomains);
        configuration.GetSection("Management:SourceAddresses").Bind(managementOptions.SourceAddresses);

        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(proxyOptions);
        builder.Services.AddHttpForwarder();
        var cluster = string.IsNullOrWhiteSpace(settings.Redis) ? null
            : Cluster.ClusterStoreConnection.ConnectAsync(settings.Redis, InstanceName(settings)).GetAwaiter().GetResult();
        if (cluster is not null)
        {
            // Cluster mode (issue 14, docs/cluster.md): the configuration is authoritative in Redis.
            builder.Services.AddTetherCluster(cluster);
            // Learned pins (SOURCE_IP, APP_COOKIE, HEADER) and HTTP_COOKIE unpin marks shared too (docs/cluster.md).
            // The wait of a local miss for the shared pin is a setting: a store far away or a loaded host needs more.
            builder.Services.AddClusterStickTables(o => o.FetchTimeoutMilliseconds =
                configuration.GetValue("Cluster:StickFetchTimeoutMilliseconds", o.FetchTimeoutMilliseconds));
        }

        builder.Services.AddTetherManagement(managementOptions);
        builder.WebHost.UseUrls(MetricsEndpointExtensions.ListenUrls(managementOptions));
        builder.Services.AddSingleton(sp =>
        {
            var store = sp.GetRequiredService<TetherStore>();
            var shared = sp.GetService<Cluster.RedisConfigurationStore>();
            Func<IReadOnlyList<CookieKey>> keySource = shared is null ? store.GetOrCreateCookieKeys : shared.GetOrCreateCookieKeys;
            var keys = keySource();
            return new DataPlane(
                sp.GetRequiredService<IHttpForwarder>(),
                new CookieKeyRing(keys.Select(k => new CookieKey(k.Id, k.Secret))),
                proxyOptions,
                sp.GetRequiredService<TimeProvider>(),
                SharedRandomSource.Instance,
                sp.GetRequiredService<ILoggerFactory>(),
                store,
                keySource,
                sp.GetService<IStickTableReplication>(),
                // Cluster mode: a cookie signed with a key rotated through another instance re-reads the key set.
                rereadUnknownKeys: shared is not null,
                // Cluster mode: every series names its instance (issue 14), as HAProxy peers each export their own.
                metricLabels: cluster is null ? null : new Dictionary<string, string> { ["instance"] = cluster.Instance });
        });
        builder.Services.AddSingleton<IDataPlane>(sp => cluster is null ? sp.GetRequiredService<DataPlane>()
            : new InstanceAddressDataPlane(sp.GetRequiredService<DataPlane>(), managementOptions.PublicAddress, managementOptions.PublicAddressV6, managementOptions.PrivateAddress));
        builder.Services.AddSingleton<IRuntimeRegistry>(sp => sp.GetRequiredService<DataPlane>());
        configure?.Invoke(builder);

        var app = builder.Build();
        app.MapTetherManagementApi();
        // The web control panel (issue 15): embedded static files at /panel/ that call the API above.
        app.MapTetherPanel();
        // Without a token by default, as Prometheus scrapes; Management:MetricsRequireToken and Management:MetricsUrl
        // change that (docs/operations.md "Metrics").
        var registry = app.Services.GetRequiredService<DataPlane>().Metrics.Registry;
        app.MapTetherMetrics(registry.CollectAndExportAsTextAsync);
        if (cluster is not null)
        {
            Cluster.ClusterMetrics.Register(registry, app.Services.GetRequiredService<Cluster.ClusterConfigurationSync>());
        }

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
        await ClusterServiceCollectionExtensions.StartAsync(app.Services, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The instance name of cluster mode: the <c>Instance</c> setting, else the host name.</summary>
    public static string InstanceName(TetherSettings settings) =>
        string.IsNullOrWhiteSpace(settings?.Instance) ? Environment.MachineName : settings.Instance;

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

    /// <summary>The flag of each setting <c>tether serve</c> takes on its command line, by setting key.</summary>
    public static readonly IReadOnlyDictionary<string, string> Flags = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["DataDirectory"] = "--data-dir",
        ["Management:Url"] = "--listen",
        ["PublicAddress"] = "--public-address",
        ["PrivateAddress"] = "--private-address",
        ["PublicAddressV6"] = "--public-address-v6",
        ["Redis"] = "--redis",
        ["Instance"] = "--instance",
    };

    /// <summary>Reads settings from the JSON file, <c>TETHER_</c> environment variables and flags (later ones win),
    /// checking every key and value first: nothing is bound or created.</summary>
    /// <exception cref="SettingsException">The JSON file is missing (when named), unreadable or not valid JSON (path,
    /// line, column, reason); a key is unknown (with the closest known name); a value has the wrong type or is out of
    /// range (the setting, the value, what is allowed). The message holds every reason, one per line.</exception>
    /// <param name="configFile">The JSON file, or <c>null</c> for <c>tether.json</c> when present.</param>
    /// <param name="overrides">Flag values by setting key (null entries are skipped).</param>
    /// <param name="environment">The environment variables to read (null: the process's); only those starting with
    /// <c>TETHER_</c> are used.</param>
    public static TetherSettings LoadSettings(string? configFile, IDictionary<string, string?> overrides, IReadOnlyDictionary<string, string>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(overrides);
        var errors = new List<string>();
        var reported = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var values = new List<KeyValuePair<string, string?>>();
        var path = Path.GetFullPath(configFile ?? "tether.json");
        if (configFile is not null && !File.Exists(path))
        {
            throw new SettingsException($"--config {configFile}: no such file ({path})");
        }

        if (File.Exists(path))
        {
            foreach (var (key, value) in SettingsSchema.ReadJsonFile(path))
            {
                SettingsSchema.Check(key, value, key, path, errors, reported);
                values.Add(new(key, value));
            }
        }

        foreach (var (key, value, variable) in SettingsSchema.ReadEnvironment(environment))
        {
            SettingsSchema.Check(key, value, variable, "environment", errors, reported);
            values.Add(new(key, value));
        }

        foreach (var (key, value) in overrides)
        {
            if (value is not null)
            {
                SettingsSchema.Check(key, value, Flags.TryGetValue(key, out var flag) ? flag : key, "command line", errors, reported);
                values.Add(new(key, value));
            }
        }

        if (errors.Count > 0)
        {
            throw new SettingsException(errors);
        }

        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(values.Where(v => v.Value is not null))
            .Build();
        var settings = new TetherSettings();
        configuration.Bind(settings);
        var url = configuration["Management:Url"];
        if (!string.IsNullOrEmpty(url))
        {
            settings.ManagementUrl = url;
        }

        var proxy = configuration.GetSection("Proxy").Get<ProxyOptions>() ?? new ProxyOptions();
        errors.AddRange(proxy.Validate());
        var tokens = configuration.GetSection("Management:Tokens").GetChildren().ToList();
        foreach (var token in tokens)
        {
            if (string.IsNullOrEmpty(token["Token"]) || string.IsNullOrEmpty(token["AccountId"]))
            {
                errors.Add($"Management:Tokens:{token.Key}: needs both Token (non-empty) and AccountId (1 or more)");
            }
        }

        var metricsUrl = configuration["Management:MetricsUrl"];
        if (!string.IsNullOrEmpty(metricsUrl) && new Uri(metricsUrl).Port == new Uri(settings.ManagementUrl).Port)
        {
            errors.Add($"Management:MetricsUrl: \"{metricsUrl}\" uses the management API's port ({settings.ManagementUrl}); give another port, for example http://127.0.0.1:9100");
        }

        foreach (var (key, max, unit) in new[] { ("Management:UsagePollSeconds", 3600, "seconds"), ("Management:UsageRetentionDays", 3650, "days") })
        {
            if (configuration.GetValue<int?>(key) is int value && value > max)
            {
                errors.Add($"{key}: is {value}; it must be from 1 to {max} {unit}");
            }
        }

        var twice = tokens.Select(t => t["Token"]).Where(t => !string.IsNullOrEmpty(t)).GroupBy(t => t, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (twice is not null)
        {
            errors.Add("Management:Tokens: a token is given twice; each token must be different");
        }

        if (errors.Count > 0)
        {
            throw new SettingsException(errors);
        }

        settings.Configuration = configuration;
        return settings;
    }
}
