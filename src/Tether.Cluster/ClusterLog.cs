using Microsoft.Extensions.Logging;

namespace Tether.Cluster;

/// <summary>Log events of cluster mode (ids 7000-7099).</summary>
internal static partial class ClusterLog
{
    [LoggerMessage(7000, LogLevel.Warning, "Cluster store down (instance {Instance}): configuration changes are refused (503) until it is back; load balancers keep serving their last configuration.")]
    public static partial void StoreDown(ILogger logger, string instance);

    [LoggerMessage(7001, LogLevel.Information, "Cluster store up (instance {Instance}): configuration changes are accepted again; resyncing.")]
    public static partial void StoreUp(ILogger logger, string instance);

    [LoggerMessage(7002, LogLevel.Information, "Cluster configuration revision {Revision} applied ({Count} load balancers).")]
    public static partial void Resynced(ILogger logger, long revision, int count);

    [LoggerMessage(7003, LogLevel.Warning, "Cluster configuration resync failed; the next poll tries again.")]
    public static partial void ResyncFailed(ILogger logger, Exception exception);

    [LoggerMessage(7004, LogLevel.Information, "Cookie key {Id} was unknown here and is now read from the cluster store ({Count} keys).")]
    public static partial void CookieKeyFound(ILogger logger, int id, int count);

    [LoggerMessage(7005, LogLevel.Warning, "The cluster store held no configuration (a Redis that lost its data, or a new cluster): filled it with the {Count} load balancers this instance serves.")]
    public static partial void Reseeded(ILogger logger, int count);
}
