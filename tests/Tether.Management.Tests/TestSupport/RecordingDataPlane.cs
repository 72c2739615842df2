using System.Collections.Concurrent;
using Tether.Core;
using Tether.Core.Model;

namespace Tether.Management.Tests.TestSupport;

/// <summary>An <see cref="IDataPlane"/> that records what it is told and can be told to fail a port's bind.</summary>
internal class RecordingDataPlane : IDataPlane
{
    private readonly object _lock = new();
    private readonly List<LoadBalancerConfig> _applied = [];
    private readonly List<int> _removed = [];
    private readonly Dictionary<int, LoadBalancerConfig> _live = [];

    /// <summary>Ports whose bind fails with <see cref="ListenerBindException"/>.</summary>
    public ConcurrentDictionary<int, bool> FailingPorts { get; } = new();

    public IReadOnlyList<LoadBalancerConfig> Applied
    {
        get { lock (_lock) { return [.. _applied]; } }
    }

    public IReadOnlyList<int> Removed
    {
        get { lock (_lock) { return [.. _removed]; } }
    }

    /// <summary>What is live now, by load balancer id.</summary>
    public IReadOnlyDictionary<int, LoadBalancerConfig> Live
    {
        get { lock (_lock) { return new Dictionary<int, LoadBalancerConfig>(_live); } }
    }

    /// <summary>Virtual IP addresses and ports (<c>"::|8080"</c>) whose bind fails with <see cref="ListenerBindException"/>.</summary>
    public ConcurrentDictionary<string, bool> FailingEndPoints { get; } = new();

    public void FailBind(int port) => FailingPorts[port] = true;

    /// <summary>Makes the bind of <paramref name="address"/> at <paramref name="port"/> fail.</summary>
    public void FailBind(string address, int port) => FailingEndPoints[address + "|" + port] = true;

    public virtual Task ApplyAsync(LoadBalancerConfig config, CancellationToken cancellationToken)
    {
        if (FailingPorts.ContainsKey(config.Port))
        {
            throw new ListenerBindException($"Cannot listen on {config.VirtualIps[0].Address}:{config.Port}: address already in use.");
        }

        foreach (var vip in config.VirtualIps)
        {
            if (FailingEndPoints.ContainsKey(vip.Address + "|" + config.Port))
            {
                throw new ListenerBindException($"Cannot listen on [{vip.Address}]:{config.Port}: address already in use.");
            }
        }

        lock (_lock)
        {
            _applied.Add(config);
            _live[config.Id] = config;
        }

        return Task.CompletedTask;
    }

    public Task RemoveAsync(int loadBalancerId, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            _removed.Add(loadBalancerId);
            _live.Remove(loadBalancerId);
        }

        return Task.CompletedTask;
    }
}
