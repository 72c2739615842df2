using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Tether.Core.SessionPersistence;

namespace Tether.Cluster;

/// <summary>Registration of the shared stick tables (issue 14).</summary>
public static class StickTablesServiceCollectionExtensions
{
    /// <summary>
    /// Shares every load balancer's stick table through the cluster store: registers <see cref="RedisStickTables"/> as
    /// the <see cref="IStickTableReplication"/> the data plane gives each runtime. Needs a
    /// <see cref="ClusterStoreConnection"/> singleton (cluster mode, <c>tether serve --redis</c>) and a
    /// <see cref="TimeProvider"/>; call it only in cluster mode (without it every stick table stays local).
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Changes the defaults of <see cref="StickTableSharingOptions"/>.</param>
    public static IServiceCollection AddClusterStickTables(this IServiceCollection services, Action<StickTableSharingOptions>? configure = null)
    {
        var options = new StickTableSharingOptions();
        configure?.Invoke(options);
        services.TryAddSingleton(options);
        services.TryAddSingleton(sp => new RedisStickTables(
            sp.GetRequiredService<ClusterStoreConnection>(),
            sp.GetRequiredService<StickTableSharingOptions>(),
            sp.GetService<TimeProvider>() ?? TimeProvider.System,
            sp.GetRequiredService<ILogger<RedisStickTables>>()));
        services.TryAddSingleton<IStickTableReplication>(sp => sp.GetRequiredService<RedisStickTables>());
        return services;
    }
}
