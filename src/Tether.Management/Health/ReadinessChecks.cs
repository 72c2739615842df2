using Microsoft.Extensions.Hosting;
using Tether.Core.Model;
using Tether.Management.Storage;

namespace Tether.Management.Health;

/// <summary>Ready when the stored load balancers have been restored into the data plane (their listeners bound), no
/// load balancer is left in ERROR (a listener that could not be bound), and the process is not stopping (after
/// SIGINT/SIGTERM the data plane drains: an upstream health check must stop sending here).</summary>
internal sealed class DataPlaneReadiness(LoadBalancerService service, IHostApplicationLifetime? lifetime) : IReadinessCheck
{
    public string Name => "dataPlane";

    public ValueTask<ReadinessResult> CheckAsync(CancellationToken cancellationToken)
    {
        if (lifetime?.ApplicationStopping.IsCancellationRequested == true)
        {
            return ValueTask.FromResult(ReadinessResult.NotReady("stopping: the listeners are closing and open connections draining"));
        }

        if (!service.Restored)
        {
            return ValueTask.FromResult(ReadinessResult.NotReady("starting: the stored load balancers are not restored yet"));
        }

        List<int>? failed = null;
        foreach (var config in service.All)
        {
            if (config.Status == LoadBalancerStatus.Error)
            {
                (failed ??= []).Add(config.Id);
            }
        }

        return ValueTask.FromResult(failed is null
            ? ReadinessResult.Ready
            : ReadinessResult.NotReady($"load balancer{(failed.Count == 1 ? "" : "s")} {string.Join(", ", failed)} in ERROR: {(failed.Count == 1 ? "its listener is" : "their listeners are")} not bound"));
    }
}

/// <summary>Ready when the SQLite store answers a read.</summary>
internal sealed class StoreReadiness(TetherStore store) : IReadinessCheck
{
    public string Name => "store";

    public ValueTask<ReadinessResult> CheckAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult(store.IsReadable() ? ReadinessResult.Ready : ReadinessResult.NotReady("the store cannot be read"));
}
