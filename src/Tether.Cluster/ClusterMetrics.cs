using Prometheus;

namespace Tether.Cluster;

/// <summary>The metrics of cluster mode (issue 14), in the data plane's registry (served at <c>/metrics</c>).</summary>
public static class ClusterMetrics
{
    /// <summary>Adds <c>tether_cluster_store_up</c> (gauge: 1 while the cluster store answers, 0 while it is down and
    /// configuration changes are refused) and <c>tether_cluster_config_revision</c> (gauge: the configuration revision
    /// applied by this instance; -1 before the first), both read at scrape time.</summary>
    public static void Register(CollectorRegistry registry, ClusterConfigurationSync sync)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(sync);
        var factory = Metrics.WithCustomRegistry(registry);
        var up = factory.CreateGauge("tether_cluster_store_up", "1 while the cluster store (Redis) answers, 0 while it is down (configuration changes refused).");
        var revision = factory.CreateGauge("tether_cluster_config_revision", "The cluster configuration revision applied by this instance (-1 before the first).");
        registry.AddBeforeCollectCallback(() =>
        {
            up.Set(sync.StoreUp ? 1 : 0);
            revision.Set(sync.AppliedRevision);
        });
    }
}
