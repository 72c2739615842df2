using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Tether.Proxy;

namespace Tether.FunctionalTests.Infrastructure;

/// <summary>The real Tether host (<see cref="TetherHost"/>, as <c>tether serve</c> builds it) over a data directory,
/// with its management API on an ephemeral port, and an API client holding the admin token.</summary>
public sealed class TetherInstance : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TetherInstance(WebApplication app, string dataDirectory, HttpClient api)
    {
        _app = app;
        DataDirectory = dataDirectory;
        Api = api;
    }

    public string DataDirectory { get; }

    /// <summary>Base address <c>http://127.0.0.1:PORT/v1.0/1/</c>, with <c>X-Auth-Token</c> set.</summary>
    public HttpClient Api { get; }

    public IServiceProvider Services => _app.Services;

    /// <param name="dataDirectory">The data directory, or null for a new one under the temporary directory.</param>
    /// <param name="proxyOptions">Data plane settings, or null for the defaults with a 5 s shutdown.</param>
    /// <param name="time">The time provider, or null for the system's.</param>
    /// <param name="logs">A logger provider that also receives the host's log lines, or null.</param>
    /// <param name="configuration">Settings as <c>tether.json</c> keys (<c>Management:MetricsUrl</c>...), or null.</param>
    /// <param name="services">Adds or replaces services (a shared stick-table copy ...), or null.</param>
    public static async Task<TetherInstance> StartAsync(string? dataDirectory = null, ProxyOptions? proxyOptions = null, TimeProvider? time = null,
        ILoggerProvider? logs = null, IReadOnlyDictionary<string, string?>? configuration = null, Action<IServiceCollection>? services = null)
    {
        dataDirectory ??= Path.Combine(Path.GetTempPath(), "tether-ft-" + Guid.NewGuid().ToString("N"));
        var settings = new TetherSettings
        {
            DataDirectory = dataDirectory,
            ManagementUrl = "http://127.0.0.1:0",
            PublicAddress = "127.0.0.1",
            PublicAddressV6 = "::1",
            PrivateAddress = "127.0.0.1",
            Configuration = configuration is null ? null : new ConfigurationBuilder().AddInMemoryCollection(configuration).Build(),
        };
        var app = TetherHost.Build(settings, proxyOptions ?? new ProxyOptions { ShutdownTimeoutSeconds = 5 }, b =>
        {
            b.Logging.SetMinimumLevel(LogLevel.Warning);
            if (logs is not null)
            {
                b.Logging.AddProvider(logs);
            }
            if (time is not null)
            {
                b.Services.AddSingleton(time);
            }

            services?.Invoke(b.Services);
        });
        await TetherHost.StartAsync(app);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var token = (await File.ReadAllTextAsync(Path.Combine(dataDirectory, "admin-token"))).Trim();
        var api = new HttpClient { BaseAddress = new Uri(address.TrimEnd('/') + "/v1.0/1/") };
        api.DefaultRequestHeaders.Add("X-Auth-Token", token);
        return new TetherInstance(app, dataDirectory, api);
    }

    /// <summary>Creates an HTTP load balancer on 127.0.0.1 (SERVICENET) over <paramref name="backends"/>.</summary>
    /// <returns>The load balancer id and its port.</returns>
    public Task<(int Id, int Port)> CreateLoadBalancerAsync(string algorithm, IEnumerable<TestBackend> backends, string? persistenceJson = null, string protocol = "HTTP", int? port = null, string? extra = null) =>
        CreateLoadBalancerAsync(algorithm, backends.Select(b => b.Port), persistenceJson, protocol, port, extra);

    /// <summary>Creates an HTTP load balancer on 127.0.0.1 (SERVICENET) over nodes on 127.0.0.1 at <paramref name="nodePorts"/>.</summary>
    public Task<(int Id, int Port)> CreateLoadBalancerAsync(string algorithm, IEnumerable<int> nodePorts, string? persistenceJson = null, string protocol = "HTTP", int? port = null, string? extra = null) =>
        TetherApi.CreateLoadBalancerAsync(Api, algorithm, nodePorts, persistenceJson, protocol, port, extra);

    /// <summary>The lines of load balancer <paramref name="id"/>'s connection log (<c>logs/lb-{id}.log</c>) once it has
    /// at least <paramref name="count"/> (the writer flushes in the background), or what it has after 10 s.</summary>
    public async Task<string[]> WaitForConnectionLogLinesAsync(int id, int count)
    {
        var path = Path.Combine(DataDirectory, "logs", $"lb-{id}.log");
        var deadline = DateTime.UtcNow.AddSeconds(10);
        string[] lines = [];
        while (DateTime.UtcNow < deadline)
        {
            if (File.Exists(path))
            {
                using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                using var reader = new StreamReader(stream);
                lines = (await reader.ReadToEndAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
                if (lines.Length >= count)
                {
                    return lines;
                }
            }

            await Task.Delay(25);
        }

        return lines;
    }

    public Task<JsonNode> GetJsonAsync(string path) => TetherApi.GetJsonAsync(Api, path);

    public Task<HttpResponseMessage> SendJsonAsync(HttpMethod method, string path, string? json) => TetherApi.SendJsonAsync(Api, method, path, json);

    public async ValueTask DisposeAsync()
    {
        Api.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
