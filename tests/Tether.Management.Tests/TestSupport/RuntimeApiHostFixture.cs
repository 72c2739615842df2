namespace Tether.Management.Tests.TestSupport;

/// <summary>One host per test class over a <see cref="RuntimeDataPlane"/> (a real runtime per load balancer), so
/// that the routes that need a runtime (the persistence API: sessions, lookup, move, stats) are mapped.</summary>
public sealed class RuntimeApiHostFixture : IAsyncLifetime, IDisposable
{
    private readonly TempDirectory _directory = new();

    internal RuntimeDataPlane DataPlane { get; } = new();

    internal ApiHost Host { get; private set; } = null!;

    public async Task InitializeAsync() => Host = await ApiHost.StartAsync(_directory.Path, dataPlane: DataPlane);

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        _directory.Dispose();
    }

    public void Dispose() => _directory.Dispose();
}
