namespace Tether.FunctionalTests.Infrastructure;

/// <summary>A real Tether host and three real Kestrel backends (<c>b1</c>, <c>b2</c>, <c>b3</c>) per test, stopped
/// after it: the shared set-up of the functional test classes.</summary>
public abstract class TetherTestBase : IAsyncLifetime
{
#pragma warning disable CA1051, SA1401 // test fixtures: the tests replace the instance (restart scenarios)
    protected TetherInstance _tether = null!;
    protected TestBackend[] _backends = null!;
#pragma warning restore CA1051, SA1401

    public virtual async Task InitializeAsync()
    {
        _tether = await TetherInstance.StartAsync();
        _backends = [await TestBackend.StartAsync("b1"), await TestBackend.StartAsync("b2"), await TestBackend.StartAsync("b3")];
    }

    public virtual async Task DisposeAsync()
    {
        await _tether.DisposeAsync();
        foreach (var b in _backends)
        {
            await b.DisposeAsync();
        }
    }
}
