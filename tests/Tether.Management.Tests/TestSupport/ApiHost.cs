using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Tether.Core;
using Tether.Management.Storage;

namespace Tether.Management.Tests.TestSupport;

/// <summary>
/// The management API hosted for real: Kestrel on 127.0.0.1:0, a data directory, a recording data plane and a fake
/// clock. Several hosts may share one data directory one after the other (restart tests).
/// </summary>
internal sealed class ApiHost : IAsyncDisposable
{
    public static readonly DateTimeOffset StartTime = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static int s_nextAccount = 100;
    private static int s_nextPort = 20000;

    private readonly WebApplication _app;
    private readonly HttpClient _http;

    private ApiHost(WebApplication app, string dataDirectory, RecordingDataPlane dataPlane, FakeTimeProvider time,
        CapturingLoggerProvider logs, Uri baseAddress)
    {
        _app = app;
        DataDirectory = dataDirectory;
        DataPlane = dataPlane;
        Time = time;
        Logs = logs;
        BaseAddress = baseAddress;
        _http = new HttpClient { BaseAddress = baseAddress };
    }

    public string DataDirectory { get; }

    public RecordingDataPlane DataPlane { get; }

    public FakeTimeProvider Time { get; }

    public CapturingLoggerProvider Logs { get; }

    public Uri BaseAddress { get; }

    public IServiceProvider Services => _app.Services;

    public TetherStore Store => _app.Services.GetRequiredService<TetherStore>();

    public LoadBalancerService Service => _app.Services.GetRequiredService<LoadBalancerService>();

    /// <summary>A port no other test of this process uses (load balancer listeners collide host-wide).</summary>
    public static int NextPort() => Interlocked.Increment(ref s_nextPort);

    /// <summary>Starts a host over <paramref name="dataDirectory"/>; restores stored load balancers first (unless
    /// <paramref name="restore"/> is false); <paramref name="services"/> adds registrations last.</summary>
    public static async Task<ApiHost> StartAsync(string dataDirectory, Action<ManagementOptions>? configure = null,
        RecordingDataPlane? dataPlane = null, bool restore = true, Action<IServiceCollection>? services = null)
    {
        var options = new ManagementOptions { DataDirectory = dataDirectory, PrivateAddress = "127.0.0.2" };
        configure?.Invoke(options);
        dataPlane ??= new RecordingDataPlane();
        var time = new FakeTimeProvider(StartTime);
        var logs = new CapturingLoggerProvider();

        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(logs);
        builder.Services.AddSingleton<IDataPlane>(dataPlane);
        if (dataPlane is IRuntimeRegistry registry)
        {
            builder.Services.AddSingleton(registry);
        }

        builder.Services.AddSingleton<TimeProvider>(time);
        builder.Services.AddTetherManagement(options);
        services?.Invoke(builder.Services);
        var app = builder.Build();
        app.MapTetherManagementApi();
        if (restore)
        {
            await app.Services.GetRequiredService<LoadBalancerService>().RestoreAllAsync();
        }

        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!
            .Addresses.First();
        return new ApiHost(app, dataDirectory, dataPlane, time, logs, new Uri(address));
    }

    /// <summary>A client for a fresh account with its own stored token.</summary>
    public ApiClient NewAccount()
    {
        var account = Interlocked.Increment(ref s_nextAccount);
        var token = "token-" + Guid.NewGuid().ToString("N");
        Store.AddToken(token, account, StartTime);
        return Client(account, token);
    }

    /// <summary>A client for <paramref name="account"/> sending <paramref name="token"/> (null: no header).</summary>
    public ApiClient Client(int account, string? token) => new(_http, account, token);

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>An HTTP response: status and parsed JSON body (null when empty).</summary>
internal sealed record ApiResponse(int Status, JsonNode? Body, string Text)
{
    /// <summary>The validation messages of a 400 body.</summary>
    public IReadOnlyList<string> Messages =>
        Body?["validationErrors"]?["messages"]?.AsArray().Select(m => m!.GetValue<string>()).ToList() ?? [];

    public override string ToString() => $"{Status} {Text}";
}

/// <summary>Calls the API as one account; paths are relative to <c>/v1.0/{account}</c>.</summary>
internal sealed class ApiClient(HttpClient http, int account, string? token)
{
    public int Account => account;

    public string? Token => token;

    public Task<ApiResponse> GetAsync(string path) => SendAsync(HttpMethod.Get, path, null);

    public Task<ApiResponse> PostAsync(string path, string json) => SendAsync(HttpMethod.Post, path, json);

    public Task<ApiResponse> PutAsync(string path, string json) => SendAsync(HttpMethod.Put, path, json);

    public Task<ApiResponse> DeleteAsync(string path) => SendAsync(HttpMethod.Delete, path, null);

    /// <summary>Sends <paramref name="body"/> byte for byte (invalid UTF-8 included) as <c>application/json</c>.</summary>
    public async Task<ApiResponse> SendBytesAsync(HttpMethod method, string path, byte[] body)
    {
        using var request = new HttpRequestMessage(method, $"/v1.0/{account}{path}");
        if (token is not null)
        {
            request.Headers.Add("X-Auth-Token", token);
        }

        request.Content = new ByteArrayContent(body);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        JsonNode? parsed = null;
        try
        {
            parsed = text.Length == 0 ? null : JsonNode.Parse(text);
        }
        catch (System.Text.Json.JsonException)
        {
            // Left null: the caller asserts on the body.
        }

        return new ApiResponse((int)response.StatusCode, parsed, text);
    }

    public async Task<ApiResponse> SendAsync(HttpMethod method, string path, string? json)
    {
        using var request = new HttpRequestMessage(method, $"/v1.0/{account}{path}");
        if (token is not null)
        {
            request.Headers.Add("X-Auth-Token", token);
        }

        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return new ApiResponse((int)response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text), text);
    }

    /// <summary>Creates an HTTP load balancer with one node on a fresh port and returns its id.</summary>
    public async Task<int> CreateLoadBalancerAsync(string protocol = "HTTP", int? port = null, string? extra = null,
        string nodes = """[{"address":"10.0.0.1","port":80,"condition":"ENABLED"}]""")
    {
        var response = await PostAsync("/loadbalancers", LoadBalancerBody(protocol, port ?? ApiHost.NextPort(), extra, nodes));
        Assert.True(response.Status == 202, response.ToString());
        return response.Body!["loadBalancer"]!["id"]!.GetValue<int>();
    }

    public static string LoadBalancerBody(string protocol, int port, string? extra = null,
        string nodes = """[{"address":"10.0.0.1","port":80,"condition":"ENABLED"}]""") =>
        "{\"loadBalancer\":{\"name\":\"lb\",\"protocol\":\"" + protocol + "\",\"port\":" + port
        + ",\"virtualIps\":[{\"type\":\"PUBLIC\"}],\"nodes\":" + nodes + (extra is null ? "" : "," + extra) + "}}";
}

/// <summary>One host per test class, over its own temp directory.</summary>
public sealed class ApiHostFixture : IAsyncLifetime, IDisposable
{
    private readonly TempDirectory _directory = new();

    internal ApiHost Host { get; private set; } = null!;

    public async Task InitializeAsync() => Host = await ApiHost.StartAsync(_directory.Path);

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        _directory.Dispose();
    }

    public void Dispose() => _directory.Dispose();
}
