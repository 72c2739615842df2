using StackExchange.Redis;

namespace Tether.Cluster;

/// <summary>
/// The connection of one Tether instance to the shared store of a cluster (issue 14): a Redis server, or any server
/// that speaks the commands Redis 7.0 and Garnet both have (strings with TTL, hashes, INCR, MULTI/EXEC, Lua,
/// publish/subscribe). One per process; StackExchange.Redis multiplexes every caller over it and reconnects by itself.
/// </summary>
public sealed class ClusterStoreConnection : IAsyncDisposable
{
    private ClusterStoreConnection(IConnectionMultiplexer multiplexer, string instance, string prefix)
    {
        Multiplexer = multiplexer;
        Instance = instance;
        Prefix = prefix;
    }

    /// <summary>The multiplexed connection.</summary>
    public IConnectionMultiplexer Multiplexer { get; }

    /// <summary>This instance's name (setting <c>Instance</c>, default the host name): labels metrics and logs.</summary>
    public string Instance { get; }

    /// <summary>The prefix of every key Tether writes (default <c>tether:</c>), so one Redis can hold other data.</summary>
    public string Prefix { get; }

    /// <summary>True while the store answers (the multiplexer has a connected server).</summary>
    public bool IsConnected => Multiplexer.IsConnected;

    /// <summary>Connects with a StackExchange.Redis configuration string (for example <c>127.0.0.1:6379</c>).
    /// Does not fail when the server is away: <c>abortConnect=false</c>, so an instance starts while Redis is down
    /// and connects when it comes back.</summary>
    /// <exception cref="ArgumentException">The configuration string does not parse.</exception>
    public static async Task<ClusterStoreConnection> ConnectAsync(string configuration, string instance, string prefix = "tether:")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(configuration);
        var options = ConfigurationOptions.Parse(configuration);
        options.AbortOnConnectFail = false;
        var multiplexer = await ConnectionMultiplexer.ConnectAsync(options).ConfigureAwait(false);
        return new ClusterStoreConnection(multiplexer, instance, prefix);
    }

    /// <summary>The full key for <paramref name="name"/> (the prefix, then the name).</summary>
    public RedisKey Key(string name) => Prefix + name;

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await Multiplexer.DisposeAsync().ConfigureAwait(false);
}
