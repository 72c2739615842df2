namespace Tether.Cluster;

/// <summary>Settings of the stick tables shared through the cluster store (issue 14; docs/cluster.md "Shared stick
/// tables").</summary>
public sealed class StickTableSharingOptions
{
    /// <summary>How long a request whose key the local table misses waits for the shared pin, in milliseconds
    /// (default 30). After it, or at once while the store is
    /// away, the request is placed by the local decision.</summary>
    public int FetchTimeoutMilliseconds { get; set; } = 30;

    /// <summary>The most writes waiting to be sent (default 65,536). A write that finds the queue full is dropped and
    /// counted (<see cref="RedisStickTables.Dropped"/>); a request never waits for room.</summary>
    public int QueueCapacity { get; set; } = 65_536;

    /// <summary>The most writes sent in one pipelined batch (default 512).</summary>
    public int BatchSize { get; set; } = 512;
}
