using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Tether.Cluster.Tests;

/// <summary>One in-process Tether instance in cluster mode (the host <c>tether serve --redis</c> builds), with its
/// own data directory, its management API on a free loopback port and its virtual IPs on its own loopback address.</summary>
internal sealed class ClusterHost : IAsyncDisposable
{
    private readonly TempDirectory _data = new();

    private ClusterHost(WebApplication app, TempDirectory data, string address)
    {
        App = app;
        _data = data;
        Address = address;
    }

    public WebApplication App { get; }

    /// <summary>The address its PUBLIC virtual IPs bind.</summary>
    public string Address { get; }

    public string DataDirectory => _data.Path;

    public HttpClient Api { get; private set; } = null!;

    public static async Task<ClusterHost> StartAsync(string redis, string instance, string address)
    {
        var data = new TempDirectory();
        var settings = new TetherSettings
        {
            DataDirectory = data.Path,
            ManagementUrl = "http://127.0.0.1:0",
            PublicAddress = address,
            PrivateAddress = address,
            PublicAddressV6 = "::1",
            Redis = redis,
            Instance = instance,
        };
        var app = TetherHost.Build(settings);
        await TetherHost.StartAsync(app);
        var host = new ClusterHost(app, data, address);
        var url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        host.Api = new HttpClient { BaseAddress = new Uri(url.TrimEnd('/') + "/v1.0/1/"), Timeout = TimeSpan.FromSeconds(30) };
        return host;
    }

    /// <summary>Uses <paramref name="token"/> for every API call.</summary>
    public void UseToken(string token) => Api.DefaultRequestHeaders.Add("X-Auth-Token", token);

    public async Task<(HttpStatusCode Status, JsonNode? Body)> SendAsync(HttpMethod method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        using var response = await Api.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    public async ValueTask DisposeAsync()
    {
        Api?.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        _data.Dispose();
    }
}

/// <summary>A small HTTP backend on a free loopback port that answers its name.</summary>
internal sealed class NamedBackend : IAsyncDisposable
{
    private readonly WebApplication _app;

    private NamedBackend(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    public int Port { get; }

    public static async Task<NamedBackend> StartAsync(string name)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.MapGet("/", () => Results.Text(name));
        await app.StartAsync();
        var port = new Uri(app.Urls.First()).Port;
        return new NamedBackend(app, port);
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}

internal static class Ports
{
    /// <summary>A TCP port free on every loopback address (bound on 0.0.0.0 and released).</summary>
    public static int Free()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Any, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
