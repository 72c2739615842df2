namespace Tether.FunctionalTests.Infrastructure;

/// <summary>One real Tether shared by the tests of a class (each test creates its own load balancers and backends).</summary>
public sealed class TetherFixture : IAsyncLifetime
{
    public TetherInstance Tether { get; private set; } = null!;

    public async Task InitializeAsync() => Tether = await TetherInstance.StartAsync();

    public async Task DisposeAsync() => await Tether.DisposeAsync();
}
