using Tether.Management.Health;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Tether.Management;
using Tether.Management.Storage;

namespace Tether.Cluster;

/// <summary>Registers cluster mode (issue 14). Call before
/// <see cref="ManagementServiceCollectionExtensions.AddTetherManagement"/>, which then uses the shared store.</summary>
public static class ClusterServiceCollectionExtensions
{
    /// <summary>
    /// Registers, as singletons: <paramref name="connection"/> (<see cref="ClusterStoreConnection"/>, disposed with
    /// the container), the <see cref="RedisConfigurationStore"/> as the store where the configuration is
    /// authoritative, and the <see cref="ClusterConfigurationSync"/> (not a hosted service: the host starts it after
    /// the start-up restore, <see cref="StartAsync"/>).
    /// </summary>
    public static IServiceCollection AddTetherCluster(this IServiceCollection services, ClusterStoreConnection connection)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(connection);
        services.AddSingleton(_ => connection);
        services.AddSingleton(sp => new RedisConfigurationStore(sp.GetRequiredService<ClusterStoreConnection>(), sp.GetRequiredService<TetherStore>()));
        services.AddSingleton<IConfigurationStore>(sp => sp.GetRequiredService<RedisConfigurationStore>());
        services.AddSingleton(sp => new ClusterConfigurationSync(sp.GetRequiredService<ClusterStoreConnection>(),
            sp.GetRequiredService<RedisConfigurationStore>(), sp.GetRequiredService<LoadBalancerService>(), sp.GetRequiredService<TetherStore>(),
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<ClusterConfigurationSync>>()));
        services.AddSingleton<IReadinessCheck>(sp => new ClusterReadinessCheck(sp.GetRequiredService<ClusterConfigurationSync>()));
        return services;
    }

    /// <summary>Starts the cluster sync when cluster mode is registered (after the start-up restore); does nothing
    /// otherwise.</summary>
    public static Task StartAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(services);
        return services.GetService<ClusterConfigurationSync>() is { } sync ? sync.StartAsync(cancellationToken) : Task.CompletedTask;
    }
}
