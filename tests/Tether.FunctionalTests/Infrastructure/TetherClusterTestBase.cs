namespace Tether.FunctionalTests.Infrastructure;

/// <summary>The set-up of the cluster functional tests (issue 14): a real <c>redis-server</c> (<see cref="Redis"/>,
/// installed when missing, see <see cref="RedisServer"/>), three real Kestrel backends (<c>b1</c>, <c>b2</c>,
/// <c>b3</c>) and the <c>tether serve</c> processes a test starts with <see cref="StartInstanceAsync"/>, each on its
/// own loopback address; all of them stopped after the test.</summary>
public abstract class TetherClusterTestBase : IAsyncLifetime
{
    private readonly List<TetherProcess> _instances = [];

    protected RedisServer Redis { get; private set; } = null!;

    protected TestBackend[] Backends { get; private set; } = null!;

    /// <summary>The instances started so far, in order.</summary>
    protected IReadOnlyList<TetherProcess> Instances => _instances;

    public virtual async Task InitializeAsync()
    {
        Redis = await RedisServer.StartAsync();
        Backends = [await TestBackend.StartAsync("b1"), await TestBackend.StartAsync("b2"), await TestBackend.StartAsync("b3")];
    }

    /// <summary>Starts <c>tether serve --redis REDIS --instance NAME</c> on <paramref name="address"/> (127.0.0.2,
    /// 127.0.0.3...), with <paramref name="extraArguments"/> after them. The first instance's admin token (tokens are
    /// shared through Redis) is the API token of every later one.</summary>
    protected async Task<TetherProcess> StartInstanceAsync(string address, string name, params string[] extraArguments)
    {
        var instance = await TetherProcess.StartAsync(address, ["--redis", Redis.Connection, "--instance", name, .. extraArguments],
            token: _instances.Count == 0 ? null : _instances[0].Token);
        _instances.Add(instance);
        return instance;
    }

    public virtual async Task DisposeAsync()
    {
        foreach (var instance in _instances)
        {
            await instance.DisposeAsync();
        }

        foreach (var b in Backends ?? [])
        {
            await b.DisposeAsync();
        }

        if (Redis is not null)
        {
            await Redis.DisposeAsync();
        }
    }
}
