using System.Collections.Concurrent;
using Tether.Core;
using Tether.Core.Model;
using Tether.Core.Runtime;
using Tether.Core.SessionPersistence;

namespace Tether.Management.Tests.TestSupport;

/// <summary>A <see cref="RecordingDataPlane"/> that also keeps a real <see cref="LoadBalancerRuntime"/> per load
/// balancer, so that tests can set node status as health monitoring would and read it back through the API.</summary>
internal sealed class RuntimeDataPlane : RecordingDataPlane, IRuntimeRegistry
{
    private readonly ConcurrentDictionary<int, LoadBalancerRuntime> _runtimes = new();

    public override async Task ApplyAsync(LoadBalancerConfig config, CancellationToken cancellationToken)
    {
        await base.ApplyAsync(config, cancellationToken);
        _runtimes.AddOrUpdate(config.Id,
            _ => new LoadBalancerRuntime(config, new CookieKeyRing([new CookieKey(1, new byte[32])]), TimeProvider.System, new SeededRandomSource(1)),
            (_, runtime) =>
            {
                runtime.Apply(config);
                return runtime;
            });
    }

    public LoadBalancerRuntime? FindRuntime(int loadBalancerId) =>
        Live.ContainsKey(loadBalancerId) && _runtimes.TryGetValue(loadBalancerId, out var runtime) ? runtime : null;
}
