using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Tether.FunctionalTests.Infrastructure;

/// <summary>Tether's demo backend (in-memory login sessions) on an ephemeral port.</summary>
public sealed class DemoBackendInstance : IAsyncDisposable
{
    private readonly WebApplication _app;

    private DemoBackendInstance(WebApplication app, string name, int port)
    {
        _app = app;
        Name = name;
        Port = port;
    }

    public string Name { get; }

    public int Port { get; }

    public static async Task<DemoBackendInstance> StartAsync(string name)
    {
        var app = DemoBackend.Build("http://127.0.0.1:0", name);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new DemoBackendInstance(app, name, new Uri(address).Port);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
