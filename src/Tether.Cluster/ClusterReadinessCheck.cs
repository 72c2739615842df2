using Tether.Management.Health;

namespace Tether.Cluster;

/// <summary>
/// Cluster mode's part of <c>GET /healthz</c> (issue 14, item 4): not ready until this instance has applied a
/// configuration read from the cluster store. Once it has, a Redis outage does not make it not ready: the data plane
/// keeps serving its last configuration (item 3), and a check that failed on every instance at once would take the
/// virtual IP away from all of them.
/// </summary>
internal sealed class ClusterReadinessCheck(ClusterConfigurationSync sync) : IReadinessCheck
{
    /// <inheritdoc />
    public string Name => "clusterConfiguration";

    /// <inheritdoc />
    public ValueTask<ReadinessResult> CheckAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult(sync.AppliedRevision >= 0
            ? ReadinessResult.Ready
            : ReadinessResult.NotReady("the configuration has not been read from the cluster store yet"));
}
